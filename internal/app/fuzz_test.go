package app_test

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/app/apptest"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/server"
	"github.com/authserver/authserver/internal/store"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; `make fuzz` runs each
// target for $(FUZZTIME) on top of them.

// newFuzzHandler is the whole stack (internal/app) as serve builds it
// (robots → PATs → local users, refresh tokens) over a real SQLite store
// holding a developer of a private project and a public project.
func newFuzzHandler(f *testing.F) http.Handler {
	f.Helper()
	ctx := context.Background()
	cfg := apptest.Config(f)
	cfg.Token.Issuer, cfg.Token.Service = "fuzz-issuer", "fuzz-registry"
	cfg.Token.Expiration = config.Duration(5 * time.Minute)
	cfg.RefreshTokens.MaxLifetime = config.Duration(24 * time.Hour)
	cfg.RefreshTokens.MaxIdle = config.Duration(time.Hour)
	cfg.RefreshTokens.BindClientID = true
	a := apptest.New(f, cfg, app.Options{})
	st := a.Store
	hash, err := authn.HashPassword("dev-secret", 4)
	if err != nil {
		f.Fatal(err)
	}
	for _, step := range []func() error{
		func() error {
			return st.CreateUser(ctx, &store.User{Name: "dev", PasswordHash: hash, Source: store.SourceLocal})
		},
		func() error { return st.CreateProject(ctx, &store.Project{Name: "team"}) },
		func() error { return st.CreateProject(ctx, &store.Project{Name: "pub", Public: true}) },
		func() error {
			return st.SetMember(ctx, store.Member{Project: "team", Kind: store.MemberUser, Name: "dev", Role: store.RoleDeveloper})
		},
	} {
		if err := step(); err != nil {
			f.Fatal(err)
		}
	}
	return a.Handler
}

// FuzzParsePost sends arbitrary form bodies (and content types) through the
// whole POST pipeline: it must never panic, answer only 200, 400, 401, 413
// or 503, and every error must be an errcode JSON body.
func FuzzParsePost(f *testing.F) {
	h := newFuzzHandler(f)
	f.Add("application/x-www-form-urlencoded", "grant_type=password&service=fuzz-registry&username=dev&password=dev-secret&scope=repository%3Ateam%2Fapp%3Apull")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, "/service/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		status, raw := rec.Code, rec.Body.Bytes()
		switch status {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d for %q %q; body %s", status, contentType, body, raw)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("status %d: Content-Type %q, want application/json", status, ct)
		}
		// The pre-authentication limits: a form with an oversized name or
		// scope never gets past parsing.
		mt, _, _ := mime.ParseMediaType(contentType)
		form, ferr := url.ParseQuery(body)
		if mt == "application/x-www-form-urlencoded" && ferr == nil && len(body) <= server.MaxFormBytes {
			for _, k := range []string{"username", "client_id", "service"} {
				if len(form.Get(k)) > server.MaxFieldBytes && status != http.StatusBadRequest {
					t.Fatalf("%s of %d bytes: status %d, want 400", k, len(form.Get(k)), status)
				}
			}
		}
		if status == http.StatusOK {
			var tr struct {
				Token       string `json:"token"`
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				Scope       string `json:"scope"`
			}
			if err := json.Unmarshal(raw, &tr); err != nil || tr.Token == "" || tr.Token != tr.AccessToken || tr.TokenType != "Bearer" {
				t.Fatalf("200 for %q: body %s (%v) is not a token response", body, raw, err)
			}
			// What was served stayed within the limits.
			granted := strings.Fields(tr.Scope)
			if len(granted) > authz.MaxScopes {
				t.Fatalf("200 for %q: %d scopes granted", body, len(granted))
			}
			for _, g := range granted {
				sc, err := authz.ParseScope(g)
				if err != nil || len(sc.Name) > authz.MaxNameLength || len(sc.Actions) > authz.MaxActions {
					t.Fatalf("200 for %q: granted %q over the limits (%v)", body, g, err)
				}
			}
			return
		}
		var eb errorBody
		if err := json.Unmarshal(raw, &eb); err != nil || len(eb.Errors) != 1 || eb.Errors[0].Code == "" || eb.Errors[0].Message == "" {
			t.Fatalf("status %d for %q: body %q (%v) is not an errcode body", status, body, raw, err)
		}
		if status == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("401 without a Basic challenge for %q", body)
		}
	})
}
