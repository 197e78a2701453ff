package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
)

// applyCmd is `authserver apply -f policy.yaml [--dry-run] [--prune]`.
func (a *app) applyCmd() *cobra.Command {
	var file string
	var dryRun, prune bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE [--dry-run] [--prune]",
		Short: "Make projects, visibility, members, groups, rules and robots match a policy file, in one transaction",
		Long: `apply reads a policy file (docs/POLICY.md; JSON Schema docs/policy.schema.json), decoded strictly
(an unknown key is an error), and makes authserver match it in ONE transaction: every change, each
with its admin audit record, or none. It prints each difference as created, changed or removed.
Applying the same file again changes nothing. --dry-run prints the differences and changes
nothing. --prune also removes what the file does not name: projects, groups, and inside the projects
it names their members, rules and robots. A robot it creates prints its secret once. Users are not
part of the file: create them first (user add, or LDAP). "-f -" reads standard input.`,
		Example: `  authserver apply -f policy.yaml --dry-run
  authserver export > policy.yaml && authserver apply -f policy.yaml --prune`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var r io.Reader = a.stdin
			if file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			doc, err := admin.DecodePolicy(r)
			if err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error {
				res, err := adm.Apply(ctx, cli, doc, admin.ApplyOptions{DryRun: dryRun, Prune: prune})
				if err != nil {
					return err
				}
				for _, c := range res.Changes {
					fmt.Fprintf(a.stdout, "%-8s %s\n", c.Op, c.What)
				}
				switch {
				case len(res.Changes) == 0:
					fmt.Fprintln(a.stdout, "no change")
				case dryRun:
					fmt.Fprintf(a.stdout, "dry run: %d changes, none made\n", len(res.Changes))
				}
				for _, s := range res.Secrets {
					fmt.Fprintf(a.stdout, "secret of %s: %s\n", s.Login, s.Secret)
				}
				if len(res.Secrets) > 0 {
					fmt.Fprintln(a.stdout, "Each robot secret is shown only this once: store it now.")
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the policy file ('-': standard input)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the differences, change nothing")
	cmd.Flags().BoolVar(&prune, "prune", false, "also remove what the file does not name")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// exportCmd is `authserver export`: today's state as a policy file.
func (a *app) exportCmd() *cobra.Command {
	return a.adminCmd("export", "Print today's groups and projects (visibility, members, rules, project robots) as a policy file; never a secret",
		func(ctx context.Context, adm *admin.Service) error {
			doc, err := adm.Export(ctx, cli)
			if err != nil {
				return err
			}
			return admin.EncodePolicy(a.stdout, doc)
		})
}
