package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
	authapp "github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

func (a *app) projectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "project", Short: "Manage projects (the first path component of repository names)"}

	var public bool
	create := a.adminArgsCmd("create NAME", "Create a project", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		p, err := adm.CreateProject(ctx, cli, args[0], public)
		return a.say(err, "project %s created (public=%t)\n", p.Name, p.Public)
	})
	create.Flags().BoolVar(&public, "public", false, "anyone, anonymous included, may pull")

	list := a.adminCmd("list", "List projects", func(ctx context.Context, adm *admin.Service) error {
		ps, err := adm.ListProjects(ctx, cli)
		type item struct {
			Name      string    `json:"name"`
			Public    bool      `json:"public"`
			CreatedAt time.Time `json:"created_at"`
		}
		return printEach(a, err, []string{"NAME", "PUBLIC", "CREATED"}, ps, func(p store.Project) ([]string, item) {
			return []string{p.Name, strconv.FormatBool(p.Public), p.CreatedAt.UTC().Format(time.RFC3339)}, item{p.Name, p.Public, p.CreatedAt.UTC()}
		})
	})
	a.addOutputFlag(list)

	set := boolSetCmd("Change a project's visibility", "public", "anyone may pull", func(cmd *cobra.Command, name string, public bool) error {
		return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
			return a.say(adm.SetProjectPublic(ctx, cli, name, public), "project %s public=%t\n", name, public)
		})
	})

	del := a.adminArgsCmd("delete NAME", "Delete a project and its memberships (images stay in the registry)", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		return a.say(adm.DeleteProject(ctx, cli, args[0]), "project %s deleted\n", args[0])
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

	add := &cobra.Command{
		Use: "add PROJECT (--user NAME | --group NAME) --role ROLE", Short: "Give a user or group a role in a project (replaces its role there)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := store.ParseRole(role); err != nil {
				return err // before opening anything
			}
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				// With an ldap: section, a user or group authserver does
				// not know yet is looked up in the directory and created.
				var dir admin.Directory
				if cfg.LDAP != nil {
					d, err := newDirectory(cfg)
					if err != nil {
						return err
					}
					defer d.Close()
					dir = d
				}
				m, onb, err := authapp.NewAdmin(cfg, st, dir).AddMember(ctx, cli, args[0], admin.MemberRef{User: user, Group: group}, role)
				switch {
				case onb != nil && onb.Kind == store.MemberUser:
					fmt.Fprintf(a.stdout, "user %s added from the directory (%s)\n", onb.Name, onb.DN)
				case onb != nil:
					fmt.Fprintf(a.stdout, "group %s created from directory group %s\n", onb.Name, onb.DN)
				}
				return a.say(err, "%s %s is %s in project %s\n", m.Kind, m.Name, m.Role, args[0])
			})
		},
	}
	who(add)
	add.Flags().StringVar(&role, "role", "", "projectAdmin, maintainer, developer, guest or limitedGuest")
	_ = add.MarkFlagRequired("role")

	remove := a.adminArgsCmd("remove PROJECT (--user NAME | --group NAME)", "Take a user or group out of a project", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		m, err := adm.RemoveMember(ctx, cli, args[0], admin.MemberRef{User: user, Group: group})
		return a.say(err, "%s %s removed from project %s\n", m.Kind, m.Name, args[0])
	})
	who(remove)

	list := a.adminArgsCmd("list PROJECT", "List a project's members", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		ms, err := adm.ListMembers(ctx, cli, args[0])
		type item struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
			Role string `json:"role"`
		}
		return printEach(a, err, []string{"KIND", "NAME", "ROLE"}, ms, func(m store.Member) ([]string, item) {
			return []string{string(m.Kind), m.Name, string(m.Role)}, item{string(m.Kind), m.Name, string(m.Role)}
		})
	})
	a.addOutputFlag(list)
	cmd.AddCommand(add, remove, list)
	return cmd
}

func (a *app) groupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage groups (roles given to a group apply to its users)"}
	var dn string
	create := a.adminArgsCmd("create NAME [--dn DN]", "Create a group (with --dn, an LDAP group whose members come from the directory)", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		g, err := adm.CreateGroup(ctx, cli, args[0], dn)
		return a.say(err, "group %s created\n", g.Name)
	})
	create.Flags().StringVar(&dn, "dn", "", "LDAP distinguished name of the group")

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
		return a.say(adm.DeleteGroup(ctx, cli, args[0]), "group %s deleted\n", args[0])
	})
	addUser := a.adminArgsCmd("add-user GROUP USER", "Put a user in a local group", 2, func(ctx context.Context, adm *admin.Service, args []string) error {
		return a.say(adm.AddGroupUser(ctx, cli, args[0], args[1]), "user %s added to group %s\n", args[1], args[0])
	})
	removeUser := a.adminArgsCmd("remove-user GROUP USER", "Take a user out of a local group", 2, func(ctx context.Context, adm *admin.Service, args []string) error {
		return a.say(adm.RemoveGroupUser(ctx, cli, args[0], args[1]), "user %s removed from group %s\n", args[1], args[0])
	})
	cmd.AddCommand(create, list, del, addUser, removeUser)
	return cmd
}
