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
// starts them; a member's pull never waits. With token.reuse_window on (as
// shipped) the same anonymous pull is answered with the token already
// signed, until the project's change alters what is granted.
func TestPublicProjectMadePrivate(t *testing.T) {
	ctx := context.Background()
	const bound = 150 * time.Millisecond
	cfg := apptest.Config(t)
	cfg.Cache.PublicProjects = config.Duration(bound)
	cfg.Token.ReuseWindow = config.Defaults().Token.ReuseWindow // as shipped
	a := apptest.New(t, cfg, app.Options{})
	mustOK(t, a.Store.CreateProject(ctx, &store.Project{Name: "pub", Public: true}))
	other, err := app.OpenStore(ctx, cfg)
	mustOK(t, err)
	t.Cleanup(func() { _ = other.Close() })

	var jti string // of the last answer
	pulls := func(repo string) bool {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/service/token?scope=repository:"+repo+":pull", nil)
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET token for %s: %d %s", repo, rec.Code, rec.Body)
		}
		var claims struct {
			JTI    string
			Access []struct{ Actions []string }
		}
		tokenClaims(t, rec.Body.Bytes(), &claims)
		jti = claims.JTI
		return len(claims.Access) == 1 && slices.Contains(claims.Access[0].Actions, "pull")
	}

	if !pulls("pub/app") {
		t.Fatal("before any change: want pull on pub")
	}
	first := jti
	if pulls("later/app") {
		t.Fatal("before any change: want no pull on later")
	}
	if !pulls("pub/app") || jti != first {
		t.Fatalf("the same anonymous pull again: jti %s, want %s reused", jti, first)
	}
	mustOK(t, other.SetProjectPublic(ctx, "pub", false))
	mustOK(t, other.CreateProject(ctx, &store.Project{Name: "later", Public: true}))
	time.Sleep(bound)
	if pulls("pub/app") || jti == first {
		t.Fatalf("pub made private %s ago: anonymous pull still granted (jti %s, first %s)", bound, jti, first)
	}
	if !pulls("later/app") {
		t.Fatalf("later created public %s ago: no anonymous pull", bound)
	}
}
