-- 0041: one row per SSO sign-in (oidc_signins) and the browser sessions
-- (web_sessions) it opened. Every credential minted from a sign-in (a web
-- session, a device-flow refresh token, a personal access token made in the
-- page) dies at the sign-in's expires_at (signed in + oidc.max_session).
-- provider_refresh is the provider's refresh token (offline_access), sealed
-- with AES-256-GCM under a key derived from oidc.client_secret (HKDF-SHA256),
-- for oidc.recheck; NULL when the provider gave none. A web session is found
-- by the SHA-256 of its cookie (never stored in clear); csrf is the form
-- token of that session. Deleting the user deletes all of them.
CREATE TABLE oidc_signins (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    signed_in_at     TEXT    NOT NULL,
    expires_at       TEXT    NOT NULL,
    provider_refresh BLOB,
    rechecked_at     TEXT    NOT NULL
) STRICT;

CREATE INDEX oidc_signins_user_idx ON oidc_signins (user_id);

CREATE TABLE web_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_hash TEXT    NOT NULL UNIQUE,
    signin_id    INTEGER NOT NULL REFERENCES oidc_signins (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL
) STRICT;

CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
