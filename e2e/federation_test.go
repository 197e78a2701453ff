//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/authserver/authserver/internal/oidctest"
)

// TestFederation: federated robots end to end on both registries, with
// the commands of docs/FEDERATION.md as written there. Three real issuers
// on loopback (GitHub-, GitLab- and Kubernetes-shaped tokens); `docker
// login` (the CLI, no daemon) with the JWT as the password, then crane
// pushes with what docker stored; a push outside the robot's project is
// refused; the kubelet's path: `authserver credential-provider` answers
// a CredentialProviderRequest carrying a service-account token, and ctr
// pulls with the username and password it returned (--user, the POST
// password grant containerd uses).
func TestFederation(t *testing.T) {
	doc := readDoc(t, "docs/FEDERATION.md")
	robots := docCommands(t, doc, "authserver robot create ")
	if len(robots) != 3 {
		t.Fatalf("docs/FEDERATION.md: want 3 `authserver robot create` commands (GitHub, GitLab, Kubernetes), found %d", len(robots))
	}
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			// "down" is an issuer that is never reached before its outage.
			// "moved" redirects its JWKS to another host (127.0.0.2).
			issuers := map[string]*oidctest.Issuer{"github": oidctest.New(t), "gitlab": oidctest.New(t), "cluster": oidctest.New(t),
				"down": oidctest.New(t), "moved": oidctest.New(t)}
			// The loopback github and gitlab stand in for GitHub Actions and
			// GitLab.com: they name the identity claims authserver knows for
			// those issuers' real URLs (the doc's Configuration block).
			identity := map[string]string{"github": "[repository, repository_owner, repository_id, repository_owner_id]",
				"gitlab": "[project_path, namespace_path, project_id, namespace_id]", "cluster": "[]", "down": "[]", "moved": "[]"}
			cfg := "federation:\n  issuers:\n"
			for _, name := range []string{"github", "gitlab", "cluster", "down", "moved"} {
				cfg += fmt.Sprintf("    - {name: %s, url: %q, audiences: [harbor-registry], allow_http: true, identity_claims: %s}\n",
					name, issuers[name].URL, identity[name])
			}
			a := startAuthServer(t, authOptions{extraConfig: cfg})
			reg := startRegistry(t, f, a)
			a.cli(t, "project", "create", "team")
			a.cli(t, "project", "create", "other")
			for _, args := range robots {
				if out := a.cli(t, args...); !strings.Contains(out, "No secret") {
					t.Fatalf("authserver %s printed:\n%s", strings.Join(args, " "), out)
				}
			}
			a.cli(t, "robot", "create", "down", "--project", "team", "--actions", "pull", "--federate", "down", "--claim", "sub=x")
			a.cli(t, "robot", "create", "moved", "--project", "team", "--actions", "pull", "--federate", "moved", "--claim", "sub=x")
			// A policy that pins no workload is refused by the CLI, with the
			// reason, and no robot is made: aud alone would let any job of
			// the issuer in, a branch any repository's job.
			for claim, why := range map[string]string{
				"aud=harbor-registry": "condition: aud is checked by the verifier",
				"ref=refs/heads/main": "no condition pins the workload's identity: the policy needs one on sub, repository, repository_owner",
			} {
				r := a.tryCLI("", "robot", "create", "unpinned", "--project", "team", "--actions", "pull", "--federate", "github", "--claim", claim)
				if r.err == nil || !strings.Contains(r.stderr, why) {
					t.Fatalf("robot create --claim %s: want it refused saying %q:\n%s", claim, why, r)
				}
			}
			if r := a.tryCLI("", "robot", "list", "--project", "team"); r.err != nil || strings.Contains(r.stdout, "unpinned") {
				t.Fatalf("a refused policy made a robot:\n%s", r)
			}
			owner := newSession(t, reg, "admin", a.adminPass)
			mustOK(t, owner.cranePush(t, "other/app:base", "another project's image"))

			t.Run("GitHub Actions", func(t *testing.T) {
				user := docLoginUser(t, doc, "GitHub Actions")
				s := newSession(t, reg, "", "")
				d := dockerCLI{s: s}
				login, image := githubWorkflow(t, doc, d, issuers["github"], oidctest.GitHub("org/app", "refs/heads/main"))
				mustOK(t, login)
				if entry, file := d.auth(t); entry["identitytoken"] != "" || entry["auth"] == "" {
					t.Fatalf("docker stored a refresh token, or nothing, for a federated robot:\n%s", file)
				}
				mustOK(t, s.cranePush(t, image, "pushed from GitHub Actions"))
				mustRefuse(t, s.cranePush(t, "other/app:gh", "outside the robot's project"))
				// A tag's job where the policy wants refs/heads/*: refused.
				tag := dockerCLI{s: newSession(t, reg, "", "")}
				mustRefuse(t, tag.login(user, issuers["github"].Mint("harbor-registry", oidctest.GitHub("org/app", "refs/tags/v1"))))
				// Another repository's job: refused.
				mustRefuse(t, tag.login(user, issuers["github"].Mint("harbor-registry", oidctest.GitHub("org/other", "refs/heads/main"))))
			})

			t.Run("GitLab CI", func(t *testing.T) {
				user := docLoginUser(t, doc, "GitLab CI")
				s := newSession(t, reg, "", "")
				d := dockerCLI{s: s}
				login, image := gitlabJob(t, doc, d, issuers["gitlab"], oidctest.GitLab("group/app", "branch", "main"))
				mustOK(t, login)
				mustOK(t, s.cranePush(t, image, "pushed from GitLab CI"))
				tag := dockerCLI{s: newSession(t, reg, "", "")}
				mustRefuse(t, tag.login(user, issuers["gitlab"].Mint("harbor-registry", oidctest.GitLab("group/app", "tag", "v1"))))
			})

			// The other clients send the JWT as the password too: podman
			// and buildah (GET with Basic), helm (oras-go's password grant).
			t.Run("podman, buildah and helm with a JWT", func(t *testing.T) {
				user := docLoginUser(t, doc, "GitHub Actions")
				jwt := issuers["github"].Mint("harbor-registry", oidctest.GitHub("org/app", "refs/heads/main"))
				p := newContainersStore(t, newSession(t, reg, "", ""), "podman")
				mustOK(t, p.login(user, jwt))
				mustOK(t, p.push(t, "team/app:podman-fed", "pushed by podman as a federated robot"))
				mustOK(t, p.pull("team/app:podman-fed"))
				mustRefuse(t, p.push(t, "other/app:podman-fed", "outside the robot's project"))
				b := newContainersStore(t, newSession(t, reg, "", ""), "buildah")
				mustOK(t, b.login(user, jwt))
				mustOK(t, b.buildFrom(t, "team/app:podman-fed", "team/app:buildah-fed"))
				h := newHelm(newSession(t, reg, "", ""))
				mustOK(t, h.login(user, jwt))
				mustOK(t, h.push(t, "team", "fed-chart", "0.1.0"))
				mustOK(t, h.pull(t, "team/fed-chart", "0.1.0"))
				mustRefuse(t, h.push(t, "other", "fed-chart", "0.1.0"))
				// A JWT of another repository's job: refused at login.
				other := issuers["github"].Mint("harbor-registry", oidctest.GitHub("org/other", "refs/heads/main"))
				mustRefuse(t, newContainersStore(t, newSession(t, reg, "", ""), "podman").login(user, other))
				mustRefuse(t, newHelm(newSession(t, reg, "", "")).login(user, other))
			})

			t.Run("Kubernetes, the kubelet's path", func(t *testing.T) {
				mustOK(t, owner.cranePush(t, "team/app:base", "the image pods pull"))
				args := kubeletProviderArgs(t, doc)
				d := startContainerd(t)
				pull := func(token string) result {
					req := fmt.Sprintf(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest",`+
						`"image":%q,"serviceAccountToken":%q,"serviceAccountAnnotations":{}}`, reg.ref("team/app:base"), token)
					r := run(nil, req, append([]string{bin["authserver"]}, args...)...)
					mustOK(t, r)
					var resp struct {
						Auth map[string]struct{ Username, Password string }
					}
					if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil {
						t.Fatalf("credential-provider answered %q: %v", r.stdout, err)
					}
					auth, ok := resp.Auth[reg.host]
					if !ok || auth.Password != token {
						t.Fatalf("credential-provider: no credentials for %s: %s", reg.host, r.stdout)
					}
					// Not newSession(user, pass): it checks the credentials.
					s := newSession(t, reg, "", "")
					s.user, s.pass = auth.Username, auth.Password
					return ctr{d: d, s: s}.pull("team/app:base")
				}
				mustOK(t, pull(issuers["cluster"].Mint("harbor-registry", oidctest.Kubernetes("ci", "builder"))))
				mustRefuse(t, pull(issuers["cluster"].Mint("harbor-registry", oidctest.Kubernetes("dev", "builder"))))
				// A token for the API server's audience, not authserver's.
				mustRefuse(t, pull(issuers["cluster"].Mint("https://kubernetes.default.svc", oidctest.Kubernetes("ci", "builder"))))
			})

			// Keys come from the issuer's own host: a JWKS that redirects to
			// another host (an attacker's keys, a JWT signed by them under the
			// issuer's iss) is not fetched; the login is 503, never a token.
			t.Run("keys only from the issuer's host", func(t *testing.T) {
				moved := issuers["moved"]
				evil := oidctest.NewWith(t, oidctest.Options{Host: "127.0.0.2"})
				moved.Redirect("/jwks", evil.URL+"/jwks")
				forged := evil.Mint("harbor-registry", map[string]any{"sub": "x", "iss": moved.URL})
				q := "service=harbor-registry&scope=repository:team/app:pull"
				if r := a.getToken(t, "robot$team+moved", forged, q); r.status != http.StatusServiceUnavailable || evil.JWKSFetch.Load() != 0 {
					t.Errorf("keys behind a redirect to another host: %d %s (fetched %d), want 503 and no fetch", r.status, r.body, evil.JWKSFetch.Load())
				}
			})

			// Issuers go down: /readyz does not care, a key already fetched
			// keeps working, a JWT whose key must be fetched is 503 (retry
			// later), never 401.
			t.Run("issuer outage", func(t *testing.T) {
				gh, down := issuers["github"], issuers["down"]
				cached := gh.Mint("harbor-registry", oidctest.GitHub("org/app", "refs/heads/main"))
				unreached := down.Mint("harbor-registry", map[string]any{"sub": "x"})
				gh.Stop()
				down.Stop()
				res, err := http.Get(a.url + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Errorf("/readyz with issuers down: %s, want 200", res.Status)
				}
				q := "service=harbor-registry&scope=repository:team/app:pull"
				if r := a.getToken(t, "robot$team+gh", cached, q); r.status != http.StatusOK {
					t.Errorf("a JWT of a cached key with the issuer down: %d %s, want 200", r.status, r.body)
				}
				if r := a.getToken(t, "robot$team+down", unreached, q); r.status != http.StatusServiceUnavailable {
					t.Errorf("a JWT whose key must be fetched from an issuer that is down: %d %s, want 503", r.status, r.body)
				}
			})
		})
	}
}

// readDoc reads a file of the repository.
func readDoc(t *testing.T, path string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fenced returns the fenced code blocks of doc in lang, in order.
func fenced(doc, lang string) []string {
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(doc, -1) {
		out = append(out, m[1])
	}
	return out
}

// docCommands returns the arguments of every command in doc's sh blocks
// that starts with prefix, split as a POSIX shell would (single quotes,
// backslash-newline continuations), without the program name.
func docCommands(t *testing.T, doc, prefix string) [][]string {
	t.Helper()
	var out [][]string
	for _, block := range fenced(doc, "sh") {
		block = strings.ReplaceAll(block, "\\\n", " ")
		for _, line := range strings.Split(block, "\n") {
			if strings.HasPrefix(line, prefix) {
				out = append(out, shellWords(t, line)[1:])
			}
		}
	}
	return out
}

// shellWords splits a command line with single and double quotes (no
// expansions: the documented commands use none).
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for _, c := range line {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(c)
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '$' || c == '`':
			t.Fatalf("documented command %q expands %c: not supported here", line, c)
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("documented command %q: unterminated quote", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// docLoginUser is the -u of the docker login in section's CI snippet.
func docLoginUser(t *testing.T, doc, section string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n## "+section+"\n")
	if !ok {
		t.Fatalf("docs/FEDERATION.md has no section %q", section)
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	// The test's tokens are minted for harbor-registry: so must the snippet ask.
	if !strings.Contains(rest, "audience=harbor-registry") && !strings.Contains(rest, "aud: harbor-registry") {
		t.Fatalf("section %q: the snippet does not ask for audience harbor-registry", section)
	}
	m := regexp.MustCompile(`docker login \S+ -u '([^']+)' --password-stdin`).FindStringSubmatch(rest)
	if m == nil {
		t.Fatalf("section %q: no `docker login HOST -u 'ROBOT' --password-stdin`", section)
	}
	return m[1]
}

// kubeletProviderArgs is the args of the authserver provider in the
// CredentialProviderConfig of the doc (cmd/authserver checks the rest of
// that YAML against the kubelet's schema).
func kubeletProviderArgs(t *testing.T, doc string) []string {
	t.Helper()
	for _, block := range fenced(doc, "yaml") {
		var cfg struct {
			Kind      string
			Providers []struct {
				Name string
				Args []string
			}
		}
		if yaml.Unmarshal([]byte(block), &cfg) != nil || cfg.Kind != "CredentialProviderConfig" {
			continue
		}
		for _, p := range cfg.Providers {
			if p.Name == "authserver" {
				return p.Args
			}
		}
	}
	t.Fatal("docs/FEDERATION.md: no CredentialProviderConfig with a provider named authserver")
	return nil
}
