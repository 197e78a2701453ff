// Package web serves the SSO sign-in pages (config oidc:): /login and its callback, the "your registry credentials" page with personal access tokens and refresh tokens, /device to approve the CLI's device flow, and /logout; server-rendered HTML, no JavaScript, a strict CSP and a CSRF token on every form.
package web
