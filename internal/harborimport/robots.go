package harborimport

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
)

// robotPlan is what a Harbor robot becomes.
type robotPlan struct {
	name    string // authserver's own name, without project or prefix
	project string // a project name, or store.SystemRobotProject
	perms   []store.RobotPermission
	system  []store.RobotAccess // a system robot's entries of scope /system (Harbor's kind system)
	dropped []string            // scopes of projects that are not imported
	hash    string              // "" when Harbor has no secret
	expires time.Time
	skip    string
}

// repositoryActions are the permissions that matter to the registry.
var repositoryActions = map[string]bool{"pull": true, "push": true, "delete": true}

// access is what a robot holds in one scope: repository actions, and
// every other entry as given (kept, granting nothing).
type access struct {
	actions []string
	other   []store.RobotAccess
}

// scopeAccess groups a robot's entries by scope.
func scopeAccess(perms []Perm) map[string]access {
	out := map[string]access{}
	for _, p := range perms {
		a := out[p.Scope]
		switch {
		case p.Resource == "repository" && repositoryActions[p.Action] && (p.Effect == "" || p.Effect == "allow"):
			if !slices.Contains(a.actions, p.Action) {
				a.actions = append(a.actions, p.Action)
			}
		default:
			a.other = append(a.other, store.RobotAccess{Resource: p.Resource, Action: p.Action, Effect: p.Effect})
		}
		out[p.Scope] = a
	}
	return out
}

func (im *importer) planRobot(b Robot) robotPlan {
	var p robotPlan
	if !b.Visible {
		p.skip = "invisible (Harbor-internal) robot"
		return p
	}
	bare := strings.TrimPrefix(b.Name, harborPrefix(im.snap.Props)) // 1.x stored the prefix
	scopes := scopeAccess(b.Perms)
	if b.ProjectID > 0 {
		proj, ok := im.projects[b.ProjectID]
		if !ok {
			p.skip = "its project is not imported"
			return p
		}
		p.project = proj
		p.name, _ = strings.CutPrefix(bare, proj+"+")
		scopes = map[string]access{proj: scopes["/project/"+strconv.FormatInt(b.ProjectID, 10)]}
	} else {
		// A system robot: "/project/*" is every project, "/project/<id>"
		// one project each, with its own actions; "/system" Harbor's own
		// resources (kind system), kept.
		p.project, p.name = store.SystemRobotProject, bare
		named := map[string]access{}
		for scope, acc := range scopes {
			id, err := strconv.ParseInt(strings.TrimPrefix(scope, "/project/"), 10, 64)
			switch proj, ok := im.projects[id]; {
			case scope == "/system":
				p.system = acc.other
			case scope == "/project/*":
				named[store.SystemRobotProject] = acc
			case err == nil && ok:
				named[proj] = acc
			default:
				p.dropped = append(p.dropped, scope)
			}
		}
		slices.Sort(p.dropped)
		scopes = named
	}
	for _, project := range slices.Sorted(maps.Keys(scopes)) {
		acc := scopes[project]
		acts, err := secret.RobotActions(acc.actions)
		if err != nil || len(acc.actions) == 0 {
			acts = nil
		}
		if len(acts) > 0 || len(acc.other) > 0 {
			p.perms = append(p.perms, store.RobotPermission{Project: project, Actions: acts, Other: acc.other})
		}
	}
	if len(p.perms) == 0 {
		p.skip = "no access on imported projects"
		return p
	}
	if b.ExpiresAt > 0 {
		p.expires = time.Unix(b.ExpiresAt, 0).UTC()
	}
	if b.Secret != "" {
		var err error
		if p.hash, err = secret.HarborSecretHash(b.Salt, b.Secret); err != nil {
			p.skip = "secret: " + err.Error()
		}
	}
	return p
}

func (im *importer) importRobots(ctx context.Context) error {
	if !im.opt.Only["robots"] {
		return nil
	}
	now := time.Now()
	for _, b := range im.snap.Robots {
		p := im.planRobot(b)
		login := im.opt.RobotPrefix + b.Name
		if p.skip == "" {
			bare, err := secret.RobotName(p.project, p.name)
			if err != nil {
				p.skip = err.Error()
			}
			login = im.opt.RobotPrefix + bare
		}
		if p.skip != "" {
			im.add("robots", login, Skipped, p.skip)
			continue
		}
		var on []string
		for _, perm := range p.perms {
			what := cmp.Or(strings.Join(perm.Actions, ","), "no actions") + " on " + perm.Project
			if len(perm.Other) > 0 {
				what += fmt.Sprintf(" (+%d other access entries, granting nothing)", len(perm.Other))
			}
			on = append(on, what)
		}
		if len(p.system) > 0 {
			on = append(on, fmt.Sprintf("%d access entries of kind system (granting nothing)", len(p.system)))
		}
		detail := strings.Join(on, "; ")
		if len(p.dropped) > 0 {
			detail += "; not on " + strings.Join(p.dropped, ", ") + " (projects not imported)"
		}
		switch {
		case p.hash == "":
			detail += "; no secret in Harbor (a robot from before 2.2): disabled, `authserver robot refresh-secret` revives it"
		case b.Disabled:
			detail += "; disabled"
		}
		if !p.expires.IsZero() && !now.Before(p.expires) {
			detail += "; expired " + p.expires.Format(time.RFC3339)
		}
		if err := im.importRobot(ctx, b, p, login, detail); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) importRobot(ctx context.Context, b Robot, p robotPlan, login, detail string) error {
	cur, err := im.adm.FindRobot(ctx, im.who, login)
	if isNotFound(err) {
		_, err := im.write("robots", login, Created, detail, func() error {
			// Without a Harbor secret, admin makes a random one that is
			// never shown: the robot stays unusable until refreshed.
			// Harbor's expiry as it is: never stays never (no default).
			_, _, err := im.adm.CreateRobot(ctx, im.who, admin.NewRobot{Name: p.name, Project: p.project,
				Permissions: p.perms, SystemAccess: p.system, Description: b.Description, Lifetime: admin.Never, ExpiresAt: p.expires, SecretHash: p.hash,
				Disabled: b.Disabled || p.hash == ""})
			return err
		})
		return err
	}
	if err != nil {
		return err
	}
	if cur.Project != p.project {
		im.add("robots", login, Skipped, fmt.Sprintf("exists in authserver for project %q, Harbor's is for %q", cur.Project, p.project))
		return nil
	}
	var ch admin.RobotChange
	var d diff
	if !slices.EqualFunc(cur.Permissions, p.perms, func(a, b store.RobotPermission) bool {
		return a.Project == b.Project && slices.Equal(a.Actions, b.Actions) && slices.Equal(a.Other, b.Other)
	}) {
		ch.Permissions = p.perms
		d.check("permissions", true)
	}
	if !slices.Equal(cur.SystemAccess, p.system) {
		ch.SystemAccess = &p.system
		d.check("system access", true)
	}
	if cur.Description != b.Description {
		ch.Description = &b.Description
		d.check("description", true)
	}
	if !cur.ExpiresAt.Equal(p.expires) {
		ch.ExpiresAt = &p.expires
		d.check("expiry", true)
	}
	// Without a Harbor secret the robot's secret and state are
	// authserver's (refreshed and enabled there, or not); so is a secret
	// refreshed in authserver (no longer a Harbor hash).
	if p.hash != "" {
		if cur.SecretHash != p.hash && secret.IsHarborHash(cur.SecretHash) {
			ch.SecretHash = &p.hash
			d.check("secret", true)
		}
		if cur.Disabled != b.Disabled {
			ch.Disabled = &b.Disabled
			d.check("disabled", true)
		}
	}
	if len(d) == 0 {
		im.add("robots", login, Unchanged, detail)
		return nil
	}
	_, err = im.write("robots", login, Updated, d.String(), func() error {
		_, err := im.adm.UpdateRobot(ctx, im.who, cur.ID, ch)
		return err
	})
	return err
}
