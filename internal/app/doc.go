// Package app is the one composition root: it builds the store, the authn stack, the authorizer, the keyring, audit, throttling, metrics, readiness and the HTTP server from a config.Config.
package app
