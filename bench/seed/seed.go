package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/postgres"
	"github.com/authserver/authserver/internal/store/sqlite"
)

// options are the seed command's flags.
type options struct {
	plan
	configPath string
	password   string
	batch      int
	append     bool // add only the missing rows instead of refusing a non-empty store
}

// run loads the config, opens and migrates its store and seeds it.
func run(ctx context.Context, o options, w io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.batch < 1 {
		return fmt.Errorf("--batch %d: want at least 1", o.batch)
	}
	if o.configPath == "" {
		return errors.New("--config: name the authserver config file whose store to fill")
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	// Seeded users are local users: their password meets the policy the
	// server holds passwords to.
	if err := admin.ValidPassword("--password", o.password, cfg.Passwords.MinLength); err != nil {
		return err
	}
	b, closeStore, err := openBulk(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	fmt.Fprintf(w, "seed: %s %s: %d users, %d projects, %d memberships, %d groups\n",
		cfg.Storage.Driver, redactDSN(cfg.Storage.DSN), o.users, o.projects, o.members, o.groups)
	return seed(ctx, b, o, cfg.Passwords.BcryptCost, w)
}

// openBulk opens the store named by cfg, brings its schema up to date and
// returns raw access to it.
func openBulk(ctx context.Context, cfg config.Config) (bulk, func() error, error) {
	switch cfg.Storage.Driver {
	case "sqlite":
		st, err := openMigrated(ctx, sqlite.Open, cfg.Storage.DSN)
		if err != nil {
			return nil, nil, err
		}
		return sqliteBulk{st.DB()}, st.Close, nil
	case "postgres":
		st, err := openMigrated(ctx, postgres.Open, cfg.Storage.DSN)
		if err != nil {
			return nil, nil, err
		}
		return pgBulk{st.Pool()}, st.Close, nil
	}
	return nil, nil, fmt.Errorf("storage.driver %q: want sqlite or postgres", cfg.Storage.Driver)
}

// openMigrated opens a store and brings its schema up to date, closing it
// when that fails.
func openMigrated[S interface {
	Migrate(context.Context) error
	Close() error
}](ctx context.Context, open func(context.Context, string) (S, error), dsn string) (S, error) {
	st, err := open(ctx, dsn)
	if err != nil {
		return st, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return st, fmt.Errorf("migrate: %w", err)
	}
	return st, nil
}

// redactDSN hides a password in a postgres:// URL.
func redactDSN(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	creds, host, ok := strings.Cut(rest, "@")
	if !ok {
		return dsn
	}
	if user, _, hasPw := strings.Cut(creds, ":"); hasPw {
		return scheme + "://" + user + ":xxx@" + host
	}
	return dsn
}

// seed writes the plan's rows through b and prints what each step took.
func seed(ctx context.Context, b bulk, o options, cost int, w io.Writer) error {
	p := o.plan
	if err := refuseExisting(ctx, b, o); err != nil {
		return err
	}
	began := time.Now()
	var total int64
	step := func(what string, rows int64, since time.Time) {
		took := time.Since(since)
		total += rows
		fmt.Fprintf(w, "  %-14s %9d rows in %-9s (%s rows/s)\n", what, rows, roundDur(took), perSecond(rows, took))
	}

	t := time.Now()
	hash, err := secret.HashPassword(o.password, cost)
	if err != nil {
		return fmt.Errorf("--password: %w", err)
	}
	fmt.Fprintf(w, "  %-14s bcrypt cost %d in %s, once: every seeded user shares it\n", "password hash", cost, roundDur(time.Since(t)))

	now := b.timeValue(time.Now().Truncate(time.Microsecond))
	skip := o.append

	t = time.Now()
	n, err := b.insert(ctx, "users", []string{"name", "password_hash", "source", "created_at", "updated_at"}, p.users, o.batch, skip,
		func(i int, d []any) { d[0], d[1], d[2], d[3], d[4] = userName(i), hash, store.SourceLocal, now, now })
	if err != nil {
		return err
	}
	step("users", n, t)

	t = time.Now()
	n, err = b.insert(ctx, "projects", []string{"name", "public", "created_at"}, p.projects, o.batch, skip,
		func(i int, d []any) { d[0], d[1], d[2] = projectName(i), p.public(i), now })
	if err != nil {
		return err
	}
	step("projects", n, t)

	t = time.Now()
	n, err = b.insert(ctx, "groups", []string{"name", "created_at"}, p.groups, o.batch, skip,
		func(i int, d []any) { d[0], d[1] = groupName(i), now })
	if err != nil {
		return err
	}
	step("groups", n, t)

	t = time.Now()
	uIDs, err := allIDs(ctx, b, usersKind, p.users)
	if err != nil {
		return err
	}
	pIDs, err := allIDs(ctx, b, projectsKind, p.projects)
	if err != nil {
		return err
	}
	gIDs, err := allIDs(ctx, b, groupsKind, p.groups)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %-14s %9d ids in %s\n", "id lookup", len(uIDs)+len(pIDs)+len(gIDs), roundDur(time.Since(t)))

	if p.groups > 0 {
		t = time.Now()
		n, err = b.insert(ctx, "user_groups", []string{"group_id", "user_id"}, p.users, o.batch, skip,
			func(u int, d []any) { d[0], d[1] = gIDs[p.groupOf(u)], uIDs[u] })
		if err != nil {
			return err
		}
		step("group users", n, t)
	}

	t = time.Now()
	n, err = b.insert(ctx, "members", []string{"project_id", "user_id", "role"}, p.members, o.batch, skip,
		func(g int, d []any) {
			u, proj, role := p.membership(g)
			d[0], d[1], d[2] = pIDs[proj], uIDs[u], string(role)
		})
	if err != nil {
		return err
	}
	step("members", n, t)

	if p.groups > 0 {
		t = time.Now()
		n, err = b.insert(ctx, "members", []string{"project_id", "group_id", "role"}, p.groups, o.batch, skip,
			func(k int, d []any) {
				proj, role := p.groupGrant(k)
				d[0], d[1], d[2] = pIDs[proj], gIDs[k], string(role)
			})
		if err != nil {
			return err
		}
		step("group members", n, t)
	}

	t = time.Now()
	if err := b.analyze(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "  %-14s in %s\n", "analyze", roundDur(time.Since(t)))
	took := time.Since(began)
	fmt.Fprintf(w, "  %-14s %9d rows in %-9s (%s rows/s)\n", "total", total, roundDur(took), perSecond(total, took))
	return nil
}

// refuseExisting fails when seeded names are already in the store, unless
// --append asked to fill in only what is missing.
func refuseExisting(ctx context.Context, b bulk, o options) error {
	if o.append {
		return nil
	}
	var found []string
	for _, c := range []struct {
		k kind
		n int
	}{{usersKind, o.users}, {projectsKind, o.projects}, {groupsKind, o.groups}} {
		ids, err := b.ids(ctx, c.k, c.n)
		if err != nil {
			return err
		}
		have := 0
		for _, id := range ids {
			if id != 0 {
				have++
			}
		}
		if have > 0 {
			lo, hi := c.k.bounds(c.n)
			found = append(found, fmt.Sprintf("%d of the %d %s %s…%s", have, c.n, c.k.table, lo, hi))
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("seed: the store already has %s: seed an empty database, or pass --append to add only the missing rows",
			strings.Join(found, ", "))
	}
	return nil
}

// allIDs is b.ids, failing if any seeded row is missing.
func allIDs(ctx context.Context, b bulk, k kind, n int) ([]int64, error) {
	ids, err := b.ids(ctx, k, n)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if id == 0 {
			return nil, fmt.Errorf("seed: %s %s missing after insert", k.table, fmt.Sprintf(k.format, i))
		}
	}
	return ids, nil
}

func perSecond(rows int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(rows)/d.Seconds())
}

// roundDur keeps three significant digits or so.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
