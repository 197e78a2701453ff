package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// projectName is one path component of a repository name, as the registry
// accepts it (distribution's reference grammar).
var projectName = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

func (a *app) projectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "project", Short: "Manage projects (the first path component of repository names)"}

	var public bool
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a project", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !projectName.MatchString(args[0]) || len(args[0]) > 255 {
				return fmt.Errorf("project name %q: want lower-case letters and digits, separated by '.', '_', '__' or '-'", args[0])
			}
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				p := store.Project{Name: args[0], Public: public}
				if err := st.CreateProject(ctx, &p); err != nil {
					return notFound(err, "project "+args[0])
				}
				fmt.Fprintf(a.stdout, "project %s created (public=%t)\n", p.Name, p.Public)
				return nil
			})
		},
	}
	create.Flags().BoolVar(&public, "public", false, "anyone, anonymous included, may pull")

	list := &cobra.Command{
		Use: "list", Short: "List projects", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				ps, err := st.ListProjects(ctx)
				if err != nil {
					return err
				}
				type item struct {
					Name      string    `json:"name"`
					Public    bool      `json:"public"`
					CreatedAt time.Time `json:"created_at"`
				}
				rows := make([][]string, len(ps))
				items := make([]item, len(ps))
				for i, p := range ps {
					rows[i] = []string{p.Name, strconv.FormatBool(p.Public), p.CreatedAt.UTC().Format(time.RFC3339)}
					items[i] = item{p.Name, p.Public, p.CreatedAt.UTC()}
				}
				return a.printList([]string{"NAME", "PUBLIC", "CREATED"}, rows, items)
			})
		},
	}
	a.addOutputFlag(list)

	var setPublic bool
	set := &cobra.Command{
		Use: "set NAME --public=true|false", Short: "Change a project's visibility", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("public") {
				return errors.New("nothing to set: pass --public=true or --public=false")
			}
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				if err := st.SetProjectPublic(ctx, args[0], setPublic); err != nil {
					return notFound(err, "project "+args[0])
				}
				fmt.Fprintf(a.stdout, "project %s public=%t\n", args[0], setPublic)
				return nil
			})
		},
	}
	set.Flags().BoolVar(&setPublic, "public", false, "anyone may pull")

	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a project and its memberships (images stay in the registry)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				if err := st.DeleteProject(ctx, args[0]); err != nil {
					return notFound(err, "project "+args[0])
				}
				fmt.Fprintf(a.stdout, "project %s deleted\n", args[0])
				return nil
			})
		},
	}
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
	// member resolves --user/--group; a group may be named by its DN. With
	// fromDirectory (member add) and an ldap: section, a user or group
	// authserver does not know yet is looked up in the directory and
	// created (see ldap.go).
	member := func(ctx context.Context, cfg config.Config, st store.Store, fromDirectory bool) (store.MemberKind, string, error) {
		if user != "" {
			_, err := st.GetUser(ctx, user)
			if errors.Is(err, store.ErrNotFound) && fromDirectory && cfg.LDAP != nil {
				_, err = userFromDirectory(ctx, cfg, st, user, a.stdout)
				if err != nil {
					return "", "", err
				}
			}
			if err != nil {
				return "", "", notFound(err, "user "+user)
			}
			return store.MemberUser, user, nil
		}
		g, err := st.GetGroup(ctx, group)
		if errors.Is(err, store.ErrNotFound) && fromDirectory && cfg.LDAP != nil {
			if g, err = groupFromDirectory(ctx, cfg, st, group); err != nil {
				return "", "", err
			}
			fmt.Fprintf(a.stdout, "group %s created from directory group %s\n", g.Name, g.DN)
		}
		if err != nil {
			return "", "", notFound(err, "group "+group)
		}
		return store.MemberGroup, g.Name, nil
	}

	add := &cobra.Command{
		Use: "add PROJECT (--user NAME | --group NAME) --role ROLE", Short: "Give a user or group a role in a project (replaces its role there)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := store.ParseRole(role)
			if err != nil {
				return err
			}
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				if _, err := st.GetProject(ctx, args[0]); err != nil {
					return notFound(err, "project "+args[0])
				}
				kind, name, err := member(ctx, cfg, st, true)
				if err != nil {
					return err
				}
				if err := st.SetMember(ctx, store.Member{Project: args[0], Kind: kind, Name: name, Role: r}); err != nil {
					return notFound(err, "member")
				}
				fmt.Fprintf(a.stdout, "%s %s is %s in project %s\n", kind, name, r, args[0])
				return nil
			})
		},
	}
	who(add)
	add.Flags().StringVar(&role, "role", "", "projectAdmin, maintainer, developer, guest or limitedGuest")
	_ = add.MarkFlagRequired("role")

	remove := &cobra.Command{
		Use: "remove PROJECT (--user NAME | --group NAME)", Short: "Take a user or group out of a project", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				kind, name, err := member(ctx, cfg, st, false)
				if err != nil {
					return err
				}
				if err := st.RemoveMember(ctx, args[0], kind, name); err != nil {
					return notFound(err, fmt.Sprintf("membership of %s %s in project %s", kind, name, args[0]))
				}
				fmt.Fprintf(a.stdout, "%s %s removed from project %s\n", kind, name, args[0])
				return nil
			})
		},
	}
	who(remove)

	list := &cobra.Command{
		Use: "list PROJECT", Short: "List a project's members", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				ms, err := st.ListMembers(ctx, args[0])
				if err != nil {
					return notFound(err, "project "+args[0])
				}
				type item struct {
					Kind string `json:"kind"`
					Name string `json:"name"`
					Role string `json:"role"`
				}
				rows := make([][]string, len(ms))
				items := make([]item, len(ms))
				for i, m := range ms {
					rows[i] = []string{string(m.Kind), m.Name, string(m.Role)}
					items[i] = item{string(m.Kind), m.Name, string(m.Role)}
				}
				return a.printList([]string{"KIND", "NAME", "ROLE"}, rows, items)
			})
		},
	}
	a.addOutputFlag(list)
	cmd.AddCommand(add, remove, list)
	return cmd
}

func (a *app) groupCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage groups (roles given to a group apply to its users)"}
	var dn string
	create := &cobra.Command{
		Use: "create NAME [--dn DN]", Short: "Create a group (with --dn, an LDAP group whose members come from the directory)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validName(args[0]); err != nil {
				return err
			}
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				g := store.Group{Name: args[0], DN: dn}
				if err := st.CreateGroup(ctx, &g); err != nil {
					return notFound(err, "group "+args[0])
				}
				fmt.Fprintf(a.stdout, "group %s created\n", g.Name)
				return nil
			})
		},
	}
	create.Flags().StringVar(&dn, "dn", "", "LDAP distinguished name of the group")

	list := &cobra.Command{
		Use: "list", Short: "List groups", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
				gs, err := st.ListGroups(ctx)
				if err != nil {
					return err
				}
				type item struct {
					Name  string   `json:"name"`
					DN    string   `json:"dn,omitempty"`
					Users []string `json:"users"`
				}
				rows := make([][]string, len(gs))
				items := make([]item, len(gs))
				for i, g := range gs {
					users, err := st.ListGroupUsers(ctx, g.Name)
					if err != nil {
						return err
					}
					rows[i] = []string{g.Name, g.DN, fmt.Sprint(len(users))}
					items[i] = item{g.Name, g.DN, append([]string{}, users...)}
				}
				return a.printList([]string{"NAME", "DN", "USERS"}, rows, items)
			})
		},
	}
	a.addOutputFlag(list)

	simple := func(use, short string, n int, fn func(ctx context.Context, st store.Store, args []string) error) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.ExactArgs(n),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.withStore(cmd, func(ctx context.Context, _ config.Config, st store.Store) error {
					return fn(ctx, st, args)
				})
			},
		}
	}
	del := simple("delete NAME", "Delete a group and its memberships", 1, func(ctx context.Context, st store.Store, args []string) error {
		if err := st.DeleteGroup(ctx, args[0]); err != nil {
			return notFound(err, "group "+args[0])
		}
		fmt.Fprintf(a.stdout, "group %s deleted\n", args[0])
		return nil
	})
	addUser := simple("add-user GROUP USER", "Put a user in a local group", 2, func(ctx context.Context, st store.Store, args []string) error {
		if err := st.AddGroupUser(ctx, args[0], args[1]); err != nil {
			return notFound(err, fmt.Sprintf("group %s or user %s", args[0], args[1]))
		}
		fmt.Fprintf(a.stdout, "user %s added to group %s\n", args[1], args[0])
		return nil
	})
	removeUser := simple("remove-user GROUP USER", "Take a user out of a local group", 2, func(ctx context.Context, st store.Store, args []string) error {
		if err := st.RemoveGroupUser(ctx, args[0], args[1]); err != nil {
			return notFound(err, fmt.Sprintf("user %s in group %s", args[1], args[0]))
		}
		fmt.Fprintf(a.stdout, "user %s removed from group %s\n", args[1], args[0])
		return nil
	})
	cmd.AddCommand(create, list, del, addUser, removeUser)
	return cmd
}
