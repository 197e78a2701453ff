package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

// robotJSON is a robot in `robot list --output json`; never the secret.
type robotJSON struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	// Actions are those of a robot with one permission (every project
	// robot); Permissions list them all.
	Actions     []string         `json:"actions,omitempty"`
	Permissions []permissionJSON `json:"permissions"`
	Description string           `json:"description,omitempty"`
	Disabled    bool             `json:"disabled"`
	ExpiresAt   *time.Time       `json:"expires_at"`
	CreatedAt   time.Time        `json:"created_at"`
	// Trust is a federated robot's trust policy (it has no secret).
	Trust *admin.Trust `json:"trust,omitempty"`
	// Repos, AllowFrom and TokenLifetime (seconds) are its policy beyond
	// Harbor's (issue 24).
	Repos         []string `json:"repos,omitempty"`
	AllowFrom     []string `json:"allow_from,omitempty"`
	TokenLifetime int64    `json:"token_lifetime,omitempty"`
}

// permissionJSON is one of a robot's permissions: actions on a project,
// or on every project ("*").
type permissionJSON struct {
	Project string   `json:"project"`
	Actions []string `json:"actions"`
}

// toRobotJSON is r for --output json.
func toRobotJSON(r admin.Robot) robotJSON {
	out := robotJSON{Name: r.Login, Project: r.Project, Description: r.Description, Disabled: r.Disabled,
		ExpiresAt: optTime(r.ExpiresAt), CreatedAt: r.CreatedAt.UTC(), Trust: admin.TrustOf(r), Permissions: []permissionJSON{},
		Repos: r.Repos, AllowFrom: r.AllowFrom, TokenLifetime: int64(r.TokenLifetime / time.Second)}
	for _, p := range r.Permissions {
		out.Permissions = append(out.Permissions, permissionJSON{p.Project, p.Actions})
	}
	if len(r.Permissions) == 1 {
		out.Actions = r.Permissions[0].Actions
	}
	return out
}

// parsePermissions reads repeated --permission PROJECT:ACTIONS flags.
func parsePermissions(flags []string) ([]admin.RobotPermission, error) {
	return parseEach(flags, admin.ParsePermission, func(f string) string { return fmt.Sprintf("--permission %q", f) })
}

// parseEach parses each flag value with parse; an error is prefixed with
// flag(value).
func parseEach[T any](values []string, parse func(string) (T, error), flag func(string) string) ([]T, error) {
	var out []T
	for _, v := range values {
		x, err := parse(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag(v), err)
		}
		out = append(out, x)
	}
	return out, nil
}

// secretJSON is what create and refresh-secret print with --output json.
type secretJSON struct {
	Name      string     `json:"name,omitempty"`
	User      string     `json:"user,omitempty"`
	Secret    string     `json:"secret"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// parseLifetime reads --expires ("30d", "12h", "never").
func parseLifetime(s string) (time.Duration, error) {
	d, err := admin.ParseLifetime(s)
	if err != nil {
		return 0, fmt.Errorf("--expires: %w", err)
	}
	return d, nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func fmtOptTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}

// printSecret shows a new secret once: JSON with --output json, else text
// with a warning. Secrets go to stdout only, never to a log.
func (a *app) printSecret(out secretJSON, what string) error {
	return a.printAs(out, func() error {
		if out.Name != "" {
			fmt.Fprintf(a.stdout, "name:    %s\n", out.Name)
		}
		fmt.Fprintf(a.stdout, "secret:  %s\n", out.Secret)
		exp := "never"
		if out.ExpiresAt != nil {
			exp = out.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(a.stdout, "expires: %s\n\nThe %s is shown only this once: store it now.\n", exp, what)
		return nil
	})
}

func (a *app) robotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "robot",
		Short: "Manage robot accounts (Harbor's model: a name, a secret, explicit actions per project, or on all)",
		Long: `Robot accounts log in with their full name and secret (Basic or the password grant).
A project robot is named <prefix><project>+<NAME> ("robot$team+ci"); --project '*' makes a
system robot <prefix><NAME> that holds its actions on every project, and repeated
--permission PROJECT:ACTIONS a system robot with its own actions on each project named
(PROJECT '*' for every project), as Harbor's system robots. push implies pull; a robot
is never a sysadmin and never lists the catalog. NAME arguments may be given with or without
the prefix (robots.prefix, default "robot$", which shells eat unless quoted).`,
	}

	var project, actions, expires, description, federate, repos, allowFrom, tokenLifetime string
	var claims, permissions []string
	create := &cobra.Command{
		Use:   "create NAME (--project P --actions pull,push[,delete] | --permission P:ACTIONS...) [--federate ISSUER --claim KEY=PATTERN...]",
		Short: "Create a robot and print its secret once (a federated robot has no secret)",
		Example: `  authserver robot create ci --project team --actions pull,push --expires 90d
  authserver robot create scanner --project '*' --actions pull --expires never --output json
  authserver robot create deployer --permission team:pull,push --permission web:pull
  authserver robot create gh --project team --actions pull,push --federate github \
    --claim repository=org/app --claim 'ref=refs/heads/*'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			life, err := parseLifetime(expires)
			if err != nil {
				return err
			}
			lifetime, err := admin.ParseTokenLifetime(tokenLifetime)
			if err != nil {
				return err
			}
			nr := admin.NewRobot{Name: args[0], Project: project, Description: description, Lifetime: life,
				Repos: admin.SplitList(repos), AllowFrom: admin.SplitList(allowFrom), TokenLifetime: lifetime}
			switch f := cmd.Flags(); {
			case f.Changed("permission"):
				if f.Changed("actions") || (project != "" && project != admin.SystemRobotProject) {
					return errors.New("--permission makes a system robot: give it without --actions, and --project only as '*'")
				}
				nr.Project = admin.SystemRobotProject
				if nr.Permissions, err = parsePermissions(permissions); err != nil {
					return err
				}
			case !f.Changed("project") || !f.Changed("actions"):
				return errors.New("give --project and --actions, or --permission PROJECT:ACTIONS (repeatable)")
			default:
				nr.Actions = strings.Split(actions, ",")
			}
			if nr.Trust, err = trustFlags(cmd, federate, claims); err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
				r, secret, err := adm.CreateRobot(ctx, cli, nr)
				if err != nil || nr.Trust != nil {
					return a.printFederated(err, r)
				}
				return a.printSecret(secretJSON{Name: r.Login, Secret: secret, ExpiresAt: optTime(r.ExpiresAt)}, "robot secret")
			})
		},
	}
	create.Flags().StringVar(&federate, "federate", "", "make a federated robot trusting this issuer of federation.issuers (no secret)")
	create.Flags().StringArrayVar(&claims, "claim", nil, "with --federate: a condition CLAIM=PATTERN on the JWT (repeatable, all must hold)")
	create.Flags().StringVar(&project, "project", "", "project the robot acts on, or '*' for every project (system robot)")
	create.Flags().StringVar(&actions, "actions", "", "comma-separated: pull, push, delete (push implies pull)")
	create.Flags().StringVar(&expires, "expires", "", "lifetime (s, m, h, d units) or never; default robots.default_duration (30d)")
	create.Flags().StringVar(&description, "description", "", "free text")
	create.Flags().StringArrayVar(&permissions, "permission", nil, "a system robot's actions on one project, PROJECT:ACTIONS ('*': every project; repeatable)")
	policyFlags := func(c *cobra.Command, repos, allowFrom, lifetime *string) {
		c.Flags().StringVar(repos, "repos", "", "limit a project robot to these repository patterns of its project, comma-separated ('app-*', 'base/**'); '' none")
		c.Flags().StringVar(allowFrom, "allow-from", "", "networks its logins may come from, comma-separated CIDRs (10.0.0.0/8,192.0.2.7); '' anywhere")
		c.Flags().StringVar(lifetime, "token-lifetime", "", "lifetime of its tokens (e.g. 4h; at most token.max_expiration); default the configured one")
	}
	policyFlags(create, &repos, &allowFrom, &tokenLifetime)
	a.addOutputFlag(create)

	var listProject string
	list := a.adminCmd("list [--project P]", "List robots (all, those of one project, or '*' for system robots)", func(ctx context.Context, adm *admin.Service) error {
		robots, err := adm.ListRobots(ctx, cli, listProject)
		now := time.Now()
		return printEach(a, err, []string{"NAME", "PROJECT", "ACTIONS", "STATE", "EXPIRES", "CREATED", "TRUST", "REPOS", "ALLOW_FROM",
			"TOKEN_LIFETIME", "DESCRIPTION"}, robots, func(r admin.Robot) ([]string, robotJSON) {
			life := "default"
			if r.TokenLifetime > 0 {
				life = r.TokenLifetime.String()
			}
			return []string{r.Login, r.Project, r.PermissionsText(), r.State(now), fmtOptTime(r.ExpiresAt, "never"),
				r.CreatedAt.UTC().Format(time.RFC3339), admin.TrustText(r.Trust), orAll(strings.Join(r.Repos, ","), "*"),
				orAll(strings.Join(r.AllowFrom, ","), "anywhere"), life, r.Description}, toRobotJSON(r)
		})
	})
	list.Flags().StringVar(&listProject, "project", "", "only this project's robots ('*': system robots)")
	a.addOutputFlag(list)

	var setExpires, setDescription, setActions, setRepos, setAllowFrom, setTokenLifetime string
	var setClaims, setPermissions []string
	set := &cobra.Command{
		Use:   "set NAME [--expires D|never] [--actions a,b] [--description T] [--claim KEY=PATTERN...]",
		Short: "Renew a robot's expiry, or change its actions, description or (federated robots) conditions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if f.Changed("claim") {
				if f.Changed("expires") || f.Changed("actions") || f.Changed("description") || f.Changed("permission") {
					return errors.New("--claim replaces the trust policy's conditions: set it on its own")
				}
				return a.setTrust(cmd, args[0], setClaims)
			}
			if !f.Changed("expires") && !f.Changed("actions") && !f.Changed("description") && !f.Changed("permission") &&
				!f.Changed("repos") && !f.Changed("allow-from") && !f.Changed("token-lifetime") {
				return errors.New("nothing to set: pass --expires, --actions, --permission, --description, --repos, --allow-from, " +
					"--token-lifetime or --claim")
			}
			var ch admin.RobotChange
			if f.Changed("repos") {
				v := admin.SplitList(setRepos)
				ch.Repos = &v
			}
			if f.Changed("allow-from") {
				v := admin.SplitList(setAllowFrom)
				ch.AllowFrom = &v
			}
			if f.Changed("token-lifetime") {
				d, err := admin.ParseTokenLifetime(setTokenLifetime)
				if err != nil {
					return err
				}
				ch.TokenLifetime = &d
			}
			if f.Changed("expires") {
				life, err := parseLifetime(setExpires)
				if err != nil {
					return err
				}
				ch.Lifetime = &life
			}
			if f.Changed("actions") {
				ch.Actions = strings.Split(setActions, ",")
			}
			if f.Changed("permission") {
				var err error
				if ch.Permissions, err = parsePermissions(setPermissions); err != nil {
					return err
				}
			}
			if f.Changed("description") {
				ch.Description = &setDescription
			}
			return a.updateRobot(cmd, args[0], "updated", ch)
		},
	}
	set.Flags().StringVar(&setExpires, "expires", "", "new lifetime from now (s, m, h, d units) or never")
	set.Flags().StringVar(&setActions, "actions", "", "new actions: pull, push, delete (a robot with one permission)")
	set.Flags().StringArrayVar(&setPermissions, "permission", nil, "a system robot's new permissions PROJECT:ACTIONS (repeatable; replaces them all)")
	set.Flags().StringVar(&setDescription, "description", "", "new description")
	set.Flags().StringArrayVar(&setClaims, "claim", nil, "a federated robot's new conditions CLAIM=PATTERN (repeatable; replaces them all)")
	policyFlags(set, &setRepos, &setAllowFrom, &setTokenLifetime)

	setDisabled := func(cmd *cobra.Command, name, done string, disabled bool) error {
		return a.updateRobot(cmd, name, done, admin.RobotChange{Disabled: &disabled})
	}

	del := a.adminArgsCmd("delete NAME", "Delete a robot", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		r, err := adm.FindRobot(ctx, cli, args[0])
		if err == nil {
			r, err = adm.DeleteRobot(ctx, cli, r.ID)
		}
		return a.say(err, "robot %s deleted\n", r.Login)
	})

	refresh := a.adminArgsCmd("refresh-secret NAME", "Give a robot a new secret (printed once); the old one stops working at once", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		r, err := adm.FindRobot(ctx, cli, args[0])
		if err != nil {
			return err
		}
		r, secret, err := adm.RefreshRobotSecret(ctx, cli, r.ID)
		if err != nil {
			return err
		}
		return a.printSecret(secretJSON{Name: r.Login, Secret: secret, ExpiresAt: optTime(r.ExpiresAt)}, "robot secret")
	})
	a.addOutputFlag(refresh)

	cmd.AddCommand(create, list, set,
		toggleCmd("disable", "Disable a robot (its logins fail with 401)", "disabled", true, setDisabled),
		toggleCmd("enable", "Enable a disabled robot", "enabled", false, setDisabled),
		del, refresh)
	return cmd
}

// orAll is s, or all when s is empty.
func orAll(s, all string) string {
	if s == "" {
		return all
	}
	return s
}

// updateRobot applies ch to a robot and says "robot NAME <done>".
func (a *app) updateRobot(cmd *cobra.Command, name, done string, ch admin.RobotChange) error {
	return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
		r, err := adm.FindRobot(ctx, cli, name)
		if err == nil {
			r, err = adm.UpdateRobot(ctx, cli, r.ID, ch)
		}
		return a.say(err, "robot %s %s\n", r.Login, done)
	})
}
