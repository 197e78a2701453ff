package sqldb

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/store"
)

var auditCols = []string{"time", "subject", "method", "client_ip", "user_agent", "service", "requested", "granted",
	"result", "client_id", "request_id", "kind", "action", "target", "federated_issuer", "federated_subject", "endpoint", "jti", "reason"}

var (
	insertAuditQ = q(`INSERT INTO audit_log (` + strings.Join(auditCols, ", ") + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// listAuditQ holds one statement per combination of filters: bit 0
	// subject, bit 1 since, bit 2 result, bit 3 kind, bit 4 jti.
	// countAuditQ counts what listAuditQ of the same index lists. The jti
	// filter repeats the jti index's condition (jti <> ''): SQLite uses a
	// partial index only for a query whose WHERE names its condition, and
	// without it scanned the whole table (a jti filter is never ''). With a
	// subject or a jti, the kind is tested as kind || '', which no index
	// serves: a user's or a token's records are few, a kind's are most of
	// the table, and SQLite (no statistics) chose the kind index.
	listAuditQ, countAuditQ = func() (list, count [32]query) {
		for i := range list {
			cols := strings.Replace(strings.Join(auditCols, ", "), "requested, granted", "{list}(requested), {list}(granted)", 1)
			where := ` FROM audit_log WHERE 1=1`
			kind := ` AND kind = ?`
			if i&(1<<0|1<<4) != 0 {
				kind = ` AND kind || '' = ?`
			}
			for bit, cond := range []string{` AND subject = ?`, ` AND time >= ?`, ` AND result = ?`, kind, ` AND jti = ? AND jti <> ''`} {
				if i&(1<<bit) != 0 {
					where += cond
				}
			}
			list[i] = q(`SELECT id, ` + cols + where + ` ORDER BY time DESC, id DESC LIMIT ? OFFSET ?`)
			count[i] = q(`SELECT count(*)` + where)
		}
		return list, count
	}()
	pruneAuditQ = q(`DELETE FROM audit_log WHERE time < ?`)
)

func (s *Store) AppendAudit(ctx context.Context, records []store.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	rows := make([][]any, len(records))
	for i, r := range records {
		rows[i] = []any{s.time(r.Time), r.Subject, r.Method, r.ClientIP, r.UserAgent, r.Service,
			s.list(r.Requested, wordsList), s.list(r.Granted, wordsList), r.Result, r.ClientID, r.RequestID,
			cmp.Or(r.Kind, store.AuditKindToken), r.Action, r.Target, r.FederatedIssuer, r.FederatedSubject, r.Endpoint, r.JTI, r.Reason}
	}
	if len(rows) == 1 && s.tx == nil { // one statement is one transaction: no COPY, no BEGIN
		_, err := s.exec(ctx, insertAuditQ, rows[0]...)
		return s.wrap("append audit", err)
	}
	if s.d.CopyFrom != nil && s.tx == nil {
		conn, err := s.db.Conn(ctx)
		if err == nil {
			err = conn.Raw(func(dc any) error { return s.d.CopyFrom(ctx, dc, "audit_log", auditCols, rows) })
			conn.Close()
		}
		return s.wrap("append audit", err)
	}
	rowCtx := ctx
	if s.tx == nil {
		// Our own transaction (SQLite's: PostgreSQL COPYs), begun under
		// ctx and rolled back when ctx ends. BEGIN IMMEDIATE took the
		// write lock, so an insert waits for nothing; under a context
		// without Done the driver starts no goroutine per row to watch
		// ctx (BenchmarkAppendAudit batch-500: 0.65 x the CPU).
		rowCtx = context.WithoutCancel(ctx)
	}
	err := s.inTx(ctx, func(tx *Store) error {
		for _, row := range rows { // prepared once (Dialect.Prepare)
			if _, err := tx.exec(rowCtx, insertAuditQ, row...); err != nil {
				return err
			}
		}
		return nil
	})
	return s.wrap("append audit", err)
}

// auditWhere is the variant of listAuditQ and countAuditQ that f selects
// with, and its arguments.
func (s *Store) auditWhere(f store.AuditFilter) (variant int, args []any) {
	for bit, arg := range []any{f.Subject, s.optTime(f.Since), f.Result, f.Kind, f.JTI} { // unset: "" or nil
		if arg != "" && arg != nil {
			variant |= 1 << bit
			args = append(args, arg)
		}
	}
	return variant, args
}

func (s *Store) CountAudit(ctx context.Context, f store.AuditFilter) (int, error) {
	variant, args := s.auditWhere(f)
	var n int
	err := s.queryRow(ctx, countAuditQ[variant], args...).Scan(&n)
	return n, s.wrap("count audit", err)
}

func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error) {
	variant, args := s.auditWhere(f)
	limit := cmp.Or(max(f.Limit, 0), 100) // unless a positive limit is set
	out, err := collect(ctx, s, func(row scanner) (r store.AuditRecord, err error) {
		err = row.Scan(&r.ID, timeCol(&r.Time), &r.Subject, &r.Method, &r.ClientIP, &r.UserAgent, &r.Service,
			s.listCol(&r.Requested, wordsList), s.listCol(&r.Granted, wordsList), &r.Result, &r.ClientID, &r.RequestID,
			&r.Kind, &r.Action, &r.Target, &r.FederatedIssuer, &r.FederatedSubject, &r.Endpoint, &r.JTI, &r.Reason)
		return
	}, listAuditQ[variant], append(args, limit, max(f.Offset, 0))...)
	return out, s.wrap("list audit", err)
}

func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	n, err := affected(s.exec(ctx, pruneAuditQ, s.time(before)))
	return n, s.wrap("prune audit", err)
}
