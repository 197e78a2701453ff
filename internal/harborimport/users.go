package harborimport

import (
	"context"
	"fmt"
	"strings"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
)

// Harbor's fixed user ids and LDAP markers.
const (
	harborAdminID     = 1
	harborAnonymousID = 2
	// Harbor gives a user it onboards from LDAP this password (so its
	// hash is a dummy, never a password) and this comment.
	harborLDAPDummy   = "12345678AbC"
	harborLDAPComment = "from LDAP."
)

// userPlan is what a Harbor user becomes.
type userPlan struct {
	name, source, hash string
	skip               string // the reason, when skipped
}

func (im *importer) planUser(u User) userPlan {
	p := userPlan{name: u.Name, source: store.SourceLocal}
	mode := im.authMode()
	switch {
	case u.ID == harborAnonymousID:
		p.skip = "Harbor's built-in anonymous user"
		return p
	case u.Deleted:
		p.skip = "deleted in Harbor"
		return p
	case u.ID == harborAdminID:
		p.name = authn.AdminUser // always local, whatever the auth mode
	case u.OIDC || mode == "oidc_auth":
		p.skip = "OIDC user: its CLI secret is encrypted with Harbor's secretkey (not imported); " +
			"let it log in through LDAP or give it a password"
		return p
	case mode == "ldap_auth" || u.Comment == harborLDAPComment || isLDAPDummy(u):
		p.source = store.SourceLDAP
		return p
	case mode != "db_auth":
		p.skip = fmt.Sprintf("authenticated by Harbor's %s, which authserver does not offer", mode)
		return p
	}
	h, err := secret.HarborPasswordHash(u.PasswordVersion, u.Salt, u.Password)
	if err != nil {
		p.skip = "password: " + err.Error()
	}
	p.hash = h
	return p
}

// isLDAPDummy reports whether the user's hash is that of Harbor's LDAP
// placeholder password (a user onboarded from LDAP before the auth mode
// changed). Only the 4,096-round kinds are checked: a 600,000-round hash
// is too slow to test per user, and those rows carry the comment too.
func isLDAPDummy(u User) bool {
	if u.PasswordVersion == "pbkdf2_sha256" {
		return false
	}
	h, err := secret.HarborPasswordHash(u.PasswordVersion, u.Salt, u.Password)
	return err == nil && secret.Verify(h, harborLDAPDummy)
}

func (im *importer) importUsers(ctx context.Context) error {
	for _, u := range im.snap.Users {
		p := im.planUser(u)
		if p.skip != "" {
			if im.opt.Only["users"] {
				im.add("users", u.Name, Skipped, p.skip)
			}
			continue
		}
		if !im.opt.Only["users"] {
			// Members and robots still need to know who is there.
			if _, err := im.adm.FindUser(ctx, im.who, p.name); err == nil {
				im.users[u.ID] = p.name
			} else if !isNotFound(err) {
				return err
			}
			continue
		}
		ok, err := im.importUser(ctx, u, p)
		if err != nil {
			return err
		}
		if ok {
			im.users[u.ID] = p.name
		}
	}
	return nil
}

func (im *importer) importUser(ctx context.Context, u User, p userPlan) (bool, error) {
	detail := p.source
	if p.hash != "" {
		detail += ", " + secret.HashKind(p.hash)
	}
	isAdmin := u.Admin || u.ID == harborAdminID
	if isAdmin {
		detail += ", sysadmin"
	}
	cur, err := im.adm.FindUser(ctx, im.who, p.name)
	if isNotFound(err) {
		return im.write("users", p.name, Created, detail, func() error {
			_, err := im.adm.CreateUser(ctx, im.who, admin.NewUser{Name: p.name, Email: u.Email, DisplayName: u.Realname,
				Comment: u.Comment, PasswordHash: p.hash, Admin: isAdmin, Source: p.source})
			return err
		})
	}
	if err != nil {
		return false, err
	}
	if cur.Source != p.source {
		im.add("users", p.name, Skipped, fmt.Sprintf("exists in authserver as a %s user; Harbor's is %s", cur.Source, p.source))
		return true, nil
	}
	var ch admin.UserChange
	var d diff
	if cur.Email != u.Email {
		ch.Email = &u.Email
		d.check("email", true)
	}
	if cur.DisplayName != u.Realname {
		ch.DisplayName = &u.Realname
		d.check("display name", true)
	}
	if cur.Comment != u.Comment {
		ch.Comment = &u.Comment
		d.check("comment", true)
	}
	if cur.Admin != isAdmin {
		ch.Admin = &isAdmin
		d.check("sysadmin", true)
	}
	// A password authserver already keeps (bcrypt: set here, or rehashed
	// at a login) is authserver's now; a Harbor hash still waiting for its
	// first login follows Harbor. --replace-admin is the exception: the
	// admin gets Harbor's password, whatever it had.
	replace := u.ID == harborAdminID && im.opt.ReplaceAdmin
	if p.hash != "" && cur.PasswordHash != p.hash && (replace || cur.PasswordHash == "" || secret.IsHarborHash(cur.PasswordHash)) {
		ch.PasswordHash = &p.hash
		d.check("password", true)
	}
	if len(d) == 0 {
		im.add("users", p.name, Unchanged, detail)
		return true, nil
	}
	if u.ID == harborAdminID && !im.opt.ReplaceAdmin {
		im.add("users", p.name, Skipped, "authserver already has an admin: --replace-admin gives it Harbor's admin ("+d.String()+")")
		return true, nil
	}
	return im.write("users", p.name, Updated, d.String(), func() error {
		_, err := im.adm.UpdateUser(ctx, im.who, cur.ID, ch)
		return err
	})
}

// groupKinds names Harbor's group types.
var groupKinds = map[int]string{1: "ldap", 2: "http", 3: "oidc"}

func (im *importer) importGroups(ctx context.Context) error {
	existing, err := im.adm.ListGroups(ctx, im.who)
	if err != nil {
		return err
	}
	byName, byDN := map[string]store.Group{}, map[string]store.Group{}
	for _, g := range existing {
		byName[g.Name] = g.Group
		if g.DN != "" {
			byDN[store.NormalizeDN(g.DN)] = g.Group
		}
	}
	for _, g := range im.snap.Groups {
		report := im.opt.Only["groups"]
		if g.Type != 1 || strings.TrimSpace(g.DN) == "" {
			if report {
				im.add("groups", g.Name, Skipped, fmt.Sprintf("a Harbor %s group: authserver groups are LDAP or local", cmpOr(groupKinds[g.Type], "unknown")))
			}
			continue
		}
		if cur, ok := byDN[store.NormalizeDN(g.DN)]; ok {
			im.groups[g.ID] = cur.Name
			if report {
				detail := g.DN
				if cur.Name != g.Name {
					detail = "exists as " + cur.Name + " with the same DN"
				}
				im.add("groups", g.Name, Unchanged, detail)
			}
			continue
		}
		if cur, ok := byName[g.Name]; ok {
			if report {
				im.add("groups", g.Name, Skipped, fmt.Sprintf("exists in authserver with DN %q, Harbor's is %q", cur.DN, g.DN))
			}
			continue
		}
		if !report {
			continue
		}
		ok, err := im.write("groups", g.Name, Created, g.DN, func() error {
			_, err := im.adm.CreateGroup(ctx, im.who, g.Name, g.DN)
			return err
		})
		if err != nil {
			return err
		}
		if ok {
			im.groups[g.ID] = g.Name
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
