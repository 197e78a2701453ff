package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

// patJSON is a personal access token in `pat list --output json`; never
// the secret.
type patJSON struct {
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	AllowFrom  []string   `json:"allow_from,omitempty"`
}

func (a *app) patCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pat",
		Short: "Manage personal access tokens (a secret that works wherever the user's password does)",
		Long: `A personal access token (asp_...) is given in place of the user's password: docker login,
Basic auth, the OAuth2 password grant. It grants exactly the user's permissions, works for LDAP
users without their directory password, and stops working when revoked, expired, or when the
user is disabled or deleted. The fixed prefix and checksum let secret scanners find leaked ones.`,
	}

	var user, name, expires, allowFrom string
	create := leaf("create --user U --name N [--expires 90d|never] [--allow-from CIDR,...]", "Create a personal access token and print it once", func(cmd *cobra.Command) error {
		if err := admin.ValidName(name); err != nil {
			return fmt.Errorf("--name: %w", err)
		}
		life, err := parseLifetime(expires)
		if err != nil {
			return err
		}
		return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
			t, secret, err := adm.CreatePAT(ctx, cli, admin.NewPAT{User: user, Name: name, Lifetime: life,
				AllowFrom: admin.SplitList(allowFrom)})
			if err != nil {
				return err
			}
			return a.printSecret(secretJSON{Name: name, User: user, Secret: secret, ExpiresAt: optTime(t.ExpiresAt)}, "token")
		})
	})
	create.Example = `  authserver pat create --user alice --name laptop --expires 90d --output json`
	create.Flags().StringVar(&user, "user", "", "owner of the token")
	create.Flags().StringVar(&name, "name", "", "label, unique per user (e.g. laptop, ci)")
	create.Flags().StringVar(&expires, "expires", "90d", "lifetime (s, m, h, d units) or never")
	create.Flags().StringVar(&allowFrom, "allow-from", "", "networks its logins may come from, comma-separated CIDRs; default anywhere")
	_ = create.MarkFlagRequired("user")
	_ = create.MarkFlagRequired("name")
	a.addOutputFlag(create)

	var listUser string
	list := a.adminCmd("list --user U", "List a user's personal access tokens (never the secrets)", func(ctx context.Context, adm *admin.Service) error {
		ts, err := adm.ListPATs(ctx, cli, listUser)
		return printEach(a, err, []string{"NAME", "CREATED", "LAST USED", "EXPIRES", "ALLOW_FROM"}, ts, func(t admin.PersonalToken) ([]string, patJSON) {
			return []string{t.Name, t.CreatedAt.UTC().Format(time.RFC3339), fmtOptTime(t.LastUsedAt, "never"), fmtOptTime(t.ExpiresAt, "never"),
					orAll(strings.Join(t.AllowFrom, ","), "anywhere")},
				patJSON{t.Name, t.CreatedAt.UTC(), optTime(t.LastUsedAt), optTime(t.ExpiresAt), t.AllowFrom}
		})
	})
	list.Flags().StringVar(&listUser, "user", "", "owner of the tokens")
	_ = list.MarkFlagRequired("user")
	a.addOutputFlag(list)

	var revokeUser, revokeName string
	revoke := a.adminCmd("revoke --user U --name N", "Revoke a personal access token; it stops working at once", func(ctx context.Context, adm *admin.Service) error {
		return a.say(adm.RevokePAT(ctx, cli, revokeUser, revokeName), "token %s of user %s revoked\n", revokeName, revokeUser)
	})
	revoke.Flags().StringVar(&revokeUser, "user", "", "owner of the token")
	revoke.Flags().StringVar(&revokeName, "name", "", "name of the token")
	_ = revoke.MarkFlagRequired("user")
	_ = revoke.MarkFlagRequired("name")

	cmd.AddCommand(create, list, revoke)
	return cmd
}
