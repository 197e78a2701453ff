//go:build integration

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// errBody is the registry errcode shape the token endpoint answers with.
type errBody struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// tokenBody is a successful token response.
type tokenBody struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// wantUnauthorized checks a 401 from the token endpoint: JSON errcode body
// and a Basic challenge, so clients ask for (other) credentials.
func wantUnauthorized(t *testing.T, rep tokenReply) {
	t.Helper()
	if rep.status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401; body %s", rep.status, rep.body)
	}
	if ct := rep.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if ch := rep.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Basic realm=") {
		t.Errorf("WWW-Authenticate %q, want a Basic challenge", ch)
	}
	var eb errBody
	if err := json.Unmarshal(rep.body, &eb); err != nil || len(eb.Errors) == 0 || eb.Errors[0].Code != "UNAUTHORIZED" {
		t.Errorf("body %s (%v): want {\"errors\":[{\"code\":\"UNAUTHORIZED\",...}]}", rep.body, err)
	}
	var tb tokenBody
	if json.Unmarshal(rep.body, &tb) == nil && (tb.Token != "" || tb.AccessToken != "") {
		t.Errorf("a 401 must not carry a token: %s", rep.body)
	}
}

// wantToken checks a 200 token response and returns the token.
func wantToken(t *testing.T, rep tokenReply) string {
	t.Helper()
	if rep.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", rep.status, rep.body)
	}
	var tb tokenBody
	if err := json.Unmarshal(rep.body, &tb); err != nil {
		t.Fatalf("token response %s: %v", rep.body, err)
	}
	if tb.Token == "" || tb.Token != tb.AccessToken {
		t.Errorf("token and access_token must be set and equal: %s", rep.body)
	}
	if tb.ExpiresIn < 60 {
		t.Errorf("expires_in %d, want at least 60", tb.ExpiresIn)
	}
	if _, err := time.Parse(time.RFC3339, tb.IssuedAt); err != nil {
		t.Errorf("issued_at %q: %v", tb.IssuedAt, err)
	}
	return tb.Token
}

func (w *world) testBadCredentials(t *testing.T) {
	t.Run("token endpoint", func(t *testing.T) {
		q := func(scope string) string {
			v := url.Values{"service": {"harbor-registry"}}
			if scope != "" {
				v.Set("scope", scope)
			}
			return v.Encode()
		}
		tests := []struct {
			name, user, pass, query string
		}{
			{"wrong password, login", "dev", "wrong", q("")},
			{"wrong password with a scope", "dev", "wrong", q("repository:team/app:pull")},
			{"wrong password with a public scope", "dev", "wrong", q("repository:pub/x:pull")},
			{"empty password", "dev", "", q("repository:team/app:pull")},
			{"unknown user", "nobody", "Dev-pass-1", q("repository:team/app:pull")},
			{"wrong admin password, harbor style", "admin", "wrong", "account=admin&" + q("repository:library/busybox:pull")},
			{"another user's password", "guest", w.pass["dev"], q("repository:team/app:pull,push")},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantUnauthorized(t, w.auth.getToken(t, tc.user, tc.pass, tc.query))
			})
		}
	})

	t.Run("client login", func(t *testing.T) {
		dev := w.as["dev"]
		tests := []struct {
			name  string
			login func(pass string) result
		}{
			{"oras", func(pass string) result {
				return runIn(dev.home, dev.env(), "", bin["oras"], "login", "--plain-http", "-u", "dev", "-p", pass, w.reg.host)
			}},
			{"regctl", func(pass string) result {
				return dev.regctl("registry", "login", w.reg.host, "-u", "dev", "-p", pass)
			}},
			{"skopeo", func(pass string) result {
				return dev.skopeo("login", "--tls-verify=false", "-u", "dev", "-p", pass, w.reg.host)
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				mustRefuse(t, tc.login("wrong-password"))
				mustOK(t, tc.login(w.pass["dev"]))
			})
		}
	})
}

// testHarborFlow is what Harbor's own tooling does: a token by Basic auth
// with the account hint, then the registry API with that bearer token.
func (w *world) testHarborFlow(t *testing.T) {
	query := "account=admin&service=harbor-registry&scope=repository:library/busybox:pull"
	tok := wantToken(t, w.auth.getToken(t, "admin", w.auth.adminPass, query))

	get := func(path string) (int, []byte) {
		req, err := http.NewRequest(http.MethodGet, w.reg.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		var body json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}

	status, body := get("/v2/library/busybox/tags/list")
	if status != http.StatusOK {
		t.Fatalf("GET /v2/library/busybox/tags/list: %d %s, want 200", status, body)
	}
	var tags struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(body, &tags); err != nil {
		t.Fatalf("tags/list body %s: %v", body, err)
	}
	if tags.Name != "library/busybox" || !slices.Contains(tags.Tags, "1") {
		t.Errorf("tags/list = %s, want library/busybox with tag 1", body)
	}
	// The token covers exactly what was asked: not another repository.
	if status, body := get("/v2/team/app/tags/list"); status != http.StatusUnauthorized {
		t.Errorf("GET /v2/team/app/tags/list with a library/busybox token: %d %s, want 401", status, body)
	}
	// The same flow at the short path /token.
	tok = wantToken(t, w.auth.getTokenAt(t, "/token", "admin", w.auth.adminPass, query))
	if status, body := get("/v2/library/busybox/tags/list"); status != http.StatusOK {
		t.Errorf("GET /v2/library/busybox/tags/list with a token from /token: %d %s, want 200", status, body)
	}
}

// testLiveChanges changes users, memberships and projects with the CLI
// while serve runs; the very next client request must see each change,
// but an anonymous one, which sees a project's visibility change within
// cache.public_projects (1s by default: it waits that long).
func (w *world) testLiveChanges(t *testing.T) {
	tests := []struct {
		name    string
		cli     []string // authserver command run first
		user    string   // then this user ("" = anonymous) ...
		op      op       // ... does this ...
		repoTag string   // ... here ...
		want    bool     // ... and succeeds or is refused
	}{
		{"guest cannot push before promotion", nil, "guest", push, "team/app:promoted", false},
		{"guest promoted to developer pushes", []string{"member", "add", "team", "--user", "guest", "--role", "developer"}, "guest", push, "team/app:promoted", true},
		{"guest removed from team cannot pull", []string{"member", "remove", "team", "--user", "guest"}, "guest", pull, "team/app:crane", false},
		{"disabled developer cannot pull", []string{"user", "disable", "dev"}, "dev", pull, "team/app:crane", false},
		{"re-enabled developer pulls", []string{"user", "enable", "dev"}, "dev", pull, "team/app:crane", true},
		{"project made private refuses anonymous", []string{"project", "set", "pub", "--public=false"}, "", pull, "pub/x:1", false},
		{"project made public again", []string{"project", "set", "pub", "--public=true"}, "", pull, "pub/x:1", true},
		{"outsider made sysadmin lists catalog", []string{"user", "set", "outsider", "--admin=true"}, "outsider", catalog, "", true},
		{"group member removed from group cannot push", []string{"group", "remove-user", "builders", "grouped"}, "grouped", push, "team/app:group2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cli != nil {
				w.auth.cli(t, tc.cli...)
				if tc.user == "" {
					time.Sleep(time.Second) // the default cache.public_projects
				}
			}
			w.check(t, tc.user, tc.op, tc.repoTag, tc.want)
		})
	}

	t.Run("disabled user gets 401 from the token endpoint", func(t *testing.T) {
		w.auth.cli(t, "user", "disable", "guest")
		wantUnauthorized(t, w.auth.getToken(t, "guest", w.pass["guest"], "service=harbor-registry&scope=repository:pub/x:pull"))
		w.auth.cli(t, "user", "enable", "guest")
		wantToken(t, w.auth.getToken(t, "guest", w.pass["guest"], "service=harbor-registry&scope=repository:pub/x:pull"))
	})
	t.Run("changed password", func(t *testing.T) {
		r := w.auth.tryCLI("New-outsider-pass-1\n", "user", "passwd", "outsider", "--password-stdin")
		mustOK(t, r)
		wantUnauthorized(t, w.auth.getToken(t, "outsider", w.pass["outsider"], "service=harbor-registry"))
		wantToken(t, w.auth.getToken(t, "outsider", "New-outsider-pass-1", "service=harbor-registry"))
	})
}
