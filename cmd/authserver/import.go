package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/harborimport"
	"github.com/authserver/authserver/internal/store"
)

func (a *app) importCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Import users, projects and credentials from another system"}
	var dsn, only, keyDir string
	var dry, replaceAdmin bool
	harbor := leaf("harbor --dsn postgres://USER:PASS@HOST/registry",
		"Import a Harbor database (read-only): users keep their passwords, robots their secrets", func(cmd *cobra.Command) error {
			kinds, err := harborimport.ParseKinds(only)
			if err != nil {
				return fmt.Errorf("--only %w", err)
			}
			if a.output != "table" && a.output != "json" {
				return fmt.Errorf("--output %q: want table or json", a.output)
			}
			dsn = cmp.Or(dsn, os.Getenv("HARBOR_DSN"))
			if dsn == "" {
				return fmt.Errorf("--dsn (or $HARBOR_DSN) is required: Harbor's PostgreSQL database")
			}
			snap, err := harborimport.Read(cmd.Context(), dsn, kinds)
			if err != nil {
				return err
			}
			return a.withStore(cmd, func(ctx context.Context, cfg config.Config, st store.Store) error {
				var keys []string
				if keyDir != "" {
					if keys, err = harborimport.CopyKeys(keyDir, cfg.Token.Key, cfg.Token.Certificate, dry); err != nil {
						return err
					}
				}
				rep, err := harborimport.Run(ctx, authapp.NewAdmin(cfg, st, nil), cli, snap, harborimport.Options{
					Only: kinds, DryRun: dry, ReplaceAdmin: replaceAdmin, RobotPrefix: cfg.Robots.Prefix})
				if rep != nil {
					a.printImport(rep, keys)
				}
				return err
			})
		})
	harbor.Flags().StringVar(&dsn, "dsn", "", "Harbor's PostgreSQL database (default $HARBOR_DSN)")
	harbor.Flags().BoolVar(&dry, "dry-run", false, "report what would be done and write nothing")
	harbor.Flags().StringVar(&only, "only", "", "comma list of kinds to import: "+strings.Join(harborimport.Kinds, ","))
	harbor.Flags().BoolVar(&replaceAdmin, "replace-admin", false, "let Harbor's admin replace an existing authserver admin")
	harbor.Flags().StringVar(&keyDir, "key-dir", "", "a directory with Harbor's private_key.pem and root.crt to copy to token.key and token.certificate")
	a.addOutputFlag(harbor)
	cmd.AddCommand(harbor)
	return cmd
}

// printImport prints the report: JSON, or a table, a summary and notes.
func (a *app) printImport(rep *harborimport.Report, keys []string) {
	if a.output == "json" {
		_ = a.printJSON(struct {
			*harborimport.Report
			Keys []string `json:"keys,omitempty"`
		}{rep, keys})
		return
	}
	_ = printEach(a, nil, []string{"KIND", "NAME", "ACTION", "DETAIL"}, rep.Items, func(it harborimport.Item) ([]string, harborimport.Item) {
		return []string{it.Kind, it.Name, it.Action, it.Detail}, it
	})
	fmt.Fprintln(a.stdout)
	for _, k := range harborimport.Kinds {
		fmt.Fprintf(a.stdout, "%s: %d created, %d updated, %d unchanged, %d skipped\n", k,
			rep.Count(k, harborimport.Created), rep.Count(k, harborimport.Updated),
			rep.Count(k, harborimport.Unchanged), rep.Count(k, harborimport.Skipped))
	}
	if rep.DryRun {
		fmt.Fprintln(a.stdout, "dry run: nothing was written")
	}
	for _, k := range keys {
		fmt.Fprintln(a.stdout, "key:", k)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(a.stdout, "note:", n)
	}
	if rep.LDAPConfig != "" {
		fmt.Fprintf(a.stdout, "\n%s", rep.LDAPConfig)
	}
}
