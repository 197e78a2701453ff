package harborimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Snapshot is what the import reads from Harbor's database, all in one
// repeatable-read, read-only transaction.
type Snapshot struct {
	// Props are Harbor's properties (k → v): auth_mode, robot_name_prefix,
	// ldap_*. Empty means Harbor's defaults.
	Props    map[string]string
	Users    []User
	Groups   []Group
	Projects []Project
	Members  []Member
	Robots   []Robot
}

// User is a harbor_user row.
type User struct {
	ID                              int64
	Name, Email, Realname, Comment  string
	Password, Salt, PasswordVersion string
	Admin, Deleted                  bool
	OIDC                            bool // has an oidc_user row
}

// Group is a user_group row; Type 1 LDAP, 2 HTTP, 3 OIDC.
type Group struct {
	ID   int64
	Name string
	Type int
	DN   string
}

// Project is a project row with its public flag from project_metadata.
type Project struct {
	ID      int64
	Name    string
	Deleted bool
	Public  bool
	Proxy   bool // registry_id set: a proxy-cache project
}

// Member is a project_member row: EntityType "u" (user_id) or "g" (user_group id).
type Member struct {
	ProjectID, EntityID int64
	EntityType          string
	Role                int
}

// Robot is a robot row with its permissions.
type Robot struct {
	ID                int64
	Name, Description string
	ProjectID         int64 // 0 for a system robot
	ExpiresAt         int64 // Unix seconds; -1 (or 0) never
	Disabled, Visible bool
	Secret, Salt      string
	Perms             []Perm
}

// Perm is a permission_policy row granted to a robot.
type Perm struct {
	Scope, Resource, Action, Effect string
}

// required lists the tables and columns each kind reads.
var required = map[string]map[string][]string{
	"users": {
		"harbor_user": {"user_id", "username", "email", "password", "realname", "comment", "deleted", "salt",
			"sysadmin_flag", "password_version"},
		"properties": {"k", "v"},
	},
	"groups":   {"user_group": {"id", "group_name", "group_type", "ldap_group_dn"}},
	"projects": {"project": {"project_id", "name", "deleted"}, "project_metadata": {"project_id", "name", "value"}},
	"members":  {"project_member": {"project_id", "entity_id", "entity_type", "role"}},
	"robots": {
		"robot":             {"id", "name", "description", "project_id", "expiresat", "disabled", "secret", "salt"},
		"role_permission":   {"role_type", "role_id", "permission_policy_id"},
		"permission_policy": {"id", "scope", "resource", "action", "effect"},
	},
}

// Read opens Harbor's database at dsn and reads what the kinds in only
// need (nil: every kind), in ONE repeatable-read, read-only transaction.
// It refuses, naming everything missing, when a table or column is not
// there.
func Read(ctx context.Context, dsn string, only map[string]bool) (*Snapshot, error) {
	if only == nil {
		only = allKinds()
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("harbor database: %w", err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("harbor database: begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	cols, err := columns(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(cols, only); err != nil {
		return nil, err
	}
	r := &reader{tx: tx, cols: cols, snap: &Snapshot{Props: map[string]string{}}}
	// Users and projects are read whatever is imported: members and robots
	// name them.
	steps := []func(context.Context) error{r.props, r.users, r.projects}
	if only["groups"] || only["members"] {
		steps = append(steps, r.groups)
	}
	if only["members"] {
		steps = append(steps, r.members)
	}
	if only["robots"] {
		steps = append(steps, r.robots)
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("harbor database: %w", err)
		}
	}
	return r.snap, nil
}

// columns maps "table.column" of the current schema to true.
func columns(ctx context.Context, tx pgx.Tx) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("harbor database: read its schema: %w", err)
	}
	cols := map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, fmt.Errorf("harbor database: read its schema: %w", err)
		}
		cols[t+"."+c] = true
	}
	return cols, rows.Err()
}

func checkSchema(cols map[string]bool, only map[string]bool) error {
	var missing []string
	for kind, tables := range required {
		if !only[kind] && kind != "users" && kind != "projects" {
			continue
		}
		for table, cs := range tables {
			for _, c := range cs {
				if !cols[table+"."+c] {
					missing = append(missing, table+"."+c)
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	return errors.New("this is not a Harbor database this import can read (Harbor 1.9 or later; robots need 2.2 or later): missing " +
		strings.Join(missing, ", "))
}

type reader struct {
	tx   pgx.Tx
	cols map[string]bool
	snap *Snapshot
}

func (r *reader) props(ctx context.Context) error {
	var k, v string
	return r.each(ctx, "properties", `SELECT k, COALESCE(v, '') FROM properties`, []any{&k, &v},
		func() { r.snap.Props[k] = v })
}

func (r *reader) users(ctx context.Context) error {
	oidc := `false`
	if r.cols["oidc_user.user_id"] {
		oidc = `EXISTS (SELECT 1 FROM oidc_user o WHERE o.user_id = u.user_id)`
	}
	var u User
	return r.each(ctx, "harbor_user", `SELECT user_id, username, COALESCE(email, ''), COALESCE(realname, ''),
		COALESCE(comment, ''), COALESCE(password, ''), COALESCE(salt, ''), COALESCE(password_version, ''),
		COALESCE(sysadmin_flag, false), COALESCE(deleted, false), `+oidc+`
		FROM harbor_user u ORDER BY user_id`,
		[]any{&u.ID, &u.Name, &u.Email, &u.Realname, &u.Comment, &u.Password, &u.Salt,
			&u.PasswordVersion, &u.Admin, &u.Deleted, &u.OIDC},
		func() { r.snap.Users = append(r.snap.Users, u) })
}

func (r *reader) projects(ctx context.Context) error {
	proxy := `false`
	if r.cols["project.registry_id"] {
		proxy = `COALESCE(p.registry_id, 0) <> 0`
	}
	var p Project
	return r.each(ctx, "project", `SELECT p.project_id, p.name, COALESCE(p.deleted, false),
		EXISTS (SELECT 1 FROM project_metadata m WHERE m.project_id = p.project_id AND m.name = 'public'
			AND lower(m.value) = 'true'), `+proxy+`
		FROM project p ORDER BY p.project_id`,
		[]any{&p.ID, &p.Name, &p.Deleted, &p.Public, &p.Proxy},
		func() { r.snap.Projects = append(r.snap.Projects, p) })
}

func (r *reader) groups(ctx context.Context) error {
	var g Group
	return r.each(ctx, "user_group", `SELECT id, group_name, COALESCE(group_type, 0), COALESCE(ldap_group_dn, '')
		FROM user_group ORDER BY id`,
		[]any{&g.ID, &g.Name, &g.Type, &g.DN},
		func() { r.snap.Groups = append(r.snap.Groups, g) })
}

func (r *reader) members(ctx context.Context) error {
	var m Member
	return r.each(ctx, "project_member", `SELECT project_id, entity_id, entity_type, role FROM project_member
		ORDER BY project_id, entity_type, entity_id`,
		[]any{&m.ProjectID, &m.EntityID, &m.EntityType, &m.Role},
		func() {
			m.EntityType = strings.TrimSpace(m.EntityType)
			r.snap.Members = append(r.snap.Members, m)
		})
}

func (r *reader) robots(ctx context.Context) error {
	visible := `true` // robot.visible came after the secret; before it every robot was visible
	if r.cols["robot.visible"] {
		visible = `COALESCE(visible, true)`
	}
	var b Robot
	byID := map[int64]int{}
	err := r.each(ctx, "robot", `SELECT id, COALESCE(name, ''), COALESCE(description, ''), COALESCE(project_id, 0),
		COALESCE(expiresat, -1), COALESCE(disabled, false), `+visible+`, COALESCE(secret, ''),
		COALESCE(salt, '') FROM robot ORDER BY id`,
		[]any{&b.ID, &b.Name, &b.Description, &b.ProjectID, &b.ExpiresAt, &b.Disabled, &b.Visible, &b.Secret, &b.Salt},
		func() {
			byID[b.ID] = len(r.snap.Robots)
			r.snap.Robots = append(r.snap.Robots, b)
		})
	if err != nil {
		return err
	}
	var id int64
	var p Perm
	return r.each(ctx, "robot permissions", `SELECT rp.role_id, pp.scope, COALESCE(pp.resource, ''), COALESCE(pp.action, ''),
		COALESCE(pp.effect, '') FROM role_permission rp JOIN permission_policy pp ON pp.id = rp.permission_policy_id
		WHERE rp.role_type = 'robot' ORDER BY rp.role_id, pp.id`,
		[]any{&id, &p.Scope, &p.Resource, &p.Action, &p.Effect},
		func() {
			if i, ok := byID[id]; ok {
				r.snap.Robots[i].Perms = append(r.snap.Robots[i].Perms, p)
			}
		})
}

// each runs query and calls row after each row is scanned into dest; its
// errors say what was being read.
func (r *reader) each(ctx context.Context, what, query string, dest []any, row func()) error {
	rows, err := r.tx.Query(ctx, query)
	if err == nil {
		_, err = pgx.ForEachRow(rows, dest, func() error { row(); return nil })
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}
