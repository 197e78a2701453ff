package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// robotJSON is a robot in `robot list --output json`; never the secret.
type robotJSON struct {
	Name        string     `json:"name"`
	Project     string     `json:"project"`
	Actions     []string   `json:"actions"`
	Description string     `json:"description,omitempty"`
	Disabled    bool       `json:"disabled"`
	ExpiresAt   *time.Time `json:"expires_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

// secretJSON is what create and refresh-secret print with --output json.
type secretJSON struct {
	Name      string     `json:"name,omitempty"`
	User      string     `json:"user,omitempty"`
	Secret    string     `json:"secret"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// parseExpiry turns --expires ("30d", "12h", "never") into an expiry time
// from now; "never" (or "0") is the zero time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "never" || s == "0" {
		return time.Time{}, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--expires: %w (or never)", err)
	}
	if d <= 0 {
		return time.Time{}, errors.New("--expires: must be positive (or never)")
	}
	return now.Add(d).UTC().Truncate(time.Second), nil
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
	if a.output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if a.output != "table" && a.output != "" {
		return fmt.Errorf("--output %q: want table or json", a.output)
	}
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
}

// robotBare maps a robot name as typed (with or without the prefix) to the
// stored name.
func robotBare(cfg config.Config, name string) string {
	return strings.TrimPrefix(name, cfg.Robots.Prefix)
}

func (a *app) robotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "robot",
		Short: "Manage robot accounts (Harbor's model: a name, a secret, explicit actions on one project or all)",
		Long: `Robot accounts log in with their full name and secret (Basic or the password grant).
A project robot is named <prefix><project>+<NAME> ("robot$team+ci"); --project '*' makes a
system robot <prefix><NAME> that holds its actions on every project. push implies pull; a robot
is never a sysadmin and never lists the catalog. NAME arguments may be given with or without
the prefix (robots.prefix, default "robot$", which shells eat unless quoted).`,
	}

	var project, actions, expires, description string
	create := &cobra.Command{
		Use:   "create NAME --project P --actions pull,push[,delete]",
		Short: "Create a robot and print its secret once",
		Example: `  authserver robot create ci --project team --actions pull,push --expires 90d
  authserver robot create scanner --project '*' --actions pull --expires never --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			acts, err := authn.RobotActions(strings.Split(actions, ","))
			if err != nil {
				return err
			}
			exp, err := parseExpiry(expires, time.Now())
			if err != nil {
				return err
			}
			bare, err := authn.RobotName(project, args[0])
			if err != nil {
				return err
			}
			secret, err := authn.NewSecret("", false)
			if err != nil {
				return err
			}
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				r := store.Robot{Name: bare, Project: project, Actions: acts, Description: description,
					SecretHash: authn.HashSecret(secret), ExpiresAt: exp}
				if err := st.CreateRobot(ctx, &r); err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("project %s not found", project)
					}
					return notFound(err, "robot "+cfg.Robots.Prefix+bare)
				}
				return a.printSecret(secretJSON{Name: cfg.Robots.Prefix + bare, Secret: secret, ExpiresAt: optTime(exp)}, "robot secret")
			})
		},
	}
	create.Flags().StringVar(&project, "project", "", "project the robot acts on, or '*' for every project (system robot)")
	create.Flags().StringVar(&actions, "actions", "", "comma-separated: pull, push, delete (push implies pull)")
	create.Flags().StringVar(&expires, "expires", "30d", "lifetime (s, m, h, d units) or never")
	create.Flags().StringVar(&description, "description", "", "free text")
	_ = create.MarkFlagRequired("project")
	_ = create.MarkFlagRequired("actions")
	a.addOutputFlag(create)

	var listProject string
	list := &cobra.Command{
		Use:   "list [--project P]",
		Short: "List robots (all, those of one project, or '*' for system robots)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				robots, err := st.ListRobots(ctx, listProject)
				if err != nil {
					return err
				}
				now := time.Now()
				rows := make([][]string, len(robots))
				items := make([]robotJSON, len(robots))
				for i, r := range robots {
					state := "enabled"
					switch {
					case r.Disabled:
						state = "disabled"
					case !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt):
						state = "expired"
					}
					rows[i] = []string{cfg.Robots.Prefix + r.Name, r.Project, strings.Join(r.Actions, ","), state,
						fmtOptTime(r.ExpiresAt, "never"), r.CreatedAt.UTC().Format(time.RFC3339), r.Description}
					items[i] = robotJSON{cfg.Robots.Prefix + r.Name, r.Project, r.Actions, r.Description, r.Disabled, optTime(r.ExpiresAt), r.CreatedAt.UTC()}
				}
				return a.printList([]string{"NAME", "PROJECT", "ACTIONS", "STATE", "EXPIRES", "CREATED", "DESCRIPTION"}, rows, items)
			})
		},
	}
	list.Flags().StringVar(&listProject, "project", "", "only this project's robots ('*': system robots)")
	a.addOutputFlag(list)

	var setExpires, setDescription, setActions string
	set := &cobra.Command{
		Use:   "set NAME [--expires D|never] [--actions a,b] [--description T]",
		Short: "Renew a robot's expiry, or change its actions or description (the secret stays)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !f.Changed("expires") && !f.Changed("actions") && !f.Changed("description") {
				return errors.New("nothing to set: pass --expires, --actions or --description")
			}
			return a.updateRobotAndSay(cmd, args[0], "updated", func(r *store.Robot) error {
				var err error
				if f.Changed("expires") {
					if r.ExpiresAt, err = parseExpiry(setExpires, time.Now()); err != nil {
						return err
					}
				}
				if f.Changed("actions") {
					if r.Actions, err = authn.RobotActions(strings.Split(setActions, ",")); err != nil {
						return err
					}
				}
				if f.Changed("description") {
					r.Description = setDescription
				}
				return nil
			})
		},
	}
	set.Flags().StringVar(&setExpires, "expires", "", "new lifetime from now (s, m, h, d units) or never")
	set.Flags().StringVar(&setActions, "actions", "", "new actions: pull, push, delete")
	set.Flags().StringVar(&setDescription, "description", "", "new description")

	toggle := func(use, short, done string, disabled bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.updateRobotAndSay(cmd, args[0], done, func(r *store.Robot) error {
					r.Disabled = disabled
					return nil
				})
			},
		}
	}

	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a robot", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				bare := robotBare(cfg, args[0])
				if err := st.DeleteRobot(ctx, bare); err != nil {
					return notFound(err, "robot "+cfg.Robots.Prefix+bare)
				}
				fmt.Fprintf(a.stdout, "robot %s deleted\n", cfg.Robots.Prefix+bare)
				return nil
			})
		},
	}

	refresh := &cobra.Command{
		Use:   "refresh-secret NAME",
		Short: "Give a robot a new secret (printed once); the old one stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			secret, err := authn.NewSecret("", false)
			if err != nil {
				return err
			}
			r, full, err := a.updateRobot(cmd, args[0], func(r *store.Robot) error {
				r.SecretHash = authn.HashSecret(secret)
				return nil
			})
			if err != nil {
				return err
			}
			return a.printSecret(secretJSON{Name: full, Secret: secret, ExpiresAt: optTime(r.ExpiresAt)}, "robot secret")
		},
	}
	a.addOutputFlag(refresh)

	cmd.AddCommand(create, list, set,
		toggle("disable", "Disable a robot (its logins fail with 401)", "disabled", true),
		toggle("enable", "Enable a disabled robot", "enabled", false),
		del, refresh)
	return cmd
}

// updateRobot loads a robot by name (prefix optional), applies change and
// writes it back. It returns the robot as written and its full name.
func (a *app) updateRobot(cmd *cobra.Command, name string, change func(*store.Robot) error) (store.Robot, string, error) {
	var r store.Robot
	var full string
	err := a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
		bare := robotBare(cfg, name)
		full = cfg.Robots.Prefix + bare
		var err error
		if r, err = st.GetRobot(ctx, bare); err != nil {
			return notFound(err, "robot "+full)
		}
		if err := change(&r); err != nil {
			return err
		}
		return notFound(st.UpdateRobot(ctx, r), "robot "+full)
	})
	return r, full, err
}

// updateRobotAndSay is updateRobot followed by "robot NAME <done>".
func (a *app) updateRobotAndSay(cmd *cobra.Command, name, done string, change func(*store.Robot) error) error {
	_, full, err := a.updateRobot(cmd, name, change)
	if err == nil {
		fmt.Fprintf(a.stdout, "robot %s %s\n", full, done)
	}
	return err
}
