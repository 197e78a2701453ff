// Package oidcop runs the test OpenID provider (e2e/oidcprovider, on zitadel/oidc's op package) for a test: built once per test binary, started on a free loopback port, stopped by pid, restarted to end every session it holds.
package oidcop
