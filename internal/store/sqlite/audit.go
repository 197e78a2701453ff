package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/store"
)

// AppendAudit implements store.Audit. Scope lists are stored space-joined
// (a scope never contains a space).
func (s *Store) AppendAudit(ctx context.Context, records []store.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("append audit", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log
		(time, subject, method, client_ip, user_agent, service, requested, granted, result, client_id, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return wrap("append audit", err)
	}
	defer stmt.Close()
	for _, r := range records {
		if _, err := stmt.ExecContext(ctx, fmtTime(r.Time), r.Subject, r.Method, r.ClientIP, r.UserAgent, r.Service,
			strings.Join(r.Requested, " "), strings.Join(r.Granted, " "), r.Result, r.ClientID, r.RequestID); err != nil {
			return wrap("append audit", err)
		}
	}
	return wrap("append audit", tx.Commit())
}

// ListAudit implements store.Audit.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error) {
	q := `SELECT id, time, subject, method, client_ip, user_agent, service, requested, granted, result, client_id, request_id
		FROM audit_log WHERE 1=1`
	var args []any
	if f.Subject != "" {
		q += ` AND subject = ?`
		args = append(args, f.Subject)
	}
	if !f.Since.IsZero() {
		q += ` AND time >= ?`
		args = append(args, fmtTime(f.Since))
	}
	if f.Result != "" {
		q += ` AND result = ?`
		args = append(args, f.Result)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY time DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("list audit", err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var requested, granted string
		if err := rows.Scan(&r.ID, timeText{&r.Time}, &r.Subject, &r.Method, &r.ClientIP, &r.UserAgent, &r.Service,
			&requested, &granted, &r.Result, &r.ClientID, &r.RequestID); err != nil {
			return nil, wrap("list audit", err)
		}
		r.Requested, r.Granted = strings.Fields(requested), strings.Fields(granted)
		out = append(out, r)
	}
	return out, wrap("list audit", rows.Err())
}

// PruneAudit implements store.Audit.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM audit_log WHERE time < ?`, fmtTime(before))
	if err != nil {
		return 0, wrap("prune audit", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("prune audit", err)
}
