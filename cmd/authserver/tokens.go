package main

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

// refreshJSON is a refresh token in `token list --output json`; never the
// secret.
type refreshJSON struct {
	ID         int64     `json:"id"`
	ClientID   string    `json:"client_id"`
	Service    string    `json:"service"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

func (a *app) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage refresh tokens (docker login's identity tokens)",
		Long: `A refresh token is issued when a client asks for offline access (docker login does) and is
traded for access tokens without the password. Changing a user's password, disabling or deleting
the user revokes all of the user's refresh tokens; these commands list and revoke them one by one.`,
	}

	var user string
	list := a.adminCmd("list --user U", "List a user's refresh tokens (never the secrets)", func(ctx context.Context, adm *admin.Service) error {
		ts, err := adm.ListRefreshTokens(ctx, cli, user)
		return printEach(a, err, []string{"ID", "CLIENT_ID", "SERVICE", "CREATED", "LAST USED"}, ts, func(t admin.RefreshToken) ([]string, refreshJSON) {
			return []string{strconv.FormatInt(t.ID, 10), t.ClientID, t.Service,
				t.CreatedAt.UTC().Format(time.RFC3339), t.LastUsedAt.UTC().Format(time.RFC3339)}, refreshJSON{t.ID, t.ClientID, t.Service, t.CreatedAt.UTC(), t.LastUsedAt.UTC()}
		})
	})
	list.Flags().StringVar(&user, "user", "", "owner of the tokens")
	_ = list.MarkFlagRequired("user")
	a.addOutputFlag(list)

	var revokeUser string
	var id int64
	var all bool
	revoke := a.adminCmd("revoke --user U (--id ID | --all)", "Revoke one or all of a user's refresh tokens", func(ctx context.Context, adm *admin.Service) error {
		if all {
			n, err := adm.RevokeRefreshTokens(ctx, cli, revokeUser)
			return a.say(err, "%d refresh tokens of user %s revoked\n", n, revokeUser)
		}
		return a.say(adm.RevokeRefreshToken(ctx, cli, revokeUser, id), "refresh token %d of user %s revoked\n", id, revokeUser)
	})
	revoke.Flags().StringVar(&revokeUser, "user", "", "owner of the tokens")
	revoke.Flags().Int64Var(&id, "id", 0, "ID of the token (from token list)")
	revoke.Flags().BoolVar(&all, "all", false, "revoke all of the user's refresh tokens")
	_ = revoke.MarkFlagRequired("user")
	revoke.MarkFlagsMutuallyExclusive("id", "all")
	revoke.MarkFlagsOneRequired("id", "all")

	cmd.AddCommand(list, revoke)
	return cmd
}
