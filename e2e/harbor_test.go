package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/harborimport/harbortest"
	"github.com/authserver/authserver/internal/testenv"
)

// harborKeyPair writes what Harbor's prepare step makes: an RSA 4096
// private_key.pem for core and the self-signed root.crt the registry
// trusts.
func harborKeyPair(t testing.TB, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "harbor-token-ca", Organization: []string{"Harbor"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("private_key.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))
	write("root.crt", "CERTIFICATE", der)
}

// TestHarborMigration follows docs/MIGRATING-FROM-HARBOR.md: a Harbor
// database imported, Harbor's key pair reused (libtrust kid, Harbor's
// issuer and service), and the registries keep their Harbor trust with only
// the realm changed. Nobody's credentials change.
func TestHarborMigration(t *testing.T) {
	t.Parallel()
	harborPG := testenv.NewPGServer(t) // its own server: the test stops it
	harborDSN := harborPG.CreateDatabase(t)
	harbortest.Fill(t, harborDSN)
	keyDir := t.TempDir()
	harborKeyPair(t, keyDir)

	a := startAuthServer(t, authOptions{kid: "libtrust", prepare: func(a *authServer) {
		out := a.cli(t, "import", "harbor", "--dsn", harborDSN, "--key-dir", keyDir)
		t.Logf("import:\n%s", out)
	}})
	if out := a.cli(t, "import", "harbor", "--dsn", harborDSN, "--key-dir", keyDir, "-o", "json"); true {
		var rep struct {
			Items []struct{ Kind, Name, Action string }
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("import -o json: %v\n%s", err, out)
		}
		for _, it := range rep.Items {
			if it.Action == "created" || it.Action == "updated" {
				t.Errorf("second import %s %s %s", it.Action, it.Kind, it.Name)
			}
		}
	}
	// The registry's auth block as Harbor had it, but for the realm.
	authBlock := fmt.Sprintf(`auth:
  token:
    realm: %s/service/token
    service: harbor-registry
    issuer: harbor-token-issuer
    rootcertbundle: %s
`, a.url, filepath.Join(keyDir, "root.crt"))

	pw := harbortest.Passwords
	ci := harbortest.RobotSecrets["team+ci"]
	for i, f := range flavours {
		reg := startRegistryWithAuth(t, f, a, authBlock)
		bob := newSession(t, reg, "bob", pw["bob"])       // sha256, developer
		alice := newSession(t, reg, "alice", pw["alice"]) // sha1, projectAdmin
		robot := newSession(t, reg, "robot$team+ci", ci)
		tag := fmt.Sprintf("team/app:%d", i)
		t.Run(f.name, func(t *testing.T) {
			mustOK(t, bob.cranePush(t, tag, "pushed by a sha256 user "+f.name))
			mustOK(t, alice.cranePull(tag))
			mustOK(t, robot.cranePush(t, fmt.Sprintf("team/ci:%d", i), "pushed by a Harbor robot"))
			mustRefuse(t, robot.cranePush(t, fmt.Sprintf("library/ci:%d", i), "outside its project"))
		})
	}
	for _, tc := range []struct {
		name, user, pass string
		status           int
	}{
		{"pbkdf2_sha256 user logs in", "carol", pw["carol"], http.StatusOK},
		{"expired robot", "robot$team+old", harbortest.RobotSecrets["team+old"], http.StatusUnauthorized},
		{"wrong password", "carol", "nope", http.StatusUnauthorized},
		{"wrong robot secret", "robot$team+ci", ci + "x", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := a.getToken(t, tc.user, tc.pass, "service=harbor-registry"); r.status != tc.status {
				t.Errorf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
	var users []struct{ Name, Password string }
	if err := json.Unmarshal([]byte(a.cli(t, "user", "list", "-o", "json")), &users); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if (u.Name == "bob" || u.Name == "alice" || u.Name == "carol") && u.Password != "bcrypt" {
			t.Errorf("%s after the first login: %s, want bcrypt", u.Name, u.Password)
		}
	}

	// Harbor's database is no longer needed.
	harborPG.Stop()
	reg := startRegistryWithAuth(t, flavours[0], a, authBlock)
	mustOK(t, newSession(t, reg, "bob", pw["bob"]).cranePush(t, "team/app:after", "Harbor is gone"))
	mustOK(t, newSession(t, reg, "robot$team+ci", ci).cranePull("team/app:after"))
}
