// Package server is authserver's HTTP side: the chi router, the token endpoint, the JWKS and the middleware around them.
package server
