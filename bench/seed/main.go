// Command seed fills the SQLite or PostgreSQL store of an authserver config
// with a large synthetic directory (users, projects, memberships, groups) for
// load tests, using batched multi-row INSERTs (SQLite) or COPY (PostgreSQL).
//
//	go run ./bench/seed --config bench.yaml --users 100000 --projects 10000 --members 1000000
//
// See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/authserver/authserver/bench/internal/benchmain"
	"github.com/authserver/authserver/internal/config"
)

func main() { benchmain.Run(realMain) }

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintln(stderr, "seed:", err)
		return 2
	}
	if err := run(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, "seed:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configPath, "config", os.Getenv(config.EnvFile), "authserver config file naming the store to fill (default $"+config.EnvFile+")")
	fs.IntVar(&o.users, "users", 1000, "local users user000000… to create")
	fs.IntVar(&o.projects, "projects", 100, "projects proj00000… to create")
	fs.IntVar(&o.members, "members", 10000, "user memberships, spread evenly: each user gets members/users distinct projects")
	fs.IntVar(&o.groups, "groups", 0, "local groups grp00000…: user u joins group u%groups, group k gets a role in project k%projects")
	fs.StringVar(&o.password, "password", "Bench-password-1", "password of every seeded user (the password policy holds; hashed once with the config's bcrypt cost)")
	fs.IntVar(&o.publicEvery, "public-every", 0, "make every K-th project public (proj00000, projK…); 0 for none")
	fs.IntVar(&o.batch, "batch", 5000, "rows per transaction (one COPY on PostgreSQL, multi-row INSERTs on SQLite)")
	fs.BoolVar(&o.append, "append", false, "add only the missing rows when some seeded names exist (default: refuse)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./bench/seed --config FILE --users N --projects N --members N [--groups N] [--password P] [--public-every K] [--batch 5000] [--append]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}
