package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool returns the underlying connection pool. It is for bulk tools only
// (bench/seed fills millions of rows with COPY): everything else goes through
// the store.Store methods, which keep the schema's invariants.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
