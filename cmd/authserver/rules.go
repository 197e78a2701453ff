package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

// ruleJSON is a repository rule in `rule list --output json`.
type ruleJSON struct {
	ID        int64     `json:"id"`
	Project   string    `json:"project"`
	Repos     string    `json:"repos"`
	Subject   string    `json:"subject"`
	Name      string    `json:"name,omitempty"`
	Actions   []string  `json:"actions"`
	Effect    string    `json:"effect"`
	CreatedAt time.Time `json:"created_at"`
}

func effectOf(deny bool) string {
	if deny {
		return "deny"
	}
	return "allow"
}

func (a *app) ruleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rule",
		Short: "Manage repository rules inside a project (allow or deny actions on repositories matching a pattern)",
		Long: `A repository rule grants (allow) or removes (--deny) actions on the repositories of a project whose
path inside the project matches PATTERN: '*' matches within one path component ("app-*"), a whole
component '**' any depth ("base/**"). Its subject is a user, a group, a robot (of the project, or a
system robot) or every authenticated caller (--authenticated: robots of other projects excluded).
An allow rule grants its subject, member or not; a deny rule removes its actions whatever a role,
the project's visibility or an allow rule grants (deny beats allow). Sysadmins are exempt.`,
	}
	var repos, user, group, robot, actions string
	var authenticated, deny bool
	add := &cobra.Command{
		Use:   "add PROJECT --repos PATTERN (--user U | --group G | --robot R | --authenticated) --actions pull,push,delete [--deny]",
		Short: "Add a repository rule",
		Example: `  authserver rule add team --repos 'app-*' --user bob --actions pull,push
  authserver rule add team --repos 'release/*' --group developers --actions push,delete --deny`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nr := admin.NewRule{Project: args[0], Repos: repos, Actions: admin.SplitList(actions), Deny: deny}
			switch {
			case user != "":
				nr.Subject, nr.Name = admin.RuleUser, user
			case group != "":
				nr.Subject, nr.Name = admin.RuleGroup, group
			case robot != "":
				nr.Subject, nr.Name = admin.RuleRobot, robot
			case authenticated:
				nr.Subject = admin.RuleAuthenticated
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
				r, err := adm.AddRule(ctx, cli, nr)
				return a.say(err, "rule %d added: %s\n", r.ID, adm.RuleText(r))
			})
		},
	}
	add.Flags().StringVar(&repos, "repos", "", "pattern over the repository path inside the project ('app-*', 'base/**')")
	add.Flags().StringVar(&user, "user", "", "the rule is about this user")
	add.Flags().StringVar(&group, "group", "", "the rule is about this group")
	add.Flags().StringVar(&robot, "robot", "", "the rule is about this robot (of the project, or a system robot)")
	add.Flags().BoolVar(&authenticated, "authenticated", false, "the rule is about every authenticated caller")
	add.Flags().StringVar(&actions, "actions", "", "comma-separated: pull, push, delete (for allow, push implies pull)")
	add.Flags().BoolVar(&deny, "deny", false, "remove the actions instead of granting them")
	add.MarkFlagsMutuallyExclusive("user", "group", "robot", "authenticated")
	add.MarkFlagsOneRequired("user", "group", "robot", "authenticated")
	_ = add.MarkFlagRequired("repos")
	_ = add.MarkFlagRequired("actions")

	list := a.adminArgsCmd("list PROJECT", "List a project's repository rules", 1, func(ctx context.Context, adm *admin.Service, args []string) error {
		rs, err := adm.ListRules(ctx, cli, args[0])
		return printEach(a, err, []string{"ID", "EFFECT", "REPOS", "SUBJECT", "ACTIONS", "CREATED"}, rs, func(r admin.Rule) ([]string, ruleJSON) {
			subject := string(r.Subject)
			if r.Name != "" {
				subject += " " + r.Name
			}
			return []string{strconv.FormatInt(r.ID, 10), effectOf(r.Deny), r.Repos, subject, strings.Join(r.Actions, ","),
					r.CreatedAt.UTC().Format(time.RFC3339)},
				ruleJSON{r.ID, r.Project, r.Repos, string(r.Subject), r.Name, r.Actions, effectOf(r.Deny), r.CreatedAt.UTC()}
		})
	})
	a.addOutputFlag(list)

	remove := a.adminArgsCmd("remove PROJECT ID", "Remove a repository rule", 2, func(ctx context.Context, adm *admin.Service, args []string) error {
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return errors.New("ID: want the number `rule list` shows")
		}
		r, err := adm.RemoveRule(ctx, cli, args[0], id)
		return a.say(err, "rule %d removed: %s\n", r.ID, adm.RuleText(r))
	})
	cmd.AddCommand(add, list, remove)
	return cmd
}
