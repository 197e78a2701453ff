//go:build integration

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/docker/distribution/registry/client/auth"
	"github.com/docker/distribution/registry/client/auth/challenge"
	"github.com/docker/distribution/registry/client/transport"
)

// docker's token flow, driven through its own client library
// (github.com/docker/distribution registry/client/auth), as the docker
// daemon runs it for `docker login`, pull and push.

// dockerCreds is docker's credential store as its token handler sees it:
// Basic credentials (empty once logged in) and the refresh tokens it is
// handed, by service.
type dockerCreds struct {
	user, pass string
	mu         sync.Mutex
	refresh    map[string]string
}

func (c *dockerCreds) Basic(*url.URL) (string, string) { return c.user, c.pass }

func (c *dockerCreds) RefreshToken(_ *url.URL, service string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refresh[service]
}

func (c *dockerCreds) SetRefreshToken(_ *url.URL, service, token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refresh == nil {
		c.refresh = map[string]string{}
	}
	c.refresh[service] = token
}

// dockerClient is an HTTP client authorised the way docker's daemon does
// it: challenge manager + token handler (OfflineAccess, ClientID "docker").
func (w *credWorld) dockerClient(t *testing.T, creds *dockerCreds, forceOAuth bool, scopes ...auth.Scope) *http.Client {
	t.Helper()
	cm := challenge.NewSimpleManager()
	resp, err := http.Get(w.reg.url + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := cm.AddResponse(resp); err != nil {
		t.Fatal(err)
	}
	th := auth.NewTokenHandlerWithOptions(auth.TokenHandlerOptions{
		Transport: http.DefaultTransport, Credentials: creds, OfflineAccess: true, ForceOAuth: forceOAuth,
		ClientID: "docker", Scopes: scopes,
	})
	return &http.Client{Transport: transport.NewTransport(http.DefaultTransport, auth.NewAuthorizer(cm, th))}
}

// dockerLogin is `docker login`: GET /v2/ through the token handler with
// Basic credentials; it returns the refresh token docker would store as its
// identity token.
func (w *credWorld) dockerLogin(t *testing.T, user, pass string, forceOAuth bool) string {
	t.Helper()
	creds := &dockerCreds{user: user, pass: pass}
	resp, err := w.dockerClient(t, creds, forceOAuth).Get(w.reg.url + "/v2/")
	if err != nil {
		t.Fatalf("docker login: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("docker login: GET /v2/ = %s", resp.Status)
	}
	rt := creds.RefreshToken(nil, "harbor-registry")
	if !strings.HasPrefix(rt, "asr_") {
		t.Fatalf("docker login got no refresh token (%q)", rt)
	}
	return rt
}

// dockerPull fetches a manifest with only a refresh token, as docker does
// after login (POST grant_type=refresh_token); it returns the status and
// the manifest digest.
func (w *credWorld) dockerPull(t *testing.T, rt, repo, tag string) (int, string) {
	t.Helper()
	creds := &dockerCreds{refresh: map[string]string{"harbor-registry": rt}}
	c := w.dockerClient(t, creds, false, auth.RepositoryScope{Repository: repo, Actions: []string{"pull"}})
	req, err := http.NewRequest(http.MethodGet, w.reg.url+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := c.Do(req)
	if err != nil {
		// The token handler fails the request itself when the token
		// endpoint refuses the refresh token.
		if strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
			return http.StatusUnauthorized, ""
		}
		t.Fatalf("docker pull: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Docker-Content-Digest")
}
