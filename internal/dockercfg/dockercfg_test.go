package dockercfg

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return m
}

// TestStoreIdentityToken writes the entry docker login writes and keeps
// every other key of the file, known to docker or not.
func TestStoreIdentityToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docker", "config.json")
	// A missing file (and directory) is made.
	if _, err := StoreIdentityToken(path, "localhost:5000", "alice", "asr_one"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
	existing := `{
	"auths": {
		"other.example.org": {"auth": "Ym9iOnB3", "email": "kept@example.org"},
		"localhost:5000": {"auth": "b2xkOm9sZA==", "identitytoken": "asr_old"}
	},
	"psFormat": "table {{.ID}}",
	"proxies": {"default": {"httpProxy": "http://proxy:3128"}},
	"currentContext": "default",
	"someFutureKey": [1, 2, {"x": null}]
}`
	if err := os.WriteFile(path, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	stored, err := StoreIdentityToken(path, "localhost:5000", "alice", "asr_two")
	if err != nil || stored.Helper != "" || stored.Path != path {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	got := readJSON(t, path)
	var want map[string]any
	json.Unmarshal([]byte(existing), &want)
	want["auths"].(map[string]any)["localhost:5000"] = map[string]any{
		"auth": base64.StdEncoding.EncodeToString([]byte("alice:")), "identitytoken": "asr_two"}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("config.json =\n%s\nwant\n%s", gb, wb)
	}

	// No username known: the entry holds the identity token alone.
	if _, err := StoreIdentityToken(path, "localhost:5000", "", "asr_three"); err != nil {
		t.Fatal(err)
	}
	e := readJSON(t, path)["auths"].(map[string]any)["localhost:5000"].(map[string]any)
	if len(e) != 1 || e["identitytoken"] != "asr_three" {
		t.Fatalf("entry = %v", e)
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := StoreIdentityToken(path, "localhost:5000", "alice", "x"); err == nil {
		t.Fatal("a broken config.json was overwritten")
	}
}

// TestStoreThroughHelper: a config that names a credential helper for the
// registry (or for all) gets the token through that helper's store, as
// docker login does, and an empty auths entry.
func TestStoreThroughHelper(t *testing.T) {
	bin := t.TempDir()
	got := filepath.Join(bin, "stored.json")
	script := "#!/bin/sh\n[ \"$1\" = store ] || exit 2\ncat > " + got + "\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-fake"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, tc := range []struct{ name, config, wantHelper string }{
		{name: "credHelpers", config: `{"credHelpers":{"localhost:5000":"fake","other":"nope"},"credsStore":"nope"}`, wantHelper: "fake"},
		{name: "credsStore", config: `{"credsStore":"fake","auths":{"localhost:5000":{"identitytoken":"asr_old"}}}`, wantHelper: "fake"},
		{name: "helper for another registry", config: `{"credHelpers":{"other:5000":"nope"}}`, wantHelper: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(got)
			path := filepath.Join(t.TempDir(), "config.json")
			os.WriteFile(path, []byte(tc.config), 0o600)
			stored, err := StoreIdentityToken(path, "localhost:5000", "alice", "asr_x")
			if err != nil || stored.Helper != tc.wantHelper {
				t.Fatalf("stored = %+v, %v", stored, err)
			}
			entry := readJSON(t, path)["auths"].(map[string]any)["localhost:5000"].(map[string]any)
			if tc.wantHelper == "" {
				if entry["identitytoken"] != "asr_x" {
					t.Fatalf("entry = %v", entry)
				}
				return
			}
			if len(entry) != 0 {
				t.Fatalf("entry = %v, want {} (the secret is in the helper)", entry)
			}
			var c Credential
			b, _ := os.ReadFile(got)
			if err := json.Unmarshal(b, &c); err != nil || c != (Credential{ServerURL: "localhost:5000", Username: "<token>", Secret: "asr_x"}) {
				t.Fatalf("helper got %s (%v)", b, err)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte(`{"credsStore":"missing-helper"}`), 0o600)
	if _, err := StoreIdentityToken(path, "localhost:5000", "alice", "asr_x"); err == nil || !strings.Contains(err.Error(), "docker-credential-missing-helper") {
		t.Fatalf("missing helper: %v", err)
	}
}

func helper(t *testing.T, path, action, stdin string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := Helper(path, []string{action}, strings.NewReader(stdin), &out)
	return out.String(), err
}

// TestHelper speaks the credential-helper protocol as docker does.
func TestHelper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authserver", "docker-credentials.json")
	if _, err := helper(t, path, "get", "localhost:5000\n"); err == nil || err.Error() != "credentials not found in native keychain" {
		t.Fatalf("get before store: %v", err)
	}
	if _, err := helper(t, path, "store", `{"ServerURL":"localhost:5000","Username":"<token>","Secret":"asr_abc"}`); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("helper file: %v %v", st, err)
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Fatalf("helper dir mode %v", st.Mode().Perm())
	}
	for _, url := range []string{"localhost:5000", "https://localhost:5000", "http://localhost:5000/\n"} {
		out, err := helper(t, path, "get", url)
		if err != nil {
			t.Fatal(err)
		}
		var c Credential
		json.Unmarshal([]byte(out), &c)
		if c.Username != "<token>" || c.Secret != "asr_abc" || c.ServerURL != strings.TrimSpace(url) {
			t.Fatalf("get %q = %s", url, out)
		}
	}
	helper(t, path, "store", `{"ServerURL":"reg.example.org","Username":"bob","Secret":"pw"}`)
	out, err := helper(t, path, "list", "")
	if err != nil {
		t.Fatal(err)
	}
	var list map[string]string
	json.Unmarshal([]byte(out), &list)
	if len(list) != 2 || list["localhost:5000"] != "<token>" || list["reg.example.org"] != "bob" {
		t.Fatalf("list = %s", out)
	}
	if _, err := helper(t, path, "erase", "localhost:5000"); err != nil {
		t.Fatal(err)
	}
	if _, err := helper(t, path, "get", "localhost:5000"); err != ErrNotFound {
		t.Fatalf("get after erase: %v", err)
	}
	if _, err := helper(t, path, "erase", "never-stored"); err != nil {
		t.Fatalf("erase of an unknown server: %v", err)
	}
	for _, tc := range []struct{ action, stdin string }{
		{"store", "not json"}, {"store", `{"ServerURL":"","Username":"u","Secret":"s"}`}, {"get", ""}, {"frobnicate", ""},
	} {
		if _, err := helper(t, path, tc.action, tc.stdin); err == nil {
			t.Errorf("%s %q succeeded", tc.action, tc.stdin)
		}
	}
}
