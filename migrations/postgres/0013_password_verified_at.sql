-- 0013: a refresh token or personal access token minted from a directory
-- (LDAP) password records when the directory last verified that password
-- with a bind, which can be up to ldap.cache_ttl before the token was made:
-- a password change after that time revokes the token, so the old password,
-- still in the login cache after a change, mints nothing that survives.
-- NULL for every other token (and those made before): created_at counts.
ALTER TABLE refresh_tokens ADD COLUMN password_verified_at TIMESTAMPTZ;
ALTER TABLE personal_tokens ADD COLUMN password_verified_at TIMESTAMPTZ;
