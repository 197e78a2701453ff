package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

// Each command turns the names it is given into ids once (admin's Find*),
// then acts by id.

func (a *app) projectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "project", Short: "Manage projects (the first path component of repository names)"}

	var public bool
	var visibility string
	create := a.adminArgsCmd("create NAME [--public | --visibility private|internal|public]", "Create a project", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		np := admin.NewProject{Name: args[0], Public: public}
		if visibility != "" {
			v, err := admin.ParseVisibility(visibility)
			if err != nil {
				return err
			}
			if public && v != admin.VisibilityPublic {
				return errors.New("--public and --visibility " + visibility + " disagree")
			}
			np.Public, np.Internal = v == admin.VisibilityPublic, v == admin.VisibilityInternal
		}
		p, err := adm.CreateProject(ctx, cli, np)
		return a.say(err, "project %s created (visibility %s)\n", p.Name, admin.ProjectVisibility(p))
	})
	create.Flags().BoolVar(&public, "public", false, "anyone, anonymous included, may pull (--visibility public)")
	create.Flags().StringVar(&visibility, "visibility", "", "private (default), internal (any authenticated user pulls) or public")

	list := a.adminCmd("list", "List projects", func(ctx context.Context, adm *admin.Service) error {
		ps, err := adm.ListProjects(ctx, cli)
		type item struct {
			Name       string    `json:"name"`
			Public     bool      `json:"public"`
			Visibility string    `json:"visibility"`
			CreatedAt  time.Time `json:"created_at"`
		}
		return printEach(a, err, []string{"NAME", "PUBLIC", "VISIBILITY", "CREATED"}, ps, func(p admin.Project) ([]string, item) {
			v := string(admin.ProjectVisibility(p))
			return []string{p.Name, strconv.FormatBool(p.Public), v, p.CreatedAt.UTC().Format(time.RFC3339)},
				item{p.Name, p.Public, v, p.CreatedAt.UTC()}
		})
	})
	a.addOutputFlag(list)

	var setPublic bool
	var setVisibility string
	set := &cobra.Command{
		Use: "set NAME (--public=true|false | --visibility private|internal|public)", Short: "Change a project's visibility", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if f.Changed("public") == f.Changed("visibility") {
				return errors.New("pass one of --public=true|false and --visibility private|internal|public")
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
				p, err := adm.FindProject(ctx, cli, args[0])
				switch {
				case err != nil:
				case f.Changed("public"):
					p, err = adm.SetProjectPublic(ctx, cli, p.ID, setPublic)
				default:
					var v admin.Visibility
					if v, err = admin.ParseVisibility(setVisibility); err == nil {
						p, err = adm.SetProjectVisibility(ctx, cli, p.ID, v)
					}
				}
				return a.say(err, "project %s public=%t (visibility %s)\n", p.Name, p.Public, admin.ProjectVisibility(p))
			})
		},
	}
	set.Flags().BoolVar(&setPublic, "public", false, "anyone may pull (Harbor's flag)")
	set.Flags().StringVar(&setVisibility, "visibility", "", "private, internal (any authenticated user pulls) or public")

	del := a.adminArgsCmd("delete NAME", "Delete a project and its memberships (with registry.url: refused while the registry holds repositories under it; without: its images stay in the registry)", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		p, err := adm.FindProject(ctx, cli, args[0])
		if err == nil {
			p, err = adm.DeleteProject(ctx, cli, p.ID)
		}
		return a.say(err, "project %s deleted\n", p.Name)
	})
	cmd.AddCommand(create, list, set, del)
	return cmd
}

func (a *app) memberCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "member", Short: "Manage project members (users or groups with a role)"}
	var user, group, role string
	who := func(c *cobra.Command) {
		c.Flags().StringVar(&user, "user", "", "user name")
		c.Flags().StringVar(&group, "group", "", "group name or LDAP DN (with ldap configured, found in the directory when new)")
		c.MarkFlagsMutuallyExclusive("user", "group")
		c.MarkFlagsOneRequired("user", "group")
	}
	roleFlag := func(c *cobra.Command) {
		c.Flags().StringVar(&role, "role", "", "projectAdmin, maintainer, developer, guest or limitedGuest")
		_ = c.MarkFlagRequired("role")
	}
	// inProject runs fn on the project named by the first argument.
	inProject := func(cmd *cobra.Command, args []string, directory bool, fn func(ctx context.Context, adm *admin.Service, p admin.Project) error) error {
		adm, err := a.openAdmin(cmd, directory)
		if err != nil {
			return err
		}
		defer adm.Close()
		p, err := adm.FindProject(cmd.Context(), cli, args[0])
		if err != nil {
			return err
		}
		return fn(cmd.Context(), adm.Service, p)
	}

	add := &cobra.Command{
		Use: "add PROJECT (--user NAME | --group NAME) --role ROLE", Short: "Give a user or group a role in a project (replaces its role there, as member set)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := admin.ParseRole(role); err != nil {
				return err // before opening anything
			}
			// With an ldap: section, a user or group authserver does not
			// know yet is looked up in the directory and created.
			return inProject(cmd, args, true, func(ctx context.Context, adm *admin.Service, p admin.Project) error {
				ref := admin.MemberRef{User: user, Group: group}
				m, onb, err := adm.AddMember(ctx, cli, p.ID, ref, role)
				if errors.Is(err, admin.ErrExists) { // a member already: its role changes, as the CLI always did
					if m, err = adm.FindMember(ctx, cli, p.ID, ref); err == nil {
						m, err = adm.SetMemberRole(ctx, cli, p.ID, m.ID, role)
					}
				}
				switch {
				case onb != nil && onb.Kind == admin.MemberUser:
					fmt.Fprintf(a.stdout, "user %s added from the directory (%s)\n", onb.Name, onb.DN)
				case onb != nil:
					fmt.Fprintf(a.stdout, "group %s created from directory group %s\n", onb.Name, onb.DN)
				}
				return a.say(err, "%s %s is %s in project %s\n", m.Kind, m.Name, m.Role, p.Name)
			})
		},
	}
	who(add)
	roleFlag(add)

	set := &cobra.Command{
		Use: "set PROJECT (--user NAME | --group NAME) --role ROLE", Short: "Change the role of a member of a project", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := admin.ParseRole(role); err != nil {
				return err
			}
			return inProject(cmd, args, false, func(ctx context.Context, adm *admin.Service, p admin.Project) error {
				m, err := adm.FindMember(ctx, cli, p.ID, admin.MemberRef{User: user, Group: group})
				if err == nil {
					m, err = adm.SetMemberRole(ctx, cli, p.ID, m.ID, role)
				}
				return a.say(err, "%s %s is %s in project %s\n", m.Kind, m.Name, m.Role, p.Name)
			})
		},
	}
	who(set)
	roleFlag(set)

	remove := &cobra.Command{
		Use: "remove PROJECT (--user NAME | --group NAME)", Short: "Take a user or group out of a project", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return inProject(cmd, args, false, func(ctx context.Context, adm *admin.Service, p admin.Project) error {
				m, err := adm.FindMember(ctx, cli, p.ID, admin.MemberRef{User: user, Group: group})
				if err == nil {
					m, err = adm.RemoveMember(ctx, cli, p.ID, m.ID)
				}
				return a.say(err, "%s %s removed from project %s\n", m.Kind, m.Name, p.Name)
			})
		},
	}
	who(remove)

	list := &cobra.Command{
		Use: "list PROJECT", Short: "List a project's members", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return inProject(cmd, args, false, func(ctx context.Context, adm *admin.Service, p admin.Project) error {
				ms, err := adm.ListMembers(ctx, cli, p.ID)
				type item struct {
					Kind string `json:"kind"`
					Name string `json:"name"`
					Role string `json:"role"`
				}
				return printEach(a, err, []string{"KIND", "NAME", "ROLE"}, ms, func(m admin.Member) ([]string, item) {
					return []string{string(m.Kind), m.Name, string(m.Role)}, item{string(m.Kind), m.Name, string(m.Role)}
				})
			})
		},
	}
	a.addOutputFlag(list)
	cmd.AddCommand(add, set, remove, list)
	return cmd
}

func (a *app) groupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage groups (roles given to a group apply to its users)"}
	var dn string
	var oidcGroup bool
	create := a.adminArgsCmd("create NAME [--dn DN | --oidc]", "Create a group (with --dn, an LDAP group whose members come from the directory; with --oidc, a group of SSO users named as the provider's groups claim says)", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		if oidcGroup {
			g, err := adm.CreateOIDCGroup(ctx, cli, args[0])
			return a.say(err, "oidc group %s created\n", g.Name)
		}
		g, err := adm.CreateGroup(ctx, cli, args[0], dn)
		return a.say(err, "group %s created\n", g.Name)
	})
	create.Flags().StringVar(&dn, "dn", "", "LDAP distinguished name of the group")
	create.Flags().BoolVar(&oidcGroup, "oidc", false, "an OIDC group (Harbor group_type 3): SSO sign-ins put the users the groups claim names in it")
	create.MarkFlagsMutuallyExclusive("dn", "oidc")

	list := a.adminCmd("list", "List groups", func(ctx context.Context, adm *admin.Service) error {
		gs, err := adm.ListGroups(ctx, cli)
		type item struct {
			Name  string   `json:"name"`
			DN    string   `json:"dn,omitempty"`
			Users []string `json:"users"`
		}
		return printEach(a, err, []string{"NAME", "DN", "USERS"}, gs, func(g admin.Group) ([]string, item) {
			return []string{g.Name, g.DN, fmt.Sprint(len(g.Users))}, item{g.Name, g.DN, g.Users}
		})
	})
	a.addOutputFlag(list)

	del := a.adminArgsCmd("delete NAME", "Delete a group and its memberships", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		g, err := adm.FindGroup(ctx, cli, args[0])
		if err == nil {
			_, err = adm.DeleteGroup(ctx, cli, g.ID)
		}
		return a.say(err, "group %s deleted\n", g.Name)
	})
	// groupUser runs fn with the ids of the group and user named by args.
	groupUser := func(fn func(adm *admin.Service, ctx context.Context, who admin.Actor, group, user int64) error) func(ctx context.Context, adm *admin.Service, args []string) error {
		return func(ctx context.Context, adm *admin.Service, args []string) error {
			g, err := adm.FindGroup(ctx, cli, args[0])
			if err != nil {
				return err
			}
			u, err := adm.FindUser(ctx, cli, args[1])
			if err != nil {
				return err
			}
			return fn(adm, ctx, cli, g.ID, u.ID)
		}
	}
	addUser := a.adminArgsCmd("add-user GROUP USER", "Put a user in a local group", 2, func(ctx context.Context, adm *admin.Service, args []string) error {
		return a.say(groupUser((*admin.Service).AddGroupUser)(ctx, adm, args), "user %s added to group %s\n", args[1], args[0])
	})
	removeUser := a.adminArgsCmd("remove-user GROUP USER", "Take a user out of a local group", 2, func(ctx context.Context, adm *admin.Service, args []string) error {
		return a.say(groupUser((*admin.Service).RemoveGroupUser)(ctx, adm, args), "user %s removed from group %s\n", args[1], args[0])
	})
	cmd.AddCommand(create, list, del, addUser, removeUser)
	return cmd
}
