// Package authz parses the scopes a client asks for and decides, with Harbor's project model, which of their actions it gets.
package authz
