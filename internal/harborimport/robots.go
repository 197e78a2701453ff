package harborimport

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/store"
)

// robotPlan is what a Harbor robot becomes.
type robotPlan struct {
	name    string // authserver's own name, without project or prefix
	project string // a project name, or store.SystemRobotProject
	actions []string
	hash    string // "" when Harbor has no secret
	expires time.Time
	skip    string
}

// repositoryActions are the permissions that matter to the registry.
var repositoryActions = map[string]bool{"pull": true, "push": true, "delete": true}

// scopeActions groups a robot's repository actions by scope.
func scopeActions(perms []Perm) map[string][]string {
	out := map[string][]string{}
	for _, p := range perms {
		if p.Resource != "repository" || !repositoryActions[p.Action] || (p.Effect != "" && p.Effect != "allow") {
			continue
		}
		if !slices.Contains(out[p.Scope], p.Action) {
			out[p.Scope] = append(out[p.Scope], p.Action)
		}
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
	scopes := scopeActions(b.Perms)
	if b.ProjectID > 0 {
		proj, ok := im.projects[b.ProjectID]
		if !ok {
			p.skip = "its project is not imported"
			return p
		}
		p.project = proj
		p.name, _ = strings.CutPrefix(bare, proj+"+")
		p.actions = scopes["/project/"+strconv.FormatInt(b.ProjectID, 10)]
	} else {
		p.project, p.name = store.SystemRobotProject, bare
		all := scopes["/project/*"]
		var named []string
		for scope, acts := range scopes {
			if scope == "/project/*" {
				continue
			}
			for _, a := range acts {
				if !slices.Contains(all, a) {
					named = append(named, scope)
					break
				}
			}
		}
		if len(named) > 0 {
			slices.Sort(named)
			p.skip = "a system robot with permissions on specific projects (" + strings.Join(named, ", ") +
				"): authserver robots hold one project or all of them"
			return p
		}
		p.actions = all
	}
	acts, err := authn.RobotActions(p.actions)
	if err != nil {
		p.skip = "no pull, push or delete on repositories"
		return p
	}
	p.actions = acts
	if b.ExpiresAt > 0 {
		p.expires = time.Unix(b.ExpiresAt, 0).UTC()
	}
	if b.Secret != "" {
		if p.hash, err = authn.HarborSecretHash(b.Salt, b.Secret); err != nil {
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
			bare, err := authn.RobotName(p.project, p.name)
			if err != nil {
				p.skip = err.Error()
			}
			login = im.opt.RobotPrefix + bare
		}
		if p.skip != "" {
			im.add("robots", login, Skipped, p.skip)
			continue
		}
		detail := strings.Join(p.actions, ",") + " on " + p.project
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
	cur, err := im.adm.GetRobot(ctx, im.who, login)
	if isNotFound(err) {
		_, err := im.write("robots", login, Created, detail, func() error {
			// Without a Harbor secret, admin makes a random one that is
			// never shown: the robot stays unusable until refreshed.
			_, _, err := im.adm.CreateRobot(ctx, im.who, admin.NewRobot{Name: p.name, Project: p.project,
				Actions: p.actions, Description: b.Description, ExpiresAt: p.expires, SecretHash: p.hash,
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
	if !slices.Equal(cur.Actions, p.actions) {
		ch.Actions = p.actions
		d.check("actions", true)
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
		if cur.SecretHash != p.hash && authn.IsHarborHash(cur.SecretHash) {
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
		_, err := im.adm.UpdateRobot(ctx, im.who, login, ch)
		return err
	})
	return err
}
