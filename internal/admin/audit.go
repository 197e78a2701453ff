package admin

import (
	"context"
	"fmt"

	"github.com/authserver/authserver/internal/store"
)

// record writes one admin audit record: who did action ("project.create")
// to target ("project team"). Every change admin makes, through the CLI or
// the REST API, calls it once it has succeeded. A failure to write is
// logged, not returned: the change itself has been made.
func (s *Service) record(ctx context.Context, who Actor, action, target string) {
	ip := who.ClientIP
	if ip == "" {
		ip = "local"
	}
	subject := who.Name
	if subject == "" {
		subject = "anonymous"
	}
	rec := store.AuditRecord{Time: s.opt.Now().UTC(), Subject: subject, ClientIP: ip, Kind: store.AuditKindAdmin,
		Action: action, Target: target, Result: store.AuditDone}
	if err := s.st.AppendAudit(context.WithoutCancel(ctx), []store.AuditRecord{rec}); err != nil {
		s.opt.Logger.Error("cannot write admin audit record", "action", action, "target", target, "actor", subject, "err", err)
	}
}

// ListAudit reads the audit trail (sysadmins only).
func (s *Service) ListAudit(ctx context.Context, who Actor, f store.AuditFilter) ([]store.AuditRecord, error) {
	if err := s.allow(ctx, who, rightSystem, "", "read the audit trail"); err != nil {
		return nil, err
	}
	if err := ValidAuditFilter(f); err != nil {
		return nil, err
	}
	return s.st.ListAudit(ctx, f)
}

// ValidAuditFilter checks a filter's kind and result, each empty or one
// the trail records; the message names the field ("kind", "result").
func ValidAuditFilter(f store.AuditFilter) error {
	switch f.Result {
	case "", store.AuditIssued, store.AuditUnauthorized, store.AuditThrottled, store.AuditDone:
	default:
		return invalidf(fmt.Sprintf("result %q: want %s, %s, %s or %s", f.Result,
			store.AuditIssued, store.AuditUnauthorized, store.AuditThrottled, store.AuditDone))
	}
	switch f.Kind {
	case "", store.AuditKindToken, store.AuditKindAdmin:
	default:
		return invalidf(fmt.Sprintf("kind %q: want %s or %s", f.Kind, store.AuditKindToken, store.AuditKindAdmin))
	}
	return nil
}
