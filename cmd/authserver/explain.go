package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

func (a *app) explainCmd() *cobra.Command {
	var user, robot string
	var anonymous bool
	cmd := &cobra.Command{
		Use:   "explain (--user NAME | --robot NAME | --anonymous) SCOPE...",
		Short: "Show which actions a user or robot would get for each scope, and why",
		Example: `  authserver explain --user alice repository:team/app:pull,push
  authserver explain --robot team+ci repository:team/app:push
  authserver explain --anonymous repository:library/busybox:pull`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			scopes, err := authz.ParseScopes(args)
			if err != nil {
				return err
			}
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				subj := authz.Subject{Anonymous: true}
				var notes []string
				if robot != "" {
					rb, err := st.GetRobot(ctx, robotBare(cfg, robot))
					if err != nil {
						return notFound(err, "robot "+robot)
					}
					subj = authz.Subject{Name: cfg.Robots.Prefix + rb.Name,
						Robot: &authz.RobotPermissions{Project: rb.Project, Actions: rb.Actions}}
					if rb.Disabled {
						notes = append(notes, "robot "+subj.Name+" is disabled: a real login would get 401")
					}
					if !rb.ExpiresAt.IsZero() && time.Now().After(rb.ExpiresAt) {
						notes = append(notes, "robot "+subj.Name+" expired at "+rb.ExpiresAt.UTC().Format(time.RFC3339)+": a real login would get 401")
					}
				} else if !anonymous {
					u, err := st.GetUser(ctx, user)
					if err != nil {
						return notFound(err, "user "+user)
					}
					subj = authz.Subject{Name: u.Name, UserID: u.ID, Admin: u.Admin}
					if u.Disabled {
						notes = append(notes, "user "+u.Name+" is disabled: a real login would get 401")
					}
					if u.Source == store.SourceLDAP {
						// Judged with the groups of the last directory login.
						lu, err := st.GetLDAPUser(ctx, u.Name)
						if err != nil && !errors.Is(err, store.ErrNotFound) {
							return err
						}
						if err == nil {
							subj.GroupDNs, subj.Admin = lu.GroupDNs, subj.Admin || lu.Admin
						}
						notes = append(notes, ldapUserNote(lu, err))
					}
				}
				ds, err := authz.New(st).Authorize(ctx, subj, scopes)
				if err != nil {
					return err
				}
				return a.printExplain(subj, ds, notes)
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "user to explain for")
	cmd.Flags().StringVar(&robot, "robot", "", "robot account to explain for (the prefix may be left out)")
	cmd.Flags().BoolVar(&anonymous, "anonymous", false, "explain for a request without credentials")
	cmd.MarkFlagsMutuallyExclusive("user", "robot", "anonymous")
	cmd.MarkFlagsOneRequired("user", "robot", "anonymous")
	a.addOutputFlag(cmd)
	return cmd
}

func (a *app) printExplain(subj authz.Subject, ds []authz.Decision, notes []string) error {
	who := subj.Name
	if subj.Anonymous {
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
			Notes   []string `json:"notes,omitempty"`
			Scopes  []item   `json:"scopes"`
		}{Subject: who, Notes: notes}
		for _, d := range ds {
			out.Scopes = append(out.Scopes, item{d.Scope.Type + ":" + d.Scope.Name, d.Scope.Actions, d.Granted, d.Reasons})
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if a.output != "table" && a.output != "" {
		return errors.New("--output: want table or json")
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
