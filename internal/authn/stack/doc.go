// Package stack composes the login stack from the config (robots → PATs → passwords, the refresh token service, the directory, SSO and federation): the one composition the server runs and every test that needs a login stack builds.
package stack
