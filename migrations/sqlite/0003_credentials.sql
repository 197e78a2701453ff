-- 0003: refresh tokens, robot accounts and personal access tokens.
-- Secrets are never stored: *_hash columns hold the hex SHA-256 of the
-- secret, unique (and so indexed) for one-lookup authentication.

CREATE TABLE refresh_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL UNIQUE,
    service      TEXT    NOT NULL,
    client_id    TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    last_used_at TEXT    NOT NULL
) STRICT;

CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id, last_used_at);

-- A changed password or a disabled user revokes the user's refresh tokens,
-- whoever writes the change (server, CLI, another process).
CREATE TRIGGER users_revoke_refresh_tokens
AFTER UPDATE OF password_hash, disabled ON users
WHEN NEW.password_hash IS NOT OLD.password_hash OR (NEW.disabled = 1 AND OLD.disabled = 0)
BEGIN
    DELETE FROM refresh_tokens WHERE user_id = NEW.id;
END;

-- name is without the configurable prefix: "team+ci" or, for a system robot
-- (project_id NULL), "ci". actions is a comma list such as "pull,push".
CREATE TABLE robots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    project_id  INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    actions     TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    secret_hash TEXT    NOT NULL UNIQUE,
    disabled    INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    expires_at  TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;

CREATE INDEX robots_project_idx ON robots (project_id);

CREATE TABLE personal_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    expires_at   TEXT,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    UNIQUE (user_id, name)
) STRICT;
