-- 0030: the login throttle in the database (throttle.store: database), so
-- every replica counts the same failures: one row per counter (a (user,
-- network) pair or a network, by a hashed key) and one row per attempt in
-- flight on it (a hold), which expires by itself when its replica dies
-- mid-check.
CREATE TABLE throttle_counters (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL DEFAULT 0,
    last_failure  TIMESTAMPTZ,
    blocked_until TIMESTAMPTZ
);

CREATE TABLE throttle_holds (
    key        TEXT NOT NULL,
    id         TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key, id)
);

CREATE INDEX throttle_holds_id_idx ON throttle_holds (id);
CREATE INDEX throttle_holds_expires_idx ON throttle_holds (expires_at);
