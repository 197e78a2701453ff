package main

import (
	"cmp"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
)

func (a *app) importCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Import users, projects and credentials from another system"}
	var opt authapp.ImportOptions
	harbor := leaf("harbor --dsn postgres://USER:PASS@HOST/registry",
		"Import a Harbor database (read-only): users keep their passwords, robots their secrets", func(cmd *cobra.Command) error {
			if a.output != "table" && a.output != "json" {
				return fmt.Errorf("--output %q: want table or json", a.output)
			}
			opt.DSN = cmp.Or(opt.DSN, os.Getenv("HARBOR_DSN"))
			if opt.DSN == "" {
				return fmt.Errorf("--dsn (or $HARBOR_DSN) is required: Harbor's PostgreSQL database")
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			rep, keys, err := authapp.ImportHarbor(cmd.Context(), cfg, cli, opt)
			if rep != nil {
				a.printImport(rep, keys)
			}
			return err
		})
	harbor.Flags().StringVar(&opt.DSN, "dsn", "", "Harbor's PostgreSQL database (default $HARBOR_DSN)")
	harbor.Flags().BoolVar(&opt.DryRun, "dry-run", false, "report what would be done and write nothing")
	harbor.Flags().StringVar(&opt.Only, "only", "", "comma list of kinds to import: "+strings.Join(authapp.ImportKinds, ","))
	harbor.Flags().BoolVar(&opt.ReplaceAdmin, "replace-admin", false, "let Harbor's admin replace an existing authserver admin")
	harbor.Flags().BoolVar(&opt.Merge, "merge-existing", false, "import a Harbor project into an authserver project of the same name that no import made (its members stay)")
	harbor.Flags().StringVar(&opt.KeyDir, "key-dir", "", "a directory with Harbor's private_key.pem and root.crt to copy to token.key and token.certificate")
	a.addOutputFlag(harbor)
	cmd.AddCommand(harbor)
	return cmd
}

// printImport prints the report: JSON, or a table, a summary and notes.
func (a *app) printImport(rep *authapp.ImportReport, keys []string) {
	if a.output == "json" {
		_ = a.printJSON(struct {
			*authapp.ImportReport
			Keys []string `json:"keys,omitempty"`
		}{rep, keys})
		return
	}
	_ = printEach(a, nil, []string{"KIND", "NAME", "ACTION", "DETAIL"}, rep.Items, func(it authapp.ImportItem) ([]string, authapp.ImportItem) {
		return []string{it.Kind, it.Name, it.Action, it.Detail}, it
	})
	fmt.Fprintln(a.stdout)
	for _, k := range authapp.ImportKinds {
		counts := make([]string, len(authapp.ImportActions))
		for i, act := range authapp.ImportActions {
			counts[i] = fmt.Sprintf("%d %s", rep.Count(k, act), act)
		}
		fmt.Fprintf(a.stdout, "%s: %s\n", k, strings.Join(counts, ", "))
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
