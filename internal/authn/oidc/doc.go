// Package oidc signs people in with their company's SSO (an OpenID Connect provider, config oidc:): the authorization-code flow with PKCE, state and nonce, ID token verification, claims to a user and OIDC groups, and the checks of credentials minted from a sign-in (max_session, recheck).
package oidc
