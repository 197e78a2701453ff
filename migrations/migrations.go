// Package migrations embeds the numbered SQL schema files, one folder per storage driver.
package migrations

import "embed"

// FS holds sqlite/NNNN_name.sql and postgres/NNNN_name.sql. Files are applied
// in version order by store.ApplyMigrations; never edit a released file, add
// a new number instead.
//
//go:embed sqlite/*.sql postgres/*.sql
var FS embed.FS
