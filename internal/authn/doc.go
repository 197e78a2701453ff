// Package authn is the login pipeline: Identity, the chain that decides which source checks a password, the dummy comparison and slow-check slots, the refusal rules, and the contract a directory fulfils; each identity source lives in a subpackage (secret, ldap, federation, oidc).
package authn
