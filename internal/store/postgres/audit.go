package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authserver/authserver/internal/store"
)

// AppendAudit implements store.Audit with one batched round trip.
func (s *Store) AppendAudit(ctx context.Context, records []store.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	rows := make([][]any, len(records))
	for i, r := range records {
		rows[i] = []any{r.Time.UTC(), r.Subject, r.Method, r.ClientIP, r.UserAgent, r.Service,
			nonNil(r.Requested), nonNil(r.Granted), r.Result, r.ClientID, r.RequestID}
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"audit_log"},
		[]string{"time", "subject", "method", "client_ip", "user_agent", "service", "requested", "granted", "result", "client_id", "request_id"},
		pgx.CopyFromRows(rows))
	return wrap("append audit", err)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ListAudit implements store.Audit.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error) {
	q := `SELECT id, time, subject, method, client_ip, user_agent, service, requested, granted, result, client_id, request_id
		FROM audit_log WHERE true`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Subject != "" {
		q += ` AND subject = ` + arg(f.Subject)
	}
	if !f.Since.IsZero() {
		q += ` AND time >= ` + arg(f.Since.UTC())
	}
	if f.Result != "" {
		q += ` AND result = ` + arg(f.Result)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY time DESC, id DESC LIMIT ` + arg(limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list audit", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditRecord, error) {
		var r store.AuditRecord
		err := row.Scan(&r.ID, &r.Time, &r.Subject, &r.Method, &r.ClientIP, &r.UserAgent, &r.Service,
			&r.Requested, &r.Granted, &r.Result, &r.ClientID, &r.RequestID)
		r.Time = r.Time.UTC()
		return r, err
	})
	return out, wrap("list audit", err)
}

// PruneAudit implements store.Audit.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_log WHERE time < $1`, before.UTC())
	if err != nil {
		return 0, wrap("prune audit", err)
	}
	return tag.RowsAffected(), nil
}
