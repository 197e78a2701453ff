// Package devicelogin is the client side of `authserver login`: it finds a registry's authserver from its Bearer challenge and signs a person in with the OAuth 2.0 device authorization grant (RFC 8628), ending with a refresh token docker stores as its identitytoken.
package devicelogin
