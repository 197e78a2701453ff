// Package token signs the registry's JWTs and publishes their keys.
package token
