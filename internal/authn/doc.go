// Package authn establishes who is asking: it checks robot secrets, personal access tokens, refresh tokens and passwords (local users, LDAP) and returns an Identity.
package authn
