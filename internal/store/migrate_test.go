package store_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/migrations"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr string
	}{
		{name: "sorted by number not name", want: []int{2, 10},
			files: fstest.MapFS{"d/0010_b.sql": file("B"), "d/0002_a.sql": file("A"), "d/README.md": file("x")}},
		{name: "duplicate version", wantErr: "share version 1",
			files: fstest.MapFS{"d/0001_a.sql": file("A"), "d/1_b.sql": file("B")}},
		{name: "bad name", wantErr: "NNNN_description.sql",
			files: fstest.MapFS{"d/init.sql": file("A")}},
		{name: "zero version", wantErr: "NNNN_description.sql",
			files: fstest.MapFS{"d/0000_a.sql": file("A")}},
		{name: "empty folder", wantErr: "no .sql files",
			files: fstest.MapFS{"d/README.md": file("x")}},
		{name: "missing folder", wantErr: "load migrations",
			files: fstest.MapFS{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := store.LoadMigrations(tt.files, "d")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadMigrations: %v", err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("versions = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestShippedMigrations checks that every driver has the same numbered files.
func TestShippedMigrations(t *testing.T) {
	var versions [][]string
	for _, dir := range []string{"sqlite", "postgres"} {
		ms, err := store.LoadMigrations(migrations.FS, dir)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		var names []string
		for _, m := range ms {
			names = append(names, m.Name)
		}
		versions = append(versions, names)
	}
	if !slices.Equal(versions[0], versions[1]) {
		t.Errorf("sqlite migrations %v differ from postgres %v", versions[0], versions[1])
	}
}
