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

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
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
}

func (a *app) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}

	var admin, pwStdin bool
	var email string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a local user (password from --password-stdin or $AUTHSERVER_PASSWORD)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validName(args[0]); err != nil {
				return err
			}
			pw, err := a.readPassword(pwStdin)
			if err != nil {
				return err
			}
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				if strings.HasPrefix(args[0], cfg.Robots.Prefix) {
					return fmt.Errorf("name %q starts with the robot prefix %q: such logins are robots", args[0], cfg.Robots.Prefix)
				}
				hash, err := authn.HashPassword(pw, cfg.Passwords.BcryptCost)
				if err != nil {
					return err
				}
				u := store.User{Name: args[0], Email: email, PasswordHash: hash, Admin: admin, Source: store.SourceLocal}
				if err := st.CreateUser(ctx, &u); err != nil {
					return notFound(err, "user "+args[0])
				}
				fmt.Fprintf(a.stdout, "user %s created\n", u.Name)
				return nil
			})
		},
	}
	add.Flags().BoolVar(&admin, "admin", false, "make the user a sysadmin")
	add.Flags().StringVar(&email, "email", "", "email address")
	add.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")

	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a local user's password",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := a.readPassword(pwStdin)
			if err != nil {
				return err
			}
			return a.updateUser(cmd, args[0], "password changed (refresh tokens revoked)", func(cfg config.Config, u *store.User) error {
				if u.Source != store.SourceLocal {
					return fmt.Errorf("user %s comes from %s: its password is kept there", u.Name, u.Source)
				}
				hash, err := authn.HashPassword(pw, cfg.Passwords.BcryptCost)
				u.PasswordHash = hash
				return err
			})
		},
	}
	passwd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")

	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				users, err := st.ListUsers(ctx)
				if err != nil {
					return err
				}
				rows := make([][]string, len(users))
				items := make([]userJSON, len(users))
				for i, u := range users {
					rows[i] = []string{u.Name, u.Email, strconv.FormatBool(u.Admin), strconv.FormatBool(u.Disabled), u.Source, u.CreatedAt.UTC().Format(time.RFC3339)}
					items[i] = userJSON{u.Name, u.Email, u.DisplayName, u.Admin, u.Disabled, u.Source, u.CreatedAt.UTC()}
				}
				return a.printList([]string{"NAME", "EMAIL", "ADMIN", "DISABLED", "SOURCE", "CREATED"}, rows, items)
			})
		},
	}
	a.addOutputFlag(list)

	toggle := func(use, short, done string, disabled bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.updateUser(cmd, args[0], done, func(_ config.Config, u *store.User) error {
					u.Disabled = disabled
					return nil
				})
			},
		}
	}

	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a user and its memberships", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				if err := st.DeleteUser(ctx, args[0]); err != nil {
					return notFound(err, "user "+args[0])
				}
				fmt.Fprintf(a.stdout, "user %s deleted\n", args[0])
				return nil
			})
		},
	}

	var setAdmin bool
	set := &cobra.Command{
		Use: "set NAME --admin=true|false", Short: "Change a user's sysadmin flag", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("admin") {
				return errors.New("nothing to set: pass --admin=true or --admin=false")
			}
			return a.updateUser(cmd, args[0], "updated", func(_ config.Config, u *store.User) error {
				u.Admin = setAdmin
				return nil
			})
		},
	}
	set.Flags().BoolVar(&setAdmin, "admin", false, "sysadmin flag")

	cmd.AddCommand(add, passwd, list,
		toggle("disable", "Disable a user (its logins fail with 401; its refresh tokens are revoked)", "disabled (refresh tokens revoked)", true),
		toggle("enable", "Enable a disabled user", "enabled", false),
		del, set)
	return cmd
}

// updateUser loads a user, applies change and writes it back.
func (a *app) updateUser(cmd *cobra.Command, name, done string, change func(config.Config, *store.User) error) error {
	return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
		u, err := st.GetUser(ctx, name)
		if err != nil {
			return notFound(err, "user "+name)
		}
		if err := change(cfg, &u); err != nil {
			return err
		}
		if err := st.UpdateUser(ctx, u); err != nil {
			return notFound(err, "user "+name)
		}
		fmt.Fprintf(a.stdout, "user %s %s\n", name, done)
		return nil
	})
}

// validName checks a user, group or project name: printable, no spaces or
// colons (Basic credentials split at the first colon), at most 255 bytes.
func validName(name string) error {
	if name == "" || len(name) > 255 {
		return fmt.Errorf("name %q: want 1 to 255 characters", name)
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == ':' || r == 0x7f }) {
		return fmt.Errorf("name %q: spaces, colons and control characters are not allowed", name)
	}
	return nil
}
