package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFederation(t *testing.T) {
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, []byte(`{"keys":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	runParse(t, func(c Config) Federation { return c.Federation }, []parseCase[Federation]{
		{name: "absent section", yaml: "log: {level: info}",
			check: func(t *testing.T, f Federation) {
				if len(f.Issuers) != 0 {
					t.Fatalf("want no issuers, got %+v", f)
				}
			}},
		{name: "defaults", yaml: `
federation:
  issuers:
    - {name: github, url: "https://token.actions.githubusercontent.com", audiences: [harbor-registry]}
    - {name: cluster, url: "https://kubernetes.default.svc", audiences: [harbor-registry], jwks_file: ` + jwks + `, algorithms: [RS256], max_token_age: 10m}
`,
			check: func(t *testing.T, f Federation) {
				gh, ok := f.Issuer("github")
				if !ok || !slices.Equal(gh.Algorithms, []string{"RS256", "ES256"}) || gh.MaxTokenAge.D() != time.Hour {
					t.Fatalf("defaults not applied: %+v", gh)
				}
				k, _ := f.Issuer("cluster")
				if k.JWKSFile != jwks || k.MaxTokenAge.D() != 10*time.Minute || !slices.Equal(f.IssuerNames(), []string{"github", "cluster"}) {
					t.Fatalf("cluster = %+v", k)
				}
			}},
		{name: "every problem at once", yaml: `
federation:
  issuers:
    - {name: "bad name", url: "https://a.example", audiences: [x]}
    - {name: dup, url: "http://b.example", audiences: []}
    - {name: dup, url: "https://c.example?x=1", audiences: [x], algorithms: [HS256, none], max_token_age: 0s}
    - {name: file, url: "https://d.example", audiences: [x], jwks_file: /nonexistent/jwks.json}
    - {name: typo, url: "https://e.example", audiences: [x], audience: [y]}
`,
			wantErr: []string{`name "bad name"`, "issuers[1].url", "allow_http", "issuers[1].audiences", `name "dup": used twice`,
				"issuers[2].url", `"HS256" is not accepted`, `"none" is not accepted`, "max_token_age: must be positive",
				"issuers[3].jwks_file", "field audience not found"}},
		{name: "identity claims: defaults by issuer, replaced when set", yaml: `
federation:
  issuers:
    - {name: github, url: "https://token.actions.githubusercontent.com", audiences: [x]}
    - {name: ghe, url: "https://token.actions.githubusercontent.com/acme", audiences: [x]}
    - {name: gitlab, url: "https://gitlab.com", audiences: [x]}
    - {name: gitlab-own, url: "https://gitlab.example.org", audiences: [x], identity_claims: [project_path, namespace_path]}
    - {name: cluster, url: "https://kubernetes.default.svc", audiences: [x]}
    - {name: cluster-ns, url: "https://k8s.example.org", audiences: [x], identity_claims: [/kubernetes.io/namespace]}
    - {name: github-sub-only, url: "https://token.actions.githubusercontent.com", audiences: [x], identity_claims: []}
    - {name: lookalike, url: "https://token.actions.githubusercontent.com.example.org", audiences: [x]}
`,
			check: func(t *testing.T, f Federation) {
				want := map[string][]string{
					"github":          {"sub", "repository", "repository_owner", "repository_id", "repository_owner_id"},
					"ghe":             {"sub", "repository", "repository_owner", "repository_id", "repository_owner_id"},
					"gitlab":          {"sub", "project_path", "namespace_path", "project_id", "namespace_id"},
					"gitlab-own":      {"sub", "project_path", "namespace_path"},
					"cluster":         {"sub"},
					"cluster-ns":      {"sub", "/kubernetes.io/namespace"},
					"github-sub-only": {"sub"},
					"lookalike":       {"sub"},
				}
				for name, claims := range want {
					is, _ := f.Issuer(name)
					if got := is.Identity(); !slices.Equal(got, claims) {
						t.Errorf("issuer %s: Identity() = %v, want %v", name, got, claims)
					}
				}
			}},
		{name: "identity claims the verifier checks, or empty", yaml: `
federation:
  issuers:
    - {name: a, url: "https://a.example", audiences: [x], identity_claims: [aud, /iss, exp, "", "a\tb"]}
`,
			wantErr: []string{"issuers[0].identity_claims: aud is checked by the verifier", "identity_claims: /iss is checked",
				"identity_claims: exp is checked", "identity_claims: the claim name must not be empty", `"a\tb": control characters`}},
		{name: "http allowed", yaml: `
federation:
  issuers: [{name: test, url: "http://localhost:8080", audiences: [x], allow_http: true}]
`, check: func(t *testing.T, f Federation) {}},
	})
}

// TestFederationDoc: the configuration block of docs/FEDERATION.md parses
// and validates as written, with the issuers the doc's robots name.
func TestFederationDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/FEDERATION.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## Configuration (infrastructure)\n\n```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/FEDERATION.md: no yaml block under ## Configuration (infrastructure)")
	}
	cfg, err := Parse([]byte(block))
	if err != nil {
		t.Fatalf("the documented federation section: %v", err)
	}
	if got := cfg.Federation.IssuerNames(); !slices.Equal(got, []string{"github", "gitlab", "cluster"}) {
		t.Errorf("documented issuers %v, want github, gitlab, cluster (the robots of the doc name them)", got)
	}
	for _, is := range cfg.Federation.Issuers {
		if !slices.Equal(is.Audiences, []string{"harbor-registry"}) {
			t.Errorf("issuer %s: audiences %v, want [harbor-registry] (the audience the snippets ask for)", is.Name, is.Audiences)
		}
	}
}
