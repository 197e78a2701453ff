-- 0002: what the directory said about LDAP users at their last login.
-- One row per user that logged in through LDAP; group_dns is a JSON array of
-- the group DNs found then (used by explain). admin is whether the user was
-- in ldap.admin_group_dn; it is recomputed at every login and is not the
-- users.admin flag.

CREATE TABLE ldap_users (
    user_id   INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    dn        TEXT    NOT NULL,
    group_dns TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(group_dns)),
    admin     INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    synced_at TEXT    NOT NULL
) STRICT;
