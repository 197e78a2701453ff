-- 0001: users, projects, groups, group users and project members.
-- Times are UTC text "YYYY-MM-DDTHH:MM:SS.ffffffZ" written by the store.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL DEFAULT '',
    display_name  TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL DEFAULT '',
    admin         INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    source        TEXT    NOT NULL DEFAULT 'local',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE projects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    public     INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    created_at TEXT    NOT NULL
) STRICT;

-- dn keeps the DN as given; dn_norm is its lower-cased form (computed by the
-- store), NULL for local groups, and is what lookups and uniqueness use.
CREATE TABLE groups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    dn         TEXT,
    dn_norm    TEXT    UNIQUE CHECK (dn_norm IS NULL OR dn_norm <> ''),
    created_at TEXT    NOT NULL
) STRICT;

CREATE TABLE user_groups (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) STRICT;

CREATE INDEX user_groups_user_idx ON user_groups (user_id, group_id);

-- Exactly one of user_id and group_id is set.
CREATE TABLE members (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id   INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    UNIQUE (project_id, user_id),
    UNIQUE (project_id, group_id)
) STRICT;

CREATE INDEX members_user_idx  ON members (user_id, project_id);
CREATE INDEX members_group_idx ON members (group_id, project_id);
