package main

import (
	"go/build"
	"strings"
	"testing"
)

// TestImportsAdminAndAppOnly: the CLI is a transport; of authserver's own
// packages it calls internal/admin (the operations) and internal/app (the
// parts built from the config) only, never the store, the authenticators,
// the authorizer or the token signer directly.
func TestImportsAdminAndAppOnly(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		rest, ours := strings.CutPrefix(imp, "github.com/authserver/authserver/")
		if ours && rest != "internal/admin" && rest != "internal/app" {
			t.Errorf("cmd/authserver imports %s: call it through internal/admin or internal/app", imp)
		}
	}
}
