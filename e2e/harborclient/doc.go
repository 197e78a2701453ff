// Package harborclient drives a real authserver process with Harbor's own Go client (goharbor/go-client), in a module of its own so the product's go.sum stays clean.
package harborclient
