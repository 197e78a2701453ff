package harborimport

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

func (im *importer) importProjects(ctx context.Context) error {
	existing, err := im.adm.ListProjects(ctx, im.who)
	if err != nil {
		return err
	}
	have := map[string]store.Project{}
	for _, p := range existing {
		have[p.Name] = p
	}
	report := im.opt.Only["projects"]
	defer func() {
		for name, p := range have {
			im.ids[name] = p.ID
		}
	}()
	for _, p := range im.snap.Projects {
		if p.Deleted {
			if report {
				im.add("projects", p.Name, Skipped, "deleted in Harbor")
			}
			continue
		}
		detail := visibility(p.Public)
		if p.Proxy {
			detail += "; a proxy-cache project in Harbor, imported as an ordinary project"
		}
		cur, ok := have[p.Name]
		if ok && cur.Source != store.ProjectSourceHarbor {
			// Someone made this name in authserver: merging would hand
			// them (its projectAdmins) Harbor's project and its robots.
			others, err := im.memberNames(ctx, cur.ID)
			if err != nil {
				return err
			}
			if !im.opt.MergeExisting {
				if report {
					im.add("projects", p.Name, Skipped, fmt.Sprintf("exists in authserver (projectAdmins: %s); "+
						"--merge-existing imports into it, its members staying", others))
				}
				continue
			}
			detail += fmt.Sprintf("; merged into the project that existed in authserver (projectAdmins: %s)", others)
		}
		switch {
		case ok && cur.Public == p.Public:
			im.projects[p.ID] = p.Name
			if report {
				im.add("projects", p.Name, Unchanged, detail)
			}
		case ok && !report:
			im.projects[p.ID] = p.Name
		case ok:
			done, err := im.write("projects", p.Name, Updated, detail, func() error {
				_, err := im.adm.SetProjectPublic(ctx, im.who, cur.ID, p.Public)
				return err
			})
			if err != nil {
				return err
			}
			if done {
				im.projects[p.ID] = p.Name
			}
		case report:
			done, err := im.write("projects", p.Name, Created, detail, func() error {
				np, err := im.adm.CreateProject(ctx, im.who, admin.NewProject{Name: p.Name, Public: p.Public, Imported: true})
				have[p.Name] = np
				return err
			})
			if err != nil {
				return err
			}
			if done {
				im.projects[p.ID] = p.Name
				im.created[p.Name] = true
			}
		}
	}
	return nil
}

// memberNames lists the projectAdmins of the authserver project with id,
// "none" when it has none.
func (im *importer) memberNames(ctx context.Context, id int64) (string, error) {
	ms, err := im.adm.ListMembers(ctx, im.who, id)
	if err != nil {
		return "", err
	}
	var names []string
	for _, m := range ms {
		if m.Role == store.RoleProjectAdmin {
			names = append(names, string(m.Kind)+" "+m.Name)
		}
	}
	if len(names) == 0 {
		return "none", nil
	}
	return strings.Join(names, ", "), nil
}

func visibility(public bool) string {
	if public {
		return "public"
	}
	return "private"
}

// harborRoles maps Harbor's role ids.
var harborRoles = map[int]store.Role{
	1: store.RoleProjectAdmin, 2: store.RoleDeveloper, 3: store.RoleGuest, 4: store.RoleMaintainer, 5: store.RoleLimitedGuest,
}

func (im *importer) importMembers(ctx context.Context) error {
	if !im.opt.Only["members"] {
		return nil
	}
	projectName := map[int64]string{}
	for _, p := range im.snap.Projects {
		projectName[p.ID] = p.Name
	}
	current := map[string]map[string]store.Member{} // project → "user:x"/"group:y" → membership
	for _, m := range im.snap.Members {
		proj, ok := im.projects[m.ProjectID]
		var ref admin.MemberRef
		var who string
		switch m.EntityType {
		case "u":
			ref.User = im.users[m.EntityID]
			who = "user " + cmpOr(ref.User, "#"+strconv.FormatInt(m.EntityID, 10))
		case "g":
			ref.Group = im.groups[m.EntityID]
			who = "group " + cmpOr(ref.Group, "#"+strconv.FormatInt(m.EntityID, 10))
		}
		name := cmpOr(projectName[m.ProjectID], "#"+strconv.FormatInt(m.ProjectID, 10)) + ": " + who
		role, known := harborRoles[m.Role]
		switch {
		case !ok:
			im.add("members", name, Skipped, "project not imported")
			continue
		case ref == admin.MemberRef{}:
			im.add("members", name, Skipped, fmt.Sprintf("%s not imported", who))
			continue
		case !known:
			im.add("members", name, Skipped, fmt.Sprintf("unknown Harbor role %d", m.Role))
			continue
		}
		have, err := im.members(ctx, proj, current)
		if err != nil {
			return err
		}
		key := string(store.MemberUser) + ":" + ref.User
		if ref.Group != "" {
			key = string(store.MemberGroup) + ":" + ref.Group
		}
		prev, had := have[key]
		switch {
		case had && prev.Role == role:
			im.add("members", name, Unchanged, string(role))
			continue
		case had:
			_, err = im.write("members", name, Updated, fmt.Sprintf("%s (was %s)", role, prev.Role), func() error {
				prev, err = im.adm.SetMemberRole(ctx, im.who, im.ids[proj], prev.ID, string(role))
				return err
			})
		default:
			_, err = im.write("members", name, Created, string(role), func() error {
				prev, _, err = im.adm.AddMember(ctx, im.who, im.ids[proj], ref, string(role))
				return err
			})
		}
		if err != nil {
			return err
		}
		prev.Role = role
		have[key] = prev
	}
	return nil
}

// members returns the memberships of project, read once.
func (im *importer) members(ctx context.Context, project string, cache map[string]map[string]store.Member) (map[string]store.Member, error) {
	if m, ok := cache[project]; ok {
		return m, nil
	}
	m := map[string]store.Member{}
	cache[project] = m
	if im.created[project] && im.opt.DryRun {
		return m, nil // a dry run did not create it
	}
	ms, err := im.adm.ListMembers(ctx, im.who, im.ids[project])
	if err != nil {
		return nil, err
	}
	for _, x := range ms {
		m[string(x.Kind)+":"+x.Name] = x
	}
	return m, nil
}
