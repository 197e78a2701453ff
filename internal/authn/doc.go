// Package authn establishes who is asking: it checks credentials against local users (and, later, other backends) and returns an Identity.
package authn
