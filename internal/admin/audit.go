package admin

import (
	"context"
	"fmt"

	"github.com/authserver/authserver/internal/store"
)

// change makes a change with do and writes its admin audit record (who,
// authenticated by who.Method, did action, "project.create", to target,
// "project team") in one
// transaction: both or neither. Every change admin makes, through the CLI
// or the REST API, goes through it. do writes through st, the store of
// that transaction, and maps the store's errors itself (fromStore): its
// error is returned as it is and no record is written. A record that
// cannot be written fails the change with an infrastructure error (not an
// *Error: the API answers 503, the CLI exits 1), and is logged.
func (s *Service) change(ctx context.Context, who Actor, action, target string, do func(st store.Store) error) error {
	rec := s.record(who, action, target, store.AuditDone)
	return s.st.Atomically(ctx, func(st store.Store) error {
		if err := do(st); err != nil {
			return err
		}
		if err := st.AppendAudit(ctx, []store.AuditRecord{rec}); err != nil {
			s.opt.Logger.Error("cannot write admin audit record: the change is not made", "action", action,
				"target", target, "actor", rec.Subject, "err", err)
			return fmt.Errorf("%s: write admin audit record: %w", action, err)
		}
		return nil
	})
}

// Note writes an admin audit record of something who did that changes
// nothing the admin service manages (an SSO sign-in, an onboarding, a
// device approval) with result (store.AuditDone, or AuditUnauthorized for
// a refusal). A record that cannot be written is an error.
func (s *Service) Note(ctx context.Context, who Actor, action, target, result string) error {
	rec := s.record(who, action, target, result)
	if err := s.st.AppendAudit(ctx, []store.AuditRecord{rec}); err != nil {
		return fmt.Errorf("%s: write admin audit record: %w", action, err)
	}
	return nil
}

// refused records a change refused for a reason worth auditing (a wrong
// old password: store.AuditUnauthorized), with no change to go with it. A
// record that cannot be written is logged; the refusal stands.
func (s *Service) refused(ctx context.Context, who Actor, action, target, result string) {
	rec := s.record(who, action, target, result)
	if err := s.st.AppendAudit(ctx, []store.AuditRecord{rec}); err != nil {
		s.opt.Logger.Error("cannot write admin audit record of a refusal", "action", action, "target", target,
			"actor", rec.Subject, "result", result, "err", err)
	}
}

// record is the admin audit record of who doing action to target.
func (s *Service) record(who Actor, action, target, result string) store.AuditRecord {
	ip := who.ClientIP
	if ip == "" {
		ip = "local"
	}
	subject := who.Name
	if subject == "" {
		subject = "anonymous"
	}
	return store.AuditRecord{Time: s.opt.Now().UTC(), Subject: subject, Method: who.Method, ClientIP: ip,
		Kind: store.AuditKindAdmin, Action: action, Target: target, Result: result}
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
