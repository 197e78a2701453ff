// Command authserver is a token authentication server for Docker and OCI registries.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/admin"
	authapp "github.com/authserver/authserver/internal/app"
)

// version and commit are set at build time (make build, make release):
// -ldflags "-X main.version=$(cat VERSION) -X main.commit=$(git rev-parse HEAD)".
var (
	version = "dev"
	commit  = ""
)

// app holds what every command shares: the flags of the root command.
type app struct {
	configPath string
	// addr is serve's --addr: it replaces server.addr (and $AUTHSERVER_ADDR).
	addr   string
	output string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func main() {
	if code := credentialHelper(os.Args[0], os.Args[1:], os.Stdin, os.Stdout); code >= 0 {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	if err := a.root().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "authserver:", err)
		os.Exit(1)
	}
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:           "authserver",
		Short:         "Token authentication server for Docker and OCI registries",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (default $"+authapp.ConfigEnv+", else the embedded default)")
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.AddCommand(
		a.serveCmd(), a.keygenCmd(), a.registryConfigCmd(), a.migrateCmd(),
		a.userCmd(), a.groupCmd(), a.projectCmd(), a.memberCmd(), a.explainCmd(),
		a.robotCmd(), a.ruleCmd(), a.patCmd(), a.tokenCmd(), a.ldapCmd(), a.auditCmd(), a.healthcheckCmd(),
		a.importCmd(), a.applyCmd(), a.exportCmd(),
		a.versionCmd(), a.credentialProviderCmd(), a.backupCmd(), a.loginCmd(),
	)
	return root
}

// loadConfig reads --config, else $AUTHSERVER_CONFIG, else the defaults.
func (a *app) loadConfig() (authapp.Config, error) {
	path := a.configPath
	if path == "" {
		path = os.Getenv(authapp.ConfigEnv)
	}
	cfg, err := authapp.LoadConfig(path)
	if err != nil {
		return cfg, err
	}
	if addr := cmp.Or(a.addr, os.Getenv(authapp.AddrEnv)); addr != "" {
		cfg.Server.Addr = addr
		if err := cfg.Validate(); err != nil {
			return authapp.Config{}, fmt.Errorf("--addr / $%s: %w", authapp.AddrEnv, err)
		}
	}
	return cfg, nil
}

// openAdmin loads the config and opens the admin operations on its store
// (with directory: and its LDAP directory, when configured).
func (a *app) openAdmin(cmd *cobra.Command, directory bool) (*authapp.Admin, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	adm, err := authapp.OpenAdmin(cmd.Context(), cfg, directory)
	if err == nil && isTerminal(a.stderr) {
		// Interactive use: say which database answers (a script's output
		// stays as it is).
		fmt.Fprintf(a.stderr, "authserver: database %s\n", authapp.DatabaseName(cfg))
	}
	return adm, err
}

// cli is the actor of every command: whoever can run them reads the
// configuration and the database, so is a superuser. The admin audit trail
// records it as subject "cli", method "cli", client "local".
var cli = admin.Actor{Name: "cli", Admin: true, Method: admin.MethodCLI}

// withAdmin loads the config, opens the store and runs fn on the admin
// operations.
func (a *app) withAdmin(cmd *cobra.Command, fn func(ctx context.Context, adm *admin.Service) error) error {
	adm, err := a.openAdmin(cmd, false)
	if err != nil {
		return err
	}
	defer adm.Close()
	return fn(cmd.Context(), adm.Service)
}

// addOutputFlag adds --output table|json to a listing command.
func (a *app) addOutputFlag(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&a.output, "output", "o", "table", "output format: table or json")
}

// printList prints rows as an aligned table, or items as JSON.
func (a *app) printList(header []string, rows [][]string, items any) error {
	return a.printAs(items, func() error {
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, r := range rows {
			cells := make([]string, len(r))
			for i, c := range r {
				cells[i] = escapeCell(c)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		return tw.Flush()
	})
}

// printAs prints v as indented JSON with --output json, else runs table
// (--output table, the default); any other --output is an error.
func (a *app) printAs(v any, table func() error) error {
	switch a.output {
	case "json":
		return a.printJSON(v)
	case "table", "":
		return table()
	default:
		return fmt.Errorf("--output %q: want table or json", a.output)
	}
}

// printJSON prints v as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) versionCmd() *cobra.Command {
	return leaf("version", "Print the version", func(cmd *cobra.Command) error {
		fmt.Fprintf(a.stdout, "authserver %s (commit %s, %s)\n", buildVersion(), buildCommit(), goVersion())
		return nil
	})
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// buildCommit is the commit the binary was built from: -X main.commit, or
// what the Go toolchain recorded (a build in a git checkout), with
// "-dirty" when the tree had changes; "unknown" otherwise.
func buildCommit() string {
	if commit != "" {
		return commit
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case rev == "":
		return "unknown"
	case dirty:
		return rev + "-dirty"
	}
	return rev
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}

// escapeCell makes a table cell safe for a terminal: control characters
// (below 0x20, 0x7f, the C1 range 0x80-0x9f, ANSI ESC among them) and bytes
// that are not UTF-8 are written as \xNN, so a crafted name (a username, a
// user agent in the audit trail) can neither break the row, forge another
// one nor repaint the terminal. JSON output is escaped by the encoder.
func escapeCell(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case isControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) }

// adminCmd is a command without arguments that runs fn on the admin
// operations (see withAdmin).
func (a *app) adminCmd(use, short string, fn func(ctx context.Context, adm *admin.Service) error) *cobra.Command {
	return leaf(use, short, func(cmd *cobra.Command) error { return a.withAdmin(cmd, fn) })
}

// adminArgsCmd is a command with exactly n arguments that runs fn on the
// admin operations (see withAdmin).
func (a *app) adminArgsCmd(use, short string, n int, fn func(ctx context.Context, adm *admin.Service, args []string) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(n),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAdmin(cmd, func(ctx context.Context, adm *admin.Service) error { return fn(ctx, adm, args) })
		},
	}
}

// toggleCmd is "disable NAME" or "enable NAME" (use): setDisabled gives the
// named account the state disabled and says "... NAME done".
func toggleCmd(use, short, done string, disabled bool, setDisabled func(cmd *cobra.Command, name, done string, disabled bool) error) *cobra.Command {
	return &cobra.Command{
		Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return setDisabled(cmd, args[0], done, disabled) },
	}
}

// boolSetCmd is "set NAME --FLAG=true|false": set gets NAME and the
// flag's value, which must be given.
func boolSetCmd(short, flag, usage string, set func(cmd *cobra.Command, name string, v bool) error) *cobra.Command {
	var v bool
	cmd := &cobra.Command{
		Use: "set NAME --" + flag + "=true|false", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed(flag) {
				return fmt.Errorf("nothing to set: pass --%s=true or --%s=false", flag, flag)
			}
			return set(cmd, args[0], v)
		},
	}
	cmd.Flags().BoolVar(&v, flag, false, usage)
	return cmd
}

// configCmd is a command without arguments that runs fn with the loaded
// configuration.
func (a *app) configCmd(use, short string, fn func(cmd *cobra.Command, cfg authapp.Config) error) *cobra.Command {
	return leaf(use, short, func(cmd *cobra.Command) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		return fn(cmd, cfg)
	})
}

// leaf is a command without arguments that runs run.
func leaf(use, short string, run func(cmd *cobra.Command) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd) }}
}

// printEach prints xs with printList, or returns err (that of the call
// that listed xs) when it is not nil: each gives an item's table row and
// its JSON form.
func printEach[T, J any](a *app, err error, header []string, xs []T, each func(T) ([]string, J)) error {
	if err != nil {
		return err
	}
	rows := make([][]string, len(xs))
	items := make([]J, len(xs))
	for i, x := range xs {
		rows[i], items[i] = each(x)
	}
	return a.printList(header, rows, items)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
