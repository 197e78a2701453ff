-- 0051: why a login was refused when the credential itself was right (a
-- condition on it: the networks it may log in from), kept in the audit
-- record of the refusal. '' for every other record.
ALTER TABLE audit_log ADD COLUMN reason TEXT NOT NULL DEFAULT '';
