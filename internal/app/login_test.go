package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authserver/authserver/internal/app"
)

// TestLoginDeviceFlow runs `authserver login` against a fake registry and
// authserver on one loopback server: discovery from the challenge, the
// device code, one pending poll, the token, and the docker config entry.
func TestLoginDeviceFlow(t *testing.T) {
	var polls atomic.Int32
	mux := http.NewServeMux()
	var srvURL string
	mux.HandleFunc("GET /v2/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+srvURL+`/service/token",service="harbor-registry"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	mux.HandleFunc("POST /oauth/device/code", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("client_id") != "authserver-cli" || r.FormValue("service") != "harbor-registry" {
			t.Errorf("device code form: %v", r.PostForm)
		}
		w.Write([]byte(`{"device_code":"dc","user_code":"BCDF-GHJK","verification_uri":"` + srvURL + `/device",` +
			`"verification_uri_complete":"` + srvURL + `/device?user_code=BCDF-GHJK","expires_in":600,"interval":1}`))
	})
	mux.HandleFunc("POST /service/token", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || r.FormValue("device_code") != "dc" {
			t.Errorf("poll form: %v", r.PostForm)
		}
		if polls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"authorization_pending"}`))
			return
		}
		payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice"}`))
		w.Write([]byte(`{"token":"h.` + payload + `.s","access_token":"h.` + payload + `.s","expires_in":300,"refresh_token":"asr_fromdevice"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	srvURL = srv.URL

	dockerDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dockerDir)
	os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(`{"auths":{"other":{"auth":"eDp5"}},"detachKeys":"ctrl-x"}`), 0o600)
	registry := strings.TrimPrefix(srv.URL, "http://")
	var out bytes.Buffer
	if err := app.Login(context.Background(), app.LoginOptions{Registry: registry}, &out); err != nil {
		t.Fatalf("login: %v\n%s", err, out.String())
	}
	for _, want := range []string{srv.URL + "/device?user_code=BCDF-GHJK", "BCDF-GHJK", "Signed in to " + registry + " as alice"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	var cfg struct {
		Auths      map[string]map[string]string `json:"auths"`
		DetachKeys string                       `json:"detachKeys"`
	}
	b, _ := os.ReadFile(filepath.Join(dockerDir, "config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	e := cfg.Auths[registry]
	if e["identitytoken"] != "asr_fromdevice" || e["auth"] != base64.StdEncoding.EncodeToString([]byte("alice:")) ||
		cfg.Auths["other"]["auth"] != "eDp5" || cfg.DetachKeys != "ctrl-x" {
		t.Fatalf("config.json = %s", b)
	}
	if polls.Load() != 2 {
		t.Fatalf("polls = %d, want 2", polls.Load())
	}
}

// TestCredentialHelper stores and gets a token through the helper as
// docker-credential-authserver, in $XDG_CONFIG_HOME/authserver.
func TestCredentialHelper(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	var out bytes.Buffer
	if err := app.CredentialHelper([]string{"store"}, strings.NewReader(`{"ServerURL":"localhost:5000","Username":"<token>","Secret":"asr_x"}`), &out); err != nil {
		t.Fatal(err)
	}
	if err := app.CredentialHelper([]string{"get"}, strings.NewReader("localhost:5000"), &out); err != nil || !strings.Contains(out.String(), `"Secret":"asr_x"`) {
		t.Fatalf("get: %v %s", err, out.String())
	}
	if st, err := os.Stat(filepath.Join(xdg, "authserver", "docker-credentials.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("helper file: %v", err)
	}
}
