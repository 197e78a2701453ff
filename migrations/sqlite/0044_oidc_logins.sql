-- 0044: sign-ins under way (GET /login until GET /login/callback): found by
-- the SHA-256 of the state sent to the provider, taken (deleted) by the
-- callback, so a state works once; the ID token's nonce must hash to
-- nonce_hash. The PKCE verifier stays in the browser's cookie, never here.
-- next is where the browser goes afterwards (a path of authserver's own).
CREATE TABLE oidc_logins (
    state_hash TEXT NOT NULL PRIMARY KEY,
    nonce_hash TEXT NOT NULL,
    next       TEXT NOT NULL DEFAULT '/',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
