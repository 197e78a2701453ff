package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/store"
)

// TestPublicProjectMadePrivate: anonymous requests are answered from what
// the server knows of a project's visibility (cache.public_projects); a
// project made private by another process (here a second store on the same
// database, as the CLI or another replica) stops anonymous pulls once
// cache.public_projects has passed, and a project created public by it
// starts them; a member's pull never waits.
func TestPublicProjectMadePrivate(t *testing.T) {
	ctx := context.Background()
	const bound = 150 * time.Millisecond
	cfg := apptest.Config(t)
	cfg.Cache.PublicProjects = config.Duration(bound)
	a := apptest.New(t, cfg, app.Options{})
	mustOK(t, a.Store.CreateProject(ctx, &store.Project{Name: "pub", Public: true}))
	other, err := app.OpenStore(ctx, cfg)
	mustOK(t, err)
	t.Cleanup(func() { _ = other.Close() })

	pulls := func(repo string) bool {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/service/token?scope=repository:"+repo+":pull", nil)
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET token for %s: %d %s", repo, rec.Code, rec.Body)
		}
		var claims struct {
			Access []struct{ Actions []string }
		}
		tokenClaims(t, rec.Body.Bytes(), &claims)
		return len(claims.Access) == 1 && slices.Contains(claims.Access[0].Actions, "pull")
	}

	if !pulls("pub/app") || pulls("later/app") {
		t.Fatal("before any change: want pull on pub only")
	}
	mustOK(t, other.SetProjectPublic(ctx, "pub", false))
	mustOK(t, other.CreateProject(ctx, &store.Project{Name: "later", Public: true}))
	time.Sleep(bound)
	if pulls("pub/app") {
		t.Fatalf("pub made private %s ago: anonymous pull still granted", bound)
	}
	if !pulls("later/app") {
		t.Fatalf("later created public %s ago: no anonymous pull", bound)
	}
}
