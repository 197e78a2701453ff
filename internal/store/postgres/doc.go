// Package postgres opens the PostgreSQL store through pgx: the PostgreSQL dialect of internal/store/sqldb.
package postgres
