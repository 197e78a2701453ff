-- 0004: the audit trail of token requests (issued tokens, failed logins).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    method     TEXT NOT NULL DEFAULT '',
    client_ip  TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    service    TEXT NOT NULL DEFAULT '',
    requested  TEXT NOT NULL DEFAULT '',
    granted    TEXT NOT NULL DEFAULT '',
    result     TEXT NOT NULL,
    client_id  TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_log_time_idx ON audit_log (time);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, time);
