package sqlite

import "database/sql"

// DB returns the underlying database handle. It is for bulk tools only
// (bench/seed fills millions of rows with multi-row INSERTs): everything else
// goes through the store.Store methods, which keep the schema's invariants.
func (s *Store) DB() *sql.DB { return s.db }
