package sqldb

import (
	"context"
	"time"

	"github.com/authserver/authserver/internal/store"
)

var auditCols = []string{"time", "subject", "method", "client_ip", "user_agent", "service", "requested", "granted",
	"result", "client_id", "request_id"}

var (
	insertAuditQ = q(`INSERT INTO audit_log
		(time, subject, method, client_ip, user_agent, service, requested, granted, result, client_id, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// listAuditQ holds one statement per combination of filters: bit 0
	// subject, bit 1 since, bit 2 result.
	listAuditQ = func() (qs [8]query) {
		for i := range qs {
			text := `SELECT id, time, subject, method, client_ip, user_agent, service, requested, granted, result,
		client_id, request_id FROM audit_log WHERE 1=1`
			if i&1 != 0 {
				text += ` AND subject = ?`
			}
			if i&2 != 0 {
				text += ` AND time >= ?`
			}
			if i&4 != 0 {
				text += ` AND result = ?`
			}
			qs[i] = q(text + ` ORDER BY time DESC, id DESC LIMIT ?`)
		}
		return qs
	}()
	pruneAuditQ = q(`DELETE FROM audit_log WHERE time < ?`)
)

// AppendAudit implements store.Audit: in one COPY where the dialect has it,
// else through one prepared INSERT in one transaction.
func (s *Store) AppendAudit(ctx context.Context, records []store.AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	rows := make([][]any, len(records))
	for i, r := range records {
		requested, err := s.list(r.Requested, wordsList)
		if err != nil {
			return s.wrap("append audit", err)
		}
		granted, err := s.list(r.Granted, wordsList)
		if err != nil {
			return s.wrap("append audit", err)
		}
		rows[i] = []any{s.time(r.Time), r.Subject, r.Method, r.ClientIP, r.UserAgent, r.Service,
			requested, granted, r.Result, r.ClientID, r.RequestID}
	}
	if s.d.CopyFrom != nil {
		return s.wrap("append audit", s.copyFrom(ctx, "audit_log", auditCols, rows))
	}
	err := s.inTx(ctx, func(tx txn) error {
		stmt, err := tx.tx.PrepareContext(ctx, s.text[insertAuditQ])
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, row := range rows {
			if _, err := stmt.ExecContext(ctx, row...); err != nil {
				return err
			}
		}
		return nil
	})
	return s.wrap("append audit", err)
}

// copyFrom hands rows to Dialect.CopyFrom on one driver connection.
func (s *Store) copyFrom(ctx context.Context, table string, cols []string, rows [][]any) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return s.d.CopyFrom(ctx, dc, table, cols, rows) })
}

// ListAudit implements store.Audit.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditRecord, error) {
	var args []any
	variant := 0
	if f.Subject != "" {
		variant |= 1
		args = append(args, f.Subject)
	}
	if !f.Since.IsZero() {
		variant |= 2
		args = append(args, s.time(f.Since))
	}
	if f.Result != "" {
		variant |= 4
		args = append(args, f.Result)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, listAuditQ[variant], append(args, limit)...)
	out, err := collect(rows, err, func(row scanner) (store.AuditRecord, error) {
		var r store.AuditRecord
		err := row.Scan(&r.ID, s.timeCol(&r.Time), &r.Subject, &r.Method, &r.ClientIP, &r.UserAgent, &r.Service,
			s.listCol(&r.Requested, wordsList), s.listCol(&r.Granted, wordsList), &r.Result, &r.ClientID, &r.RequestID)
		return r, err
	})
	return out, s.wrap("list audit", err)
}

// PruneAudit implements store.Audit.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.exec(ctx, pruneAuditQ, s.time(before))
	if err != nil {
		return 0, s.wrap("prune audit", err)
	}
	n, err := res.RowsAffected()
	return n, s.wrap("prune audit", err)
}
