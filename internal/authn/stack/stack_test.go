package stack_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authserver/authserver/internal/authn/authntest"
	"github.com/authserver/authserver/internal/authn/stack"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/testenv/sqlitetest"
)

// TestNew: the default config's stack logs in a local user and a robot
// (robots → PATs → passwords), and builds no directory, SSO or federation.
func TestNew(t *testing.T) {
	st := sqlitetest.Open(t)
	authntest.AddLocal(t, st, "dev", "dev-pw", false)
	authntest.MustMember(t, st, "team", store.MemberUser, "dev", "", store.RoleDeveloper)
	authntest.AddRobot(t, st, "team+ci", "team", "ci-secret")
	s := authntest.NewStack(t, st, authntest.Config(), stack.Options{})
	if s.Directory != nil || s.SSO != nil || s.Federation != nil || s.Refresher == nil || s.Accounts == nil {
		t.Fatalf("stack of the default config: %+v", s)
	}
	tests := []struct {
		name, user, pass string
		ok               bool
	}{
		{name: "local user", user: "dev", pass: "dev-pw", ok: true},
		{name: "local user, wrong password", user: "dev", pass: "nope"},
		{name: "robot", user: "robot$team+ci", pass: "ci-secret", ok: true},
		{name: "robot, wrong secret", user: "robot$team+ci", pass: "nope"},
		{name: "unknown", user: "nobody", pass: "dev-pw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok, err := s.Passwords.Login(t.Context(), tt.user, tt.pass)
			if err != nil || ok != tt.ok || ok && id.Name != tt.user {
				t.Fatalf("Login(%s) = %+v, %v, %v; want ok %v", tt.user, id, ok, err, tt.ok)
			}
		})
	}
}

// constructors are the parts of the login stack that only internal/authn's
// own packages (stack composing them, the sources testing themselves) may
// call: anywhere else a test (or the server) would run a login stack of
// its own, in an order stack.New does not.
var constructors = map[string][]string{
	"github.com/authserver/authserver/internal/authn/secret": {"NewLocal", "NewPATs", "NewRobots", "NewRefresher"},
	"github.com/authserver/authserver/internal/authn":        {"NewChain", "NewAccounts"},
}

// TestOneComposition: outside internal/authn, no Go file (test or not)
// builds the login stack by hand; it calls stack.New (the server through
// internal/app, tests through apptest or authntest.NewStack).
func TestOneComposition(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	own := filepath.Join(root, "internal", "authn") + string(filepath.Separator)
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasPrefix(path, own) {
			return nil
		}
		files++
		rel, _ := filepath.Rel(root, path)
		for _, call := range handBuilt(t, path) {
			t.Errorf("%s: %s: build the login stack with stack.New (internal/authn/stack; in tests apptest or authntest.NewStack), not by hand", rel, call)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files under %s: the walk missed the module", files, root)
	}
}

// handBuilt is where the file at path names one of the constructors,
// whatever it calls their package.
func handBuilt(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	names := map[string][]string{} // local name of an import → its constructors
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		cs, ok := constructors[p]
		if !ok {
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = cs
	}
	if len(names) == 0 {
		return nil
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok {
			for _, c := range names[x.Name] {
				if sel.Sel.Name == c {
					found = append(found, fset.Position(sel.Pos()).String()[len(path)+1:]+" "+x.Name+"."+c)
				}
			}
		}
		return true
	})
	return found
}
