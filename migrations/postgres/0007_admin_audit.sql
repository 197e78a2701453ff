-- 0007: administrative changes in the audit trail (CLI and REST API): what
-- kind of record, and for admin records the action and its target.
ALTER TABLE audit_log ADD COLUMN kind   TEXT NOT NULL DEFAULT 'token';
ALTER TABLE audit_log ADD COLUMN action TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN target TEXT NOT NULL DEFAULT '';

CREATE INDEX audit_log_kind_idx ON audit_log (kind, time);
