-- 0042: device authorization requests (RFC 8628, `authserver login`). The
-- device_code is a secret the CLI polls with: only its SHA-256 is stored.
-- user_code is what the person types at /device (8 letters, unique while
-- the row lives). status: pending, approved, denied, used (approved and
-- traded for tokens, once). last_poll enforces the polling interval
-- (slow_down). An approval records who approved and from which sign-in.
CREATE TABLE device_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash   TEXT    NOT NULL UNIQUE,
    user_code   TEXT    NOT NULL UNIQUE,
    client_id   TEXT    NOT NULL,
    scope       TEXT    NOT NULL DEFAULT '',
    service     TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    signin_id   INTEGER REFERENCES oidc_signins (id) ON DELETE CASCADE,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    interval_s  INTEGER NOT NULL,
    last_poll   TEXT
) STRICT;

CREATE INDEX device_codes_expires_idx ON device_codes (expires_at);
