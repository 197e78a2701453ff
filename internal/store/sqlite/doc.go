// Package sqlite opens the embedded, pure-Go SQLite store: the SQLite dialect of internal/store/sqldb.
package sqlite
