package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authz"
	"github.com/authserver/authserver/internal/store"
	"github.com/authserver/authserver/internal/store/sqlite"
	"github.com/authserver/authserver/internal/token"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; `make fuzz` runs each
// target for $(FUZZTIME) on top of them.

func FuzzParseBasic(f *testing.F) {
	f.Add("Basic ZGV2OnNlY3JldA==", "dev", "secret")
	f.Fuzz(func(t *testing.T, header, user, pass string) {
		u, p, present, err := parseBasic(header)
		switch {
		case header == "" && (present || err != nil):
			t.Fatalf("no header: present %v, err %v", present, err)
		case header != "" && !present:
			t.Fatalf("header %q reported absent", header)
		case err != nil && (u != "" || p != ""):
			t.Fatalf("header %q: error %v with credentials %q:%q", header, err, u, p)
		case strings.Contains(u, ":"):
			t.Fatalf("header %q: user %q holds a colon", header, u)
		}
		// Whatever net/http accepts as Basic, parseBasic reads the same.
		req := httptest.NewRequest(http.MethodGet, "/service/token", nil)
		req.Header.Set("Authorization", header)
		if hu, hp, ok := req.BasicAuth(); ok && (err != nil || u != hu || p != hp) {
			t.Fatalf("header %q: net/http reads %q:%q, parseBasic %q:%q (%v)", header, hu, hp, u, p, err)
		}

		// Round trip: a user name cannot hold a colon in Basic credentials.
		if strings.Contains(user, ":") {
			return
		}
		enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		for _, h := range []string{"Basic " + enc, "basic " + enc, "BASIC  " + enc + " "} {
			u, p, present, err := parseBasic(h)
			if err != nil || !present || u != user || p != pass {
				t.Fatalf("%q: got %q:%q present %v err %v, want %q:%q", h, u, p, present, err, user, pass)
			}
		}
	})
}

// fuzzSigner is one ES256 key for every FuzzParsePost run in the process
// (fast to make and to sign with).
var fuzzSigner = sync.OnceValues(func() (*token.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	cert, err := token.SelfSignedCertificate(key)
	if err != nil {
		return nil, err
	}
	return token.NewSignerFromKey(key, []*x509.Certificate{cert}, "thumbprint")
})

// newFuzzHandler is the token endpoint wired as serve wires it (robots →
// PATs → local users, refresh tokens) over a real SQLite store holding a
// developer of a private project and a public project.
func newFuzzHandler(f *testing.F) http.Handler {
	f.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, f.TempDir()+"/db.sqlite")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	signer, err := fuzzSigner()
	if err != nil {
		f.Fatal(err)
	}
	local, err := authn.NewLocal(st, 4)
	if err != nil {
		f.Fatal(err)
	}
	hash, err := authn.HashPassword("dev-secret", 4)
	if err != nil {
		f.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return st.Migrate(ctx) },
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
	accounts := authn.NewAccounts(st, nil)
	return New(Options{
		Passwords: authn.NewRobots(st, "robot$", authn.NewPATs(st, accounts, local, nil, nil), nil, nil),
		Refresh: authn.NewRefresher(st, accounts, authn.RefreshOptions{
			MaxLifetime: 24 * time.Hour, MaxIdle: time.Hour, BindClientID: true,
		}),
		Authorizer: authz.New(st),
		Issuer:     token.NewIssuer(signer, "fuzz-issuer", "fuzz-registry", 5*time.Minute),
		Realm:      "http://auth.test/service/token",
	})
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
		if mt == "application/x-www-form-urlencoded" && ferr == nil && len(body) <= maxFormBytes {
			for _, k := range []string{"username", "client_id", "service"} {
				if len(form.Get(k)) > maxFieldBytes && status != http.StatusBadRequest {
					t.Fatalf("%s of %d bytes: status %d, want 400", k, len(form.Get(k)), status)
				}
			}
		}
		if status == http.StatusOK {
			var tr tokenResponse
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
