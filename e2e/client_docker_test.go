//go:build integration

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// dockerCLI is the docker command line client with the session's
// DOCKER_CONFIG. No daemon is used (DOCKER_HOST points nowhere): `docker
// login` checks the credentials itself and stores authserver's refresh
// token as the identitytoken, which crane and the other clients read from
// the same DOCKER_CONFIG. Without a daemon the CLI cannot push, pull or
// delete; crane does those with the stored identity token.
type dockerCLI struct {
	s *session
}

func (d dockerCLI) run(stdin string, args ...string) result {
	env := append(d.s.env(), "DOCKER_HOST=unix://"+filepath.Join(d.s.home, "no-docker-daemon.sock"))
	return runIn(d.s.home, env, stdin, append([]string{bin["docker"]}, args...)...)
}

func (d dockerCLI) login(user, pass string) result {
	return d.run(pass+"\n", "login", "-u", user, "--password-stdin", d.s.reg.host)
}

func (d dockerCLI) logout() result { return d.run("", "logout", d.s.reg.host) }

// auth is the config.json entry for the registry (nil when there is none)
// and the whole file.
func (d dockerCLI) auth(t testing.TB) (entry map[string]string, file string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.s.home, "docker", "config.json"))
	if os.IsNotExist(err) {
		return nil, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("docker config.json: %v\n%s", err, b)
	}
	return cfg.Auths[d.s.reg.host], string(b)
}
