package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// table is one kind of row and the statements that read and write it (a
// kind without some leaves them unused): scan reads a row into a T, and
// what names one in errors: `get user "alice"`, "get user 7", "list users",
// `delete user "alice"`, and for tokens (hashed) "get refresh token" (the
// hash is not shown), "touch refresh token", `list refresh tokens of "alice"`.
type table[T any] struct {
	what   string
	hashed bool
	scan   func(scanner) (T, error)
	// byKey finds a row by name (by hash when hashed), byID by id; all lists
	// rows (a user's tokens by user id); del deletes by name; touch sets a
	// token's last_used_at by id.
	byKey, byID, all, del, touch query
	id                           query // a named row's id by name
}

// named is the table of what+"s" whose columns sel (SELECT ... FROM it)
// reads, found by name (where: `name = ?` but for groups), by id, listed
// in name order and deleted by name.
func named[T any](what, sel, where string, scan func(scanner) (T, error)) *table[T] {
	return &table[T]{what: what, scan: scan, byKey: q(sel + ` WHERE ` + where), byID: q(sel + ` WHERE id = ?`),
		all: q(sel + ` ORDER BY name{collate}`), del: q(`DELETE FROM ` + what + `s WHERE name = ?`),
		id: q(`SELECT id FROM ` + what + `s WHERE name = ?`)}
}

// columns is the scan function of a kind whose columns dest lists.
func columns[T any](dest func(v *T) []any) func(scanner) (T, error) {
	return func(row scanner) (v T, err error) {
		err = row.Scan(dest(&v)...)
		return
	}
}

// get reads the row q finds with args. Its error names the row by args[0]
// (not a token's hash) and is built only on failure: the token path reads
// users and robots.
func (t *table[T]) get(ctx context.Context, s *Store, q query, args ...any) (T, error) {
	v, err := t.scan(s.queryRow(ctx, q, args...))
	switch {
	case err == nil:
		return v, nil
	case t.hashed:
		return v, s.wrap("get "+t.what, err)
	}
	return v, s.wrap(fmt.Sprintf("get %s %#v", t.what, args[0]), err) // `user "alice"`, `user 7`
}

// idOf returns the id of the row named name, or ErrNotFound saying what is
// missing. A row deleted after its lookup fails the statement using its id
// as a foreign-key violation: ErrNotFound too (Dialect.Sentinel).
func (t *table[T]) idOf(ctx context.Context, s *Store, name string) (int64, error) {
	var id int64
	err := s.queryRow(ctx, t.id, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s %q: %w", t.what, name, store.ErrNotFound)
	}
	return id, err
}

func (t *table[T]) list(ctx context.Context, s *Store, args ...any) ([]T, error) {
	out, err := collect(ctx, s, t.scan, t.all, args...)
	return out, s.wrap("list "+t.what+"s", err)
}

// ofUser lists the tokens of user.
func (t *table[T]) ofUser(ctx context.Context, s *Store, user string) ([]T, error) {
	var out []T
	uid, err := users.idOf(ctx, s, user)
	if err == nil {
		out, err = collect(ctx, s, t.scan, t.all, uid)
	}
	return out, s.wrap("list "+t.what+"s of "+quote(user), err)
}

func (t *table[T]) delete(ctx context.Context, s *Store, name string) error {
	return s.change(ctx, "delete "+t.what+" "+quote(name), t.del, name)
}

func (t *table[T]) touchAt(ctx context.Context, s *Store, id int64, when time.Time) error {
	return s.change(ctx, "touch "+t.what, t.touch, s.time(at(when)), id)
}

// modify reads the row lock (ending in {for_update}) finds by name, calls fn
// with it and writes what fn returns with put, in one transaction that keeps
// the row locked. An error from fn is returned unchanged, others wrapped.
func (t *table[T]) modify(ctx context.Context, s *Store, lock query, name string, fn func(T) (T, error),
	put func(tx txn, old T, v *T) error) (T, error) {
	var out, zero T
	var fnErr error
	err := s.inTx(ctx, func(tx txn) error {
		old, err := t.scan(tx.queryRow(ctx, lock, name))
		if err == nil {
			if out, fnErr = fn(old); fnErr != nil {
				return fnErr
			}
			err = put(tx, old, &out)
		}
		return err
	})
	switch {
	case fnErr != nil:
		return zero, fnErr
	case err != nil:
		return zero, s.wrap("modify "+t.what+" "+quote(name), err)
	}
	return out, nil
}
