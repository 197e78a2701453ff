package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
	authapp "github.com/authserver/authserver/internal/app"
)

func (a *app) ldapCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ldap", Short: "Check the LDAP / Active Directory configuration"}
	var user string
	var pwStdin bool
	test := &cobra.Command{
		Use:   "test --user NAME [--password-stdin]",
		Short: "Walk through a login step by step: DN found, bind, groups, sysadmin, time per step",
		Long: `Walk through an LDAP login with the configured settings, on fresh
connections and without the cache, printing what each step found and how
long it took. The password comes from --password-stdin or
$AUTHSERVER_PASSWORD; without one, the bind is skipped and the groups are
read with the search account.`,
		Example: `  echo "$PASSWORD" | authserver ldap test --user alice --password-stdin
  authserver ldap test --user alice      # search only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			pw := ""
			if pwStdin || os.Getenv("AUTHSERVER_PASSWORD") != "" {
				if pw, err = a.readPassword(pwStdin); err != nil {
					return err
				}
			}
			return a.ldapTest(cmd.Context(), cfg, user, pw)
		},
	}
	test.Flags().StringVar(&user, "user", "", "username to log in as")
	test.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of stdin")
	_ = test.MarkFlagRequired("user")
	cmd.AddCommand(test)
	return cmd
}

func (a *app) ldapTest(ctx context.Context, cfg authapp.Config, user, pw string) error {
	dir, err := authapp.Directory(cfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	w := a.stdout
	fmt.Fprintf(w, "ldap %s, users under %s, groups under %s\n", cfg.LDAP.URL, cfg.LDAP.UserSearch.BaseDN, cfg.LDAP.GroupSearch.BaseDN)
	if admin.IsBootstrapAdmin(user) {
		fmt.Fprintf(w, "note: %q is always a local account; authserver never sends it to the directory\n", user)
	} else if adm, err := authapp.OpenAdmin(ctx, cfg, false); err == nil {
		if u, err := adm.FindUser(ctx, cli, user); err == nil && u.Source != admin.SourceLDAP {
			fmt.Fprintf(w, "note: %s is a %s user in authserver: its logins are checked locally, not in the directory\n", user, u.Source)
		} else if err == nil && u.Disabled {
			fmt.Fprintf(w, "note: %s is disabled in authserver: its logins get 401 whatever the directory says\n", user)
		}
		adm.Close()
	}
	d, err := dir.Diagnose(ctx, user, pw)
	var total time.Duration
	for _, s := range d.Steps {
		total += s.Took
		detail := s.Detail
		if s.Err != nil {
			detail = "FAILED: " + s.Err.Error()
		}
		fmt.Fprintf(w, "  %-32s %9s  %s\n", s.Name, s.Took.Round(10*time.Microsecond), detail)
	}
	fmt.Fprintf(w, "  %-32s %9s\n", "total", total.Round(10*time.Microsecond))
	if err != nil {
		return fmt.Errorf("ldap test: %w", err)
	}
	if !d.Found {
		return fmt.Errorf("ldap test: no single entry for %q: logins as this user get 401", user)
	}
	fmt.Fprintf(w, "user:     %s\n", d.User.Name)
	fmt.Fprintf(w, "dn:       %s\n", d.User.DN)
	fmt.Fprintf(w, "entry id: %s\n", admin.DirectoryIDText(d.User.EntryID))
	if !d.User.PasswordChangedAt.IsZero() {
		fmt.Fprintf(w, "password changed: %s\n", d.User.PasswordChangedAt.UTC().Format(time.RFC3339))
	}
	if d.User.Email != "" || d.User.DisplayName != "" {
		fmt.Fprintf(w, "profile:  %s <%s>\n", d.User.DisplayName, d.User.Email)
	}
	fmt.Fprintf(w, "groups:   %d\n", len(d.User.Groups))
	for _, g := range d.User.Groups {
		fmt.Fprintf(w, "  %-24s %s\n", g.Name, g.DN)
	}
	admin := "no"
	if d.User.Admin {
		admin = "yes (member of " + cfg.LDAP.AdminGroupDN + ")"
	} else if cfg.LDAP.AdminGroupDN == "" {
		admin = "no (ldap.admin_group_dn is not set)"
	}
	fmt.Fprintf(w, "sysadmin: %s\n", admin)
	if d.User.State.Checked {
		state := "ok"
		if r := d.User.State.Refusal(time.Now()); r != "" {
			state = "refused: " + r + ": logins, refresh tokens and personal access tokens get 401"
		}
		fmt.Fprintf(w, "account:  %s\n", state)
	}
	switch {
	case !d.PasswordChecked:
		fmt.Fprintln(w, "password: not checked (no password given)")
	case d.PasswordOK && d.Refusal == "":
		fmt.Fprintln(w, "password: accepted: this login would succeed")
	case d.PasswordOK:
		fmt.Fprintf(w, "password: accepted, but the account may not log in (%s): this login would get 401\n", d.Refusal)
		return errors.New("ldap test: account refused: " + d.Refusal)
	case d.Refusal != "":
		fmt.Fprintf(w, "password: refused by the directory: %s: this login would get 401\n", d.Refusal)
		return errors.New("ldap test: password refused: " + d.Refusal)
	default:
		fmt.Fprintln(w, "password: refused by the directory: this login would get 401")
		return errors.New("ldap test: password refused")
	}
	if d.Refusal != "" {
		return errors.New("ldap test: account refused: " + d.Refusal)
	}
	return nil
}
