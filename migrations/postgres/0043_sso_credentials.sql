-- 0043: a refresh token or personal access token minted from an SSO sign-in
-- names it (signin_id) and dies with it: at the sign-in's expires_at
-- (oidc.max_session after the sign-in), copied into the token's own
-- expires_at, and when the sign-in is deleted (its user deleted) or refused
-- by oidc.recheck. NULL for every other token.
ALTER TABLE refresh_tokens ADD COLUMN signin_id BIGINT REFERENCES oidc_signins (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE personal_tokens ADD COLUMN signin_id BIGINT REFERENCES oidc_signins (id) ON DELETE CASCADE;
