// Package sqldb is the one database/sql implementation of store.Store; a Dialect value says what SQLite and PostgreSQL do differently.
package sqldb
