package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

func (a *app) explainCmd() *cobra.Command {
	var user, robot, from string
	var anonymous bool
	cmd := &cobra.Command{
		Use:   "explain (--user NAME | --robot NAME | --anonymous) [--from IP] SCOPE...",
		Short: "Show which actions a user or robot would get for each scope, and why: the role, rule or condition",
		Example: `  authserver explain --user alice repository:team/app:pull,push
  authserver explain --robot team+ci --from 192.0.2.7 repository:team/app-1:push
  authserver explain --robot team+ci repository:team/app:push
  authserver explain --anonymous repository:library/busybox:pull`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := admin.ValidScopes(args); err != nil {
				return err // before opening anything
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
				e, err := adm.Explain(ctx, cli, admin.ExplainRequest{User: user, Robot: robot, Anonymous: anonymous, Scopes: args,
					From: from})
				if err != nil {
					return err
				}
				return a.printExplain(e)
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "user to explain for")
	cmd.Flags().StringVar(&robot, "robot", "", "robot account to explain for (the prefix may be left out)")
	cmd.Flags().BoolVar(&anonymous, "anonymous", false, "explain for a request without credentials")
	cmd.Flags().StringVar(&from, "from", "", "judge the login as coming from this client address (the credential's --allow-from)")
	cmd.MarkFlagsMutuallyExclusive("user", "robot", "anonymous")
	cmd.MarkFlagsOneRequired("user", "robot", "anonymous")
	a.addOutputFlag(cmd)
	return cmd
}

func (a *app) printExplain(e admin.Explanation) error {
	ds, notes := e.Decisions, e.Notes
	who := e.Subject.Name
	if e.Subject.Anonymous {
		who = "anonymous"
	}
	if a.output == "json" {
		type item struct {
			Scope     string   `json:"scope"`
			Requested []string `json:"requested"`
			Granted   []string `json:"granted"`
			Reasons   []string `json:"reasons"`
		}
		out := struct {
			Subject string   `json:"subject"`
			Refused string   `json:"refused,omitempty"`
			Notes   []string `json:"notes,omitempty"`
			Scopes  []item   `json:"scopes"`
		}{Subject: who, Refused: e.Refused, Notes: notes}
		for _, d := range ds {
			out.Scopes = append(out.Scopes, item{d.Scope.Type + ":" + d.Scope.Name, d.Scope.Actions, d.Granted, d.Reasons})
		}
		return a.printJSON(out)
	}
	if a.output != "table" && a.output != "" {
		return errors.New("--output: want table or json")
	}
	if e.Refused != "" {
		fmt.Fprintln(a.stdout, "refused:", e.Refused, "(a real login gets 401)")
	}
	for _, n := range notes {
		fmt.Fprintln(a.stdout, "note:", n)
	}
	for _, d := range ds {
		granted := strings.Join(d.Granted, ",")
		if granted == "" {
			granted = "nothing"
		}
		fmt.Fprintf(a.stdout, "%s: %s asked %s, granted %s\n", d.Scope.Type+":"+d.Scope.Name, who, strings.Join(d.Scope.Actions, ","), granted)
		for _, r := range d.Reasons {
			fmt.Fprintf(a.stdout, "  - %s\n", r)
		}
	}
	return nil
}
