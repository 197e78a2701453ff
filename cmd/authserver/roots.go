package main

// The container image is FROM scratch: no /etc/ssl. These Mozilla roots
// are used only when the system has none (x509.SetFallbackRoots), so an
// LDAP server, a federation issuer or a registry with a public certificate
// verifies there too; a system bundle, where there is one, wins.
import _ "golang.org/x/crypto/x509roots/fallback"
