-- 0012: the audit trail says which endpoint a login came to ("token" for
-- /service/token, "api" for the REST API): failed and throttled logins are
-- recorded at both. Older records keep '' (they came to the token endpoint).
ALTER TABLE audit_log ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';
