-- 0040: people who sign in with SSO (oidc:). A user of source 'oidc' is bound
-- to the provider's (issuer, sub) pair, never to a name: a name the claim
-- gives that belongs to a local or LDAP user is refused, not merged. groups
-- and admin are what the last sign-in's ID token said (admin: one of
-- oidc.admin_groups), recomputed at every sign-in and never copied into
-- users.admin.
CREATE TABLE oidc_users (
    user_id   BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    issuer    TEXT        NOT NULL,
    subject   TEXT        NOT NULL,
    groups    TEXT[]      NOT NULL DEFAULT '{}',
    admin     BOOLEAN     NOT NULL DEFAULT FALSE,
    synced_at TIMESTAMPTZ NOT NULL,
    UNIQUE (issuer, subject)
);

-- Groups of Harbor's OIDC type (group_type 3): made from the groups claim at
-- sign-in (or by an administrator ahead of it); their members (user_groups)
-- are replaced at each sign-in of a user with what the claim says.
ALTER TABLE groups ADD COLUMN oidc BOOLEAN NOT NULL DEFAULT FALSE;
