package app

import (
	"context"
	"fmt"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/postgres"
	"github.com/authserver/authserver/internal/store/sqlite"
)

// migrator is a store that can bring its schema up to date.
type migrator interface {
	store.Store
	Migrate(ctx context.Context) error
}

// backends maps storage.driver to its constructor.
var backends = map[string]func(ctx context.Context, dsn string) (migrator, error){
	"sqlite":   func(ctx context.Context, dsn string) (migrator, error) { return sqlite.Open(ctx, dsn) },
	"postgres": func(ctx context.Context, dsn string) (migrator, error) { return postgres.Open(ctx, dsn) },
}

// OpenStore opens the configured store and applies pending migrations, so
// admin commands work on a fresh database too.
func OpenStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	open, ok := backends[cfg.Storage.Driver]
	if !ok {
		return nil, fmt.Errorf("unknown storage driver %q", cfg.Storage.Driver)
	}
	st, err := open(ctx, cfg.Storage.DSN)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
