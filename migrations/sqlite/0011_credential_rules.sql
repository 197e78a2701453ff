-- 0011: the rules about credentials live in one place each.

-- Revocation is internal/admin's rule, applied in the change's transaction:
-- an administrator's password reset or a disable revokes the user's refresh
-- tokens AND personal access tokens, one's own password change only the
-- refresh tokens. A trigger cannot tell those apart, and a second home for
-- half of the rule is how the two drift: the trigger of 0003 goes.
DROP TRIGGER users_revoke_refresh_tokens;

-- Robots are found by name, never by secret. robots.secret_hash was UNIQUE,
-- which let anyone who manages one robot test whether ANY robot in the
-- system has a given secret: set their own robot's secret to the candidate
-- and watch for "already exists". Logins look a robot up by name and check
-- the secret against that one row, so nothing needs the hash to be unique
-- or indexed. A federated robot's marker ('trust:' || name, see 0009) stays.
--
-- SQLite cannot drop a constraint written inside CREATE TABLE: the table is
-- rebuilt with the same columns, rows and ids. The migration runs in one
-- transaction with foreign keys on (PRAGMA foreign_keys cannot change inside
-- a transaction), so dropping the old table deletes, by ON DELETE CASCADE,
-- every robot_permissions row: they are kept aside and put back, and so is
-- AUTOINCREMENT's high-water mark, so the id of a deleted robot is never
-- handed out again.
CREATE TEMP TABLE robot_permissions_0011 AS SELECT robot_id, project_id, actions FROM robot_permissions;
CREATE TEMP TABLE robots_seq_0011 AS SELECT seq FROM sqlite_sequence WHERE name = 'robots';

CREATE TABLE robots_0011 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL UNIQUE,
    project_id       INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    description      TEXT    NOT NULL DEFAULT '',
    secret_hash      TEXT    NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    expires_at       TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    system           INTEGER NOT NULL DEFAULT 0
        CHECK (system IN (0, 1) AND (system = 0 OR project_id IS NULL)),
    trust_issuer     TEXT,
    trust_conditions TEXT
) STRICT;

INSERT INTO robots_0011 (id, name, project_id, description, secret_hash, disabled, expires_at, created_at,
        updated_at, system, trust_issuer, trust_conditions)
    SELECT id, name, project_id, description, secret_hash, disabled, expires_at, created_at,
        updated_at, system, trust_issuer, trust_conditions FROM robots;

DROP TABLE robots;
ALTER TABLE robots_0011 RENAME TO robots;
CREATE INDEX robots_project_idx ON robots (project_id);

INSERT INTO robot_permissions (robot_id, project_id, actions)
    SELECT robot_id, project_id, actions FROM robot_permissions_0011;
DELETE FROM sqlite_sequence WHERE name = 'robots';
INSERT INTO sqlite_sequence (name, seq) SELECT 'robots', seq FROM robots_seq_0011;

DROP TABLE robot_permissions_0011;
DROP TABLE robots_seq_0011;
