package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

// readPassword takes the password from the first line of stdin when
// fromStdin is set, else from $AUTHSERVER_PASSWORD.
func (a *app) readPassword(fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("empty password on stdin")
		}
		return pw, nil
	}
	pw := os.Getenv("AUTHSERVER_PASSWORD")
	if pw == "" {
		return "", errors.New("no password: pass --password-stdin or set $AUTHSERVER_PASSWORD")
	}
	return pw, nil
}

type userJSON struct {
	Name        string    `json:"name"`
	Email       string    `json:"email,omitempty"`
	DisplayName string    `json:"display_name,omitempty"`
	Admin       bool      `json:"admin"`
	Disabled    bool      `json:"disabled"`
	Source      string    `json:"source"`
	CreatedAt   time.Time `json:"created_at"`
	// Password is the kind of stored hash: bcrypt, an imported Harbor
	// hash until its first login, or none.
	Password string `json:"password"`
	// DirectoryID is an LDAP user's directory entry identifier, in the
	// server's own form (authn.EntryIDText).
	DirectoryID string `json:"directory_id,omitempty"`
}

func (a *app) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}

	var isAdmin, pwStdin bool
	var email string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a local user (password from --password-stdin or $AUTHSERVER_PASSWORD)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := admin.ValidName(args[0]); err != nil {
				return err // before asking for a password
			}
			pw, err := a.readPassword(pwStdin)
			if err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
				u, err := adm.CreateUser(ctx, cli, admin.NewUser{Name: args[0], Email: email, Password: pw, Admin: isAdmin})
				if err == nil {
					fmt.Fprintf(a.stdout, "user %s created\n", u.Name)
				}
				return err
			})
		},
	}
	add.Flags().BoolVar(&isAdmin, "admin", false, "make the user a sysadmin")
	add.Flags().StringVar(&email, "email", "", "email address")
	add.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")

	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Reset a local user's password (revokes its refresh and personal access tokens)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := a.readPassword(pwStdin)
			if err != nil {
				return err
			}
			return a.updateUser(cmd, args[0], "password changed (refresh tokens and personal access tokens revoked)", admin.UserChange{Password: &pw})
		},
	}
	passwd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")

	list := a.adminCmd("list", "List users", func(ctx context.Context, adm *admin.Service) error {
		users, err := adm.ListUsers(ctx, cli)
		ids := map[string]string{}
		for _, u := range users {
			if u.Source == admin.SourceLDAP {
				if id, err := adm.DirectoryID(ctx, cli, u.Name); err == nil {
					ids[u.Name] = id
				}
			}
		}
		return printEach(a, err, []string{"NAME", "EMAIL", "ADMIN", "DISABLED", "SOURCE", "CREATED", "PASSWORD", "DIRECTORY ID"}, users, func(u admin.User) ([]string, userJSON) {
			kind := admin.PasswordKind(u)
			return []string{u.Name, u.Email, strconv.FormatBool(u.Admin), strconv.FormatBool(u.Disabled), u.Source, u.CreatedAt.UTC().Format(time.RFC3339), kind, ids[u.Name]},
				userJSON{u.Name, u.Email, u.DisplayName, u.Admin, u.Disabled, u.Source, u.CreatedAt.UTC(), kind, ids[u.Name]}
		})
	})
	a.addOutputFlag(list)

	// --force lets the last sysadmin go (whoever runs the CLI can make
	// another one); without it the CLI refuses as the API does.
	var force bool
	forceFlag := func(c *cobra.Command) *cobra.Command {
		c.Flags().BoolVar(&force, "force", false, "even when this is the last sysadmin (a single-admin install)")
		return c
	}
	setDisabled := func(cmd *cobra.Command, name, done string, disabled bool) error {
		return a.updateUser(cmd, name, done, admin.UserChange{Disabled: &disabled, Force: force && disabled})
	}

	del := a.adminArgsCmd("delete NAME", "Delete a user and its memberships", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		u, err := adm.FindUser(ctx, cli, args[0])
		if err == nil {
			u, err = adm.DeleteUser(ctx, cli, u.ID, force)
		}
		return a.say(err, "user %s deleted\n", u.Name)
	})

	var setAdmin bool
	var setAllowFrom string
	set := &cobra.Command{
		Use: "set NAME [--admin=true|false] [--allow-from CIDR,...]", Short: "Change a user's sysadmin flag, or the networks it may log in from",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if !f.Changed("admin") && !f.Changed("allow-from") {
				return errors.New("nothing to set: pass --admin=true|false or --allow-from CIDR,... ('' for anywhere)")
			}
			if f.Changed("admin") {
				if err := a.updateUser(cmd, args[0], "updated", admin.UserChange{Admin: &setAdmin, Force: force && !setAdmin}); err != nil {
					return err
				}
			}
			if !f.Changed("allow-from") {
				return nil
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
				u, err := adm.SetUserAllowFrom(ctx, cli, args[0], admin.SplitList(setAllowFrom))
				return a.say(err, "user %s may log in from %s\n", u.Name, orAll(strings.Join(u.AllowFrom, ", "), "anywhere"))
			})
		},
	}
	set.Flags().BoolVar(&setAdmin, "admin", false, "sysadmin flag")
	set.Flags().StringVar(&setAllowFrom, "allow-from", "", "networks the user's logins (password, tokens) may come from, comma-separated CIDRs; '' anywhere")

	cmd.AddCommand(add, passwd, list,
		forceFlag(toggleCmd("disable", "Disable a user (its logins fail with 401; its refresh and personal access tokens are revoked)",
			"disabled (refresh tokens and personal access tokens revoked)", true, setDisabled)),
		toggleCmd("enable", "Enable a disabled user", "enabled", false, setDisabled),
		forceFlag(del), forceFlag(set))
	return cmd
}

// updateUser applies ch and says "user NAME <done>".
func (a *app) updateUser(cmd *cobra.Command, name, done string, ch admin.UserChange) error {
	return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
		u, err := adm.FindUser(ctx, cli, name)
		if err == nil {
			u, err = adm.UpdateUser(ctx, cli, u.ID, ch)
		}
		return a.say(err, "user %s %s\n", u.Name, done)
	})
}

// say prints the message when err is nil, and returns err.
func (a *app) say(err error, format string, args ...any) error {
	if err == nil {
		fmt.Fprintf(a.stdout, format, args...)
	}
	return err
}
