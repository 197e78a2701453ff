package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/token"
)

// Errors of a Client, for errors.Is.
var (
	// ErrNotFound: the registry has no such repository (or none of its
	// manifests is tagged).
	ErrNotFound = errors.New("no such repository in the registry")
	// ErrDeleteDisabled: the registry refuses to delete manifests (its
	// storage.delete.enabled is off).
	ErrDeleteDisabled = errors.New("the registry refuses to delete manifests: set storage.delete.enabled: true in its configuration")
	// ErrUnavailable: the registry could not be asked, or answered
	// something else than its API says.
	ErrUnavailable = errors.New("registry unavailable")
)

// Signer signs the tokens the Client shows the registry (token.Issuer: the
// keys and issuer the registry trusts for every client).
type Signer interface {
	IssueUntil(subject string, access []token.ResourceActions, notAfter time.Time) (token.Token, error)
}

// Subject is the sub claim of the tokens authserver signs for itself.
const Subject = "authserver"

// TokenLifetime is how long a token the Client signs for itself lives: the
// shortest token.MinLifetime allows.
const TokenLifetime = token.MinLifetime

// pageSize is how many names one catalog or tags request asks for.
const pageSize = 1000

// Client asks one registry through its API (the distribution spec; tested
// with distribution 2.8 and 3.x), with tokens it signs for itself that
// grant exactly what each call needs: the catalog (registry:catalog:*) or
// one repository (pull and delete).
type Client struct {
	base *url.URL
	http *http.Client
	sign Signer
}

// New returns a Client of the registry at base (registry.url: its address
// as authserver reaches it). hc nil is a client with timeout 10s.
func New(base string, hc *http.Client, sign Signer) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registry: %q: want an http:// or https:// URL", base)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{base: u, http: hc, sign: sign}, nil
}

// Repositories lists the repositories of project ("team/app") that hold
// at least one tag, from the registry's catalog: read from the first name
// after "project/" on (the catalog is in lexical order), and asked for
// each one's tags (the registry keeps a repository in its catalog after
// its last manifest is deleted).
func (c *Client) Repositories(ctx context.Context, project string) ([]string, error) {
	prefix := project + "/"
	var names []string
	err := c.pages(ctx, []token.ResourceActions{{Type: "registry", Name: "catalog", Actions: []string{"*"}}},
		"/v2/_catalog", url.Values{"last": {prefix}}, func(body []byte) (bool, error) {
			var page struct {
				Repositories []string `json:"repositories"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return false, err
			}
			for _, n := range page.Repositories {
				switch {
				case strings.HasPrefix(n, prefix):
					names = append(names, n)
				case n > prefix:
					return false, nil // past the project's names
				}
			}
			return true, nil
		})
	if err != nil {
		return nil, fmt.Errorf("registry: catalog of %s: %w", project, err)
	}
	out := []string{}
	for _, n := range names {
		tags, err := c.tags(ctx, n)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("registry: tags of %s: %w", n, err)
		case len(tags) > 0:
			out = append(out, n)
		}
	}
	return out, nil
}

// DeleteRepository deletes every tagged manifest of repository: its tags,
// the digests they name (HEAD of each), then a DELETE of each digest.
// ErrNotFound when it has no tag.
func (c *Client) DeleteRepository(ctx context.Context, repository string) error {
	tags, err := c.tags(ctx, repository)
	if err == nil && len(tags) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("registry: delete %s: %w", repository, err)
	}
	access := []token.ResourceActions{{Type: "repository", Name: repository, Actions: []string{"pull", "delete"}}}
	var digests []string
	for _, tag := range tags {
		resp, err := c.do(ctx, http.MethodHead, "/v2/"+repository+"/manifests/"+url.PathEscape(tag), nil, access, manifestTypes...)
		if err != nil {
			return fmt.Errorf("registry: delete %s: %w", repository, err)
		}
		resp.Body.Close()
		d := resp.Header.Get("Docker-Content-Digest")
		switch {
		case resp.StatusCode == http.StatusNotFound: // deleted meanwhile
		case resp.StatusCode != http.StatusOK || d == "":
			return fmt.Errorf("registry: delete %s: HEAD manifest %s: %s: %w", repository, tag, resp.Status, ErrUnavailable)
		case !slices.Contains(digests, d):
			digests = append(digests, d)
		}
	}
	for _, d := range digests {
		resp, err := c.do(ctx, http.MethodDelete, "/v2/"+repository+"/manifests/"+d, nil, access)
		if err != nil {
			return fmt.Errorf("registry: delete %s: %w", repository, err)
		}
		body := readSome(resp)
		switch resp.StatusCode {
		case http.StatusAccepted, http.StatusOK, http.StatusNotFound:
		case http.StatusMethodNotAllowed:
			return fmt.Errorf("registry: delete %s: %w", repository, ErrDeleteDisabled)
		default:
			return fmt.Errorf("registry: delete %s: DELETE manifest %s: %s %s: %w", repository, d, resp.Status, body, ErrUnavailable)
		}
	}
	return nil
}

// manifestTypes are what a HEAD of a manifest accepts, so that the digest
// is the stored manifest's, whatever its kind.
var manifestTypes = []string{
	"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
}

// tags lists the tags of repository; ErrNotFound when the registry does not
// know it.
func (c *Client) tags(ctx context.Context, repository string) ([]string, error) {
	var tags []string
	err := c.pages(ctx, []token.ResourceActions{{Type: "repository", Name: repository, Actions: []string{"pull"}}},
		"/v2/"+repository+"/tags/list", url.Values{}, func(body []byte) (bool, error) {
			var page struct {
				Tags []string `json:"tags"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return false, err
			}
			tags = append(tags, page.Tags...)
			return true, nil
		})
	return tags, err
}

// pages GETs path with query and n, hands each page's body to each (false:
// stop) and follows the Link rel="next" the registry answers. A 404 is
// ErrNotFound.
func (c *Client) pages(ctx context.Context, access []token.ResourceActions, path string, query url.Values,
	each func([]byte) (bool, error)) error {
	query.Set("n", fmt.Sprint(pageSize))
	next := path + "?" + query.Encode()
	for range 10000 {
		resp, err := c.do(ctx, http.MethodGet, next, nil, access, "application/json")
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		switch {
		case err != nil:
			return fmt.Errorf("%w: read %s: %v", ErrUnavailable, path, err)
		case resp.StatusCode == http.StatusNotFound:
			return ErrNotFound
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("%w: GET %s: %s %.200s", ErrUnavailable, path, resp.Status, body)
		}
		more, err := each(body)
		if err != nil {
			return fmt.Errorf("%w: GET %s: %v", ErrUnavailable, path, err)
		}
		next = nextLink(resp.Header.Get("Link"))
		if !more || next == "" {
			return nil
		}
	}
	return fmt.Errorf("%w: GET %s: too many pages", ErrUnavailable, path)
}

// nextLink is the path and query of a Link header's rel="next", "" for none.
func nextLink(h string) string {
	for _, l := range strings.Split(h, ",") {
		target, params, _ := strings.Cut(strings.TrimSpace(l), ";")
		if strings.Contains(params, `rel="next"`) || strings.Contains(params, "rel=next") {
			u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
			if err == nil {
				return u.RequestURI()
			}
		}
	}
	return ""
}

// do sends one request with a token for access, signed now.
func (c *Client) do(ctx context.Context, method, pathQuery string, body io.Reader, access []token.ResourceActions,
	accept ...string) (*http.Response, error) {
	tok, err := c.sign.IssueUntil(Subject, access, time.Now().Add(TokenLifetime))
	if err != nil {
		return nil, fmt.Errorf("sign a token for the registry: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+pathQuery, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Raw)
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", ErrUnavailable, method, req.URL.Redacted(), err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		b := readSome(resp)
		return nil, fmt.Errorf("%w: %s %s: %s %s (does the registry trust authserver's token.issuer and key?)", ErrUnavailable,
			method, req.URL.Redacted(), resp.Status, b)
	}
	return resp, nil
}

// readSome reads and closes a response's body, at most 512 bytes of it kept.
func readSome(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return strings.TrimSpace(string(b))
}
