//go:build integration

package api_test

import (
	"testing"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/pgtest"
)

// integrationBackends adds PostgreSQL to every backends test.
var integrationBackends = []backend{{"postgres", func(t *testing.T) store.Store { return pgtest.Open(t) }}}
