-- 0031: an issued token's record carries the token's jti, so a token seen
-- at a registry (or in a client's hands) can be traced to its record, and
-- records can be listed by it (audit list --jti). '' for refusals, admin
-- records and records written before.
ALTER TABLE audit_log ADD COLUMN jti TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_jti_idx ON audit_log (jti) WHERE jti <> '';
