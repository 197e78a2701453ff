// Package registry asks the registry whose tokens authserver signs, through the registry's own API, which repositories a project holds and deletes them.
package registry
