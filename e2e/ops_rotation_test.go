//go:build integration

package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestOpsKeyRotation follows docs/KEY-ROTATION.md against registry v3 and
// 2.8, each trusting both the old and the new certificate: SIGHUP with a bad
// new key changes nothing; SIGHUP with the new key makes the next tokens
// carry its kid, and tokens from before still verify.
func TestOpsKeyRotation(t *testing.T) {
	t.Parallel()
	o := newOpsServer(t, opsOptions{})
	next, other := filepath.Join(o.dir, "next"), filepath.Join(o.dir, "other")
	keygen(t, next)
	keygen(t, other)
	// The old certificate stays published after the switch (step 3).
	oldCert := filepath.Join(o.dir, "old.crt")
	if err := os.WriteFile(oldCert, readFile(t, filepath.Join(o.keys, "token.crt")), 0o644); err != nil {
		t.Fatal(err)
	}
	o.opts.token = "  previous_certificates: [" + oldCert + "]\n"
	// The registries trust both certificates (step 2).
	bundle := filepath.Join(o.dir, "registry-bundle.crt")
	both := append(readFile(t, filepath.Join(o.keys, "token.crt")), readFile(t, filepath.Join(next, "token.crt"))...)
	if err := os.WriteFile(bundle, both, 0o644); err != nil {
		t.Fatal(err)
	}
	o.start(t)
	oldKID := jwksKIDs(t, readFile(t, filepath.Join(o.keys, "jwks.json")))[0]
	newKID := jwksKIDs(t, readFile(t, filepath.Join(next, "jwks.json")))[0]

	o.cli(t, "project", "create", "library")
	var regs []*registry
	for _, f := range flavours {
		reg := startRegistryTrusting(t, f, o.authServer, bundle)
		mustOK(t, newSession(t, reg, "admin", o.adminPass).cranePush(t, "library/app:1", "rotation test image"))
		regs = append(regs, reg)
	}
	// token asks for pull on library/app (and extra, so that each call is
	// signed afresh rather than reused) and checks it at every registry.
	token := func(t *testing.T, extra string) string {
		t.Helper()
		q := "service=harbor-registry&scope=repository:library/app:pull"
		if extra != "" {
			q += "&scope=repository:library/" + extra + ":pull"
		}
		return wantToken(t, o.getToken(t, "admin", o.adminPass, q))
	}
	// atRegistries checks that every registry answers tags/list with want
	// for tok: 200 when it verifies, 401 when it does not.
	atRegistries := func(t *testing.T, what, tok string, want int) {
		t.Helper()
		for i, reg := range regs {
			req := newRequest(t, http.MethodGet, reg.url+"/v2/library/app/tags/list", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if r := send(t, http.DefaultClient, req); r.status != want {
				t.Errorf("%s at %s: tags/list %d %s, want %d", what, flavours[i].name, r.status, r.body, want)
			}
		}
	}
	verifies := func(t *testing.T, what, tok string) { t.Helper(); atRegistries(t, what, tok, http.StatusOK) }

	tokA := token(t, "")
	if kid := jwtKID(t, tokA); kid != oldKID {
		t.Fatalf("token before rotation has kid %s, want the old key's %s", kid, oldKID)
	}
	verifies(t, "token A", tokA)

	t.Run("bad new key refused", func(t *testing.T) {
		nextCert := readFile(t, filepath.Join(next, "token.crt"))
		tests := []struct {
			name      string
			key, cert []byte
		}{
			{"garbage PEM", []byte("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"), nextCert},
			{"key and certificate do not match", readFile(t, filepath.Join(other, "token.key")), nextCert},
			{"empty key file", nil, nextCert},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				replaceFile(t, filepath.Join(o.keys, "token.key"), tc.key)
				replaceFile(t, filepath.Join(o.keys, "token.crt"), tc.cert)
				o.signal(t, syscall.SIGHUP)
				o.waitLog(t, "new signing key refused", i+1)
				tok := token(t, "bad"+strconv.Itoa(i))
				if kid := jwtKID(t, tok); kid != oldKID {
					t.Fatalf("after a refused key the kid is %s, want still %s", kid, oldKID)
				}
				verifies(t, "token after a refused key", tok)
			})
		}
	})

	t.Run("new key", func(t *testing.T) {
		// Token requests keep flowing while the key is swapped.
		stop, done := make(chan struct{}), make(chan struct{})
		var during []reply
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, o.url+"/service/token?service=harbor-registry&scope=repository:library/app:pull", nil)
				req.SetBasicAuth("admin", o.adminPass)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					during = append(during, reply{body: []byte(err.Error())})
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					body = []byte(err.Error())
				}
				during = append(during, reply{status: resp.StatusCode, body: body})
			}
		}()
		replaceFile(t, filepath.Join(o.keys, "token.key"), readFile(t, filepath.Join(next, "token.key")))
		replaceFile(t, filepath.Join(o.keys, "token.crt"), readFile(t, filepath.Join(next, "token.crt")))
		o.signal(t, syscall.SIGHUP)
		o.waitLog(t, "signing key loaded", 1)
		time.Sleep(100 * time.Millisecond)
		close(stop)
		<-done
		kids := map[string]int{}
		for _, r := range during {
			kids[jwtKID(t, wantToken(t, tokenReply{status: r.status, body: r.body}))]++
		}
		t.Logf("tokens issued during the reload by kid: %v", kids)
		if len(kids) > 2 || kids[newKID] == 0 || (len(kids) == 2 && kids[oldKID] == 0) {
			t.Errorf("kids of the tokens issued during the reload: %v; want only %s (old) then %s (new)", kids, oldKID, newKID)
		}
		tokB := token(t, "")
		if kid := jwtKID(t, tokB); kid != newKID {
			t.Fatalf("token after rotation has kid %s, want the new key's %s", kid, newKID)
		}
		verifies(t, "token B (new key)", tokB)
		verifies(t, "token A (old key, signed before the rotation)", tokA)

		status, body := getBody(t, o.url+"/.well-known/jwks.json")
		if kids := jwksKIDs(t, body); status != http.StatusOK || !slices.Equal(kids, []string{newKID, oldKID}) {
			t.Errorf("JWKS after rotation: %d kids %v, want [new %s, old %s]", status, kids, newKID, oldKID)
		}
		got := certDERs([]byte(o.cli(t, "registry-config", "--bundle")))
		want := append(certDERs(readFile(t, filepath.Join(next, "token.crt"))), certDERs(readFile(t, oldCert))...)
		if !slices.Equal(got, want) {
			t.Errorf("registry-config --bundle holds %d certificates, want the new then the old one", len(got))
		}
	})

	// The control: a key missing from the registries' bundle is refused
	// there, so the checks above did verify signatures.
	t.Run("key the registries do not trust", func(t *testing.T) {
		replaceFile(t, filepath.Join(o.keys, "token.key"), readFile(t, filepath.Join(other, "token.key")))
		replaceFile(t, filepath.Join(o.keys, "token.crt"), readFile(t, filepath.Join(other, "token.crt")))
		o.signal(t, syscall.SIGHUP)
		o.waitLog(t, "signing key loaded", 2)
		tokC := token(t, "")
		if kid := jwtKID(t, tokC); kid == newKID || kid == oldKID {
			t.Fatalf("token after the second rotation still has kid %s", kid)
		}
		atRegistries(t, "token signed by an untrusted key", tokC, http.StatusUnauthorized)
	})
}
