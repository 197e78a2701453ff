-- 0002: what the directory said about LDAP users at their last login.
-- One row per user that logged in through LDAP; group_dns are the group DNs
-- found then (used by explain). admin is whether the user was in
-- ldap.admin_group_dn; it is recomputed at every login and is not the
-- users.admin flag.

CREATE TABLE ldap_users (
    user_id   BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    dn        TEXT        NOT NULL,
    group_dns TEXT[]      NOT NULL DEFAULT '{}',
    admin     BOOLEAN     NOT NULL DEFAULT FALSE,
    synced_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
