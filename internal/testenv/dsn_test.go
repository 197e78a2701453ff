package testenv

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{name: "url", dsn: "postgres://u:p@h:5432/postgres?sslmode=disable", want: "postgres://u:p@h:5432/db1?sslmode=disable"},
		{name: "url without db", dsn: "postgresql://h", want: "postgresql://h/db1"},
		{name: "key value", dsn: "host=h user=u dbname=postgres", want: "host=h user=u dbname=postgres dbname=db1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withDatabase(tt.dsn, "db1")
			if err != nil || got != tt.want {
				t.Errorf("withDatabase = %q, %v; want %q", got, err, tt.want)
			}
			cfg, err := pgx.ParseConfig(got)
			if err != nil || cfg.Database != "db1" {
				t.Errorf("parsed database = %v, %v; want db1", cfg, err)
			}
		})
	}
}
