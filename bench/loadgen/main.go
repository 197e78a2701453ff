// Command loadgen sends token requests to any Docker/OCI token server
// (authserver, docker_auth, Harbor…) from a fixed number of keep-alive
// connections for a bounded time, and reports throughput, latency
// percentiles and answers by status.
//
//	go run ./bench/loadgen --url http://127.0.0.1:5001/service/token --scenario basic --user u --password p
//
// See bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authserver/authserver/bench/internal/benchmain"
)

func main() { benchmain.Run(realMain) }

// realMain runs the command and returns its exit code: 0 when at least one
// token was issued, 1 when none was or the run failed, 2 for bad flags.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, asJSON, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		err = cfg.validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	res, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
	} else {
		printResult(stdout, cfg, res)
	}
	if res.OK == 0 {
		fmt.Fprintln(stderr, "loadgen: no token was issued")
		return 1
	}
	if cfg.Scenario == ScenarioReuse && res.Reused == 0 {
		fmt.Fprintln(stderr, "loadgen: --scenario reuse: no token was answered again (is the server's token.reuse_window set?)")
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (Config, bool, error) {
	var c Config
	var asJSON bool
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:5001/service/token", "token endpoint URL")
	fs.StringVar(&c.Service, "service", "harbor-registry", "service parameter (empty: none sent)")
	fs.StringVar(&c.ClientID, "client-id", "loadgen", "client_id parameter")
	fs.StringVar(&c.Scenario, "scenario", ScenarioAnonymous, "anonymous, basic, basic-many, refresh, robot, reuse or flooded")
	fs.StringVar(&c.Alg, "alg", "", "RS256, ES256, …: every token must be signed so (a token signed otherwise counts as a bad body)")
	fs.StringVar(&c.User, "user", "", "basic (and refresh, to obtain a refresh token): user name")
	fs.StringVar(&c.Password, "password", "", "basic: password; basic-many: every user's password unless --password-template")
	fs.StringVar(&c.UsersFile, "users-file", "", "basic-many: file of name:password lines")
	fs.StringVar(&c.UserPrefix, "user-prefix", "user", "basic-many: user names are prefix + zero-padded index (bench/seed's user000000…)")
	fs.IntVar(&c.UserDigits, "user-digits", 6, "basic-many: digits of the index")
	fs.IntVar(&c.UserStart, "user-start", 0, "basic-many: first index")
	fs.IntVar(&c.Users, "users", 0, "basic-many: number of users, used round-robin")
	fs.StringVar(&c.PasswordTemplate, "password-template", "", "basic-many: per-user password, {user} and {i} replaced (empty: --password)")
	fs.StringVar(&c.RefreshToken, "refresh-token", "", "refresh: refresh token (empty: obtained once with --user/--password and offline_token=true)")
	fs.StringVar(&c.RobotName, "robot-name", "", "robot: robot account name, e.g. 'robot$proj00000+ci' (quote the $)")
	fs.StringVar(&c.RobotSecret, "robot-secret", "", "robot: robot secret")
	fs.StringVar(&c.Source, "source", "", "local address the measured workers send from, e.g. 127.0.0.1 (empty: the system's choice)")
	fs.IntVar(&c.FloodWorkers, "flood-workers", 100, "flooded: guessers sending wrong passwords at once")
	fs.StringVar(&c.FloodUser, "flood-user", "nosuchuser", "flooded: the name the guessers try")
	fs.StringVar(&c.FloodSource, "flood-source", "127.0.0.2", "flooded: local address the guessers send from")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "parallel workers, each with its own keep-alive connection")
	fs.Float64Var(&c.Rate, "rate", 0, "open loop: requests due per second, latency from when each was due (0: closed loop, each worker sends when its last answer arrives)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "length of the measured phase (at most 1h)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "unmeasured phase before it (fills caches, opens connections)")
	fs.Int64Var(&c.Requests, "requests", 10_000_000, "at most this many requests per phase")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.StringVar(&c.ScopeMode, "scope-mode", ScopeRepeated, "repeated (same scope every time), distinct (a new repository per request) or none")
	fs.StringVar(&c.Project, "project", "library", "project of the requested repository; a format such as proj%05d with --projects")
	fs.IntVar(&c.Projects, "projects", 0, "distinct mode: cycle --project's format over 0…N-1")
	fs.StringVar(&c.Repo, "repo", "app", "repository name inside the project (distinct mode appends -<i>)")
	fs.StringVar(&c.Actions, "actions", "pull", "requested actions, e.g. pull or pull,push")
	fs.IntVar(&c.MaxErrorSamples, "error-samples", 5, "failure bodies to keep and print")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return c, false, err
	}
	if fs.NArg() > 0 {
		return c, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, asJSON, nil
}

func printResult(w io.Writer, cfg Config, r Result) {
	what := cfg.Scenario + ", scope " + cfg.ScopeMode
	if cfg.ScopeMode != ScopeNone {
		gen := &generator{cfg: cfg}
		what += " (" + gen.scope(0) + ")"
	}
	fmt.Fprintf(w, "target    %s\n", r.URL)
	fmt.Fprintf(w, "scenario  %s, %d connections\n", what, r.Concurrency)
	if r.Rate > 0 {
		fmt.Fprintf(w, "load      open loop, %.0f requests due a second (latency from when each was due)\n", r.Rate)
	}
	fmt.Fprintf(w, "requests  %d in %.2fs: %.1f req/s, %.1f tokens/s\n", r.Requests, r.Elapsed, r.RPS, r.OKPS)
	l := r.Latency
	fmt.Fprintf(w, "latency   p50 %.3fms  p90 %.3fms  p99 %.3fms  max %.3fms  mean %.3fms\n", l.P50, l.P90, l.P99, l.Max, l.Mean)
	fmt.Fprintf(w, "status    %s\n", statusLine(r))
	fmt.Fprintf(w, "tokens    %s, reused %d\n", algLine(r.Algs), r.Reused)
	if r.Flood != nil {
		fmt.Fprintf(w, "flood     %d guessers as %s from %s: %s\n", cfg.FloodWorkers, cfg.FloodUser, cfg.FloodSource,
			statusLine(floodResult(r.Flood)))
	}
	if len(r.ErrorSamples) > 0 {
		fmt.Fprintln(w, "first failures:")
		for _, e := range r.ErrorSamples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// statusLine lists 200, 401, 429 and 503 always, then any other status, then
// transport errors.
func statusLine(r Result) string {
	parts := []string{}
	shown := map[string]bool{}
	for _, code := range []string{"200", "401", "429", "503"} {
		parts = append(parts, fmt.Sprintf("%s: %d", code, r.Status[code]))
		shown[code] = true
	}
	var others []string
	for code := range r.Status {
		if !shown[code] {
			others = append(others, code)
		}
	}
	slices.SortFunc(others, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	for _, code := range others {
		parts = append(parts, fmt.Sprintf("%s: %d", code, r.Status[code]))
	}
	parts = append(parts, fmt.Sprintf("errors: %d", r.Errors))
	if r.BadBodies > 0 {
		parts = append(parts, fmt.Sprintf("200 without token: %d", r.BadBodies))
	}
	return strings.Join(parts, "  ")
}

// algLine lists the tokens by alg, in order of alg.
func algLine(algs map[string]int64) string {
	var parts []string
	for _, alg := range slices.Sorted(maps.Keys(algs)) {
		parts = append(parts, fmt.Sprintf("%s: %d", alg, algs[alg]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "  ")
}

// floodResult is the flood's tally as a Result, for statusLine.
func floodResult(tally map[string]int64) Result {
	r := Result{Status: map[string]int64{}}
	for k, n := range tally {
		if k == "error" {
			r.Errors = n
			continue
		}
		r.Status[k] = n
	}
	return r
}
