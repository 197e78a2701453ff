//go:build integration

package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authserver/authserver/internal/testenv"
)

// opsServer is an authserver whose process the test controls: it can be
// signalled, its log read and its exit status seen. The config is written
// by start, so a test may adjust opts and the key files before.
type opsServer struct {
	*authServer
	opts    opsOptions
	addr    string // 127.0.0.1:PORT, for clients that pick their source address
	keys    string // directory of the configured token.key and token.crt
	logPath string
	proc    *testenv.Process
	// client reaches the server; nil is http.DefaultClient (set one that
	// trusts the server's certificate, and an https url, for server.tls).
	client *http.Client
}

// opsOptions vary the generated config.
type opsOptions struct {
	postgresDSN string
	server      string // YAML lines added under server: (indented two spaces)
	token       string // YAML lines added under token:
	extra       string // further top-level sections
}

// newOpsServer prepares a directory, a config and a key made by `authserver
// keygen`; start runs it.
func newOpsServer(t *testing.T, opts opsOptions) *opsServer {
	t.Helper()
	dir := t.TempDir()
	port := testenv.FreePort(t)
	o := &opsServer{
		authServer: &authServer{
			dir:       dir,
			config:    filepath.Join(dir, "config.yaml"),
			url:       "http://localhost:" + strconv.Itoa(port),
			adminPass: "Admin-secret-" + strconv.Itoa(port),
		},
		opts:    opts,
		addr:    "127.0.0.1:" + strconv.Itoa(port),
		keys:    filepath.Join(dir, "keys"),
		logPath: filepath.Join(dir, "authserver.log"),
	}
	keygen(t, o.keys)
	return o
}

// start writes the config, runs `authserver serve` and waits until the token
// endpoint answers. On cleanup the process is stopped (if it still runs) and,
// when the test failed, its log printed.
func (o *opsServer) start(t *testing.T) {
	t.Helper()
	cfg := authConfig(o.addr, o.keys, o.dir, authOptions{postgresDSN: o.opts.postgresDSN,
		server: o.opts.server, token: o.opts.token, extraConfig: o.opts.extra})
	if err := os.WriteFile(o.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	o.proc = startLogged(t, "authserver", o.logPath, []string{"AUTHSERVER_ADMIN_PASSWORD=" + o.adminPass, "AUTHSERVER_CONFIG="},
		o.dir, bin["authserver"], "serve", "--config", o.config)
	c := o.client
	if c == nil {
		c = http.DefaultClient
	}
	waitFor(t, "authserver", o.proc.Done(), tokenEndpointReady(c, o.url))
}

// signal sends sig to the running process.
func (o *opsServer) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := o.proc.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

func (o *opsServer) log() string {
	b, err := os.ReadFile(o.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// waitLog waits (10 s at most) until the log holds substr at least n times.
func (o *opsServer) waitLog(t *testing.T, substr string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(o.log(), substr) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log holds %q %d times after 10s, want %d", substr, strings.Count(o.log(), substr), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// auditRecord is one item of `authserver audit list --output json`.
type auditRecord struct {
	Subject   string   `json:"subject"`
	Method    string   `json:"method"`
	Result    string   `json:"result"`
	ClientIP  string   `json:"client_ip"`
	UserAgent string   `json:"user_agent"`
	Requested []string `json:"requested"`
}

// auditList runs `authserver audit list --output json` with filter flags.
func (o *opsServer) auditList(t *testing.T, flags ...string) []auditRecord {
	t.Helper()
	out := o.cli(t, append([]string{"audit", "list", "--output", "json", "--limit", "1000000"}, flags...)...)
	var recs []auditRecord
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("audit list output is not a JSON list: %v\n%s", err, out)
	}
	return recs
}

// reply is a complete HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send does req with c and reads the whole body.
func send(t *testing.T, c *http.Client, req *http.Request) reply {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}
}

// newRequest builds a request or fails the test.
func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// wantErrcode checks an error answer: status and an errcode JSON body.
func wantErrcode(t *testing.T, what string, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s: status %d, want %d; body %s", what, status, wantStatus, body)
	}
	var eb errBody
	if err := json.Unmarshal(body, &eb); err != nil || len(eb.Errors) == 0 || eb.Errors[0].Code != wantCode {
		t.Fatalf("%s: body %q (%v), want {\"errors\":[{\"code\":%q,...}]}", what, body, err, wantCode)
	}
}

// clientFrom is an HTTP client whose connections leave from the loopback
// address ip (all of 127.0.0.0/8 is loopback on Linux).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 30 * time.Second}
}

// jwtKID returns the kid in a JWT's header.
func jwtKID(t *testing.T, tok string) string {
	t.Helper()
	seg, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("JWT header %q: %v", seg, err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.KID == "" {
		t.Fatalf("JWT header %s: no kid (%v)", raw, err)
	}
	return h.KID
}

// jwksKIDs reads the kids of a JWKS document, in order.
func jwksKIDs(t *testing.T, doc []byte) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("JWKS %s: %v", doc, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// certDERs returns the DER bytes of every CERTIFICATE block in PEM data.
func certDERs(data []byte) []string {
	var out []string
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return out
		}
		if b.Type == "CERTIFICATE" {
			out = append(out, string(b.Bytes))
		}
	}
}

// replaceFile writes data to path atomically (temp file + rename), as an
// operator deploying a new key should.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var rootCertBundle = regexp.MustCompile(`(?m)^(\s*rootcertbundle:).*$`)

// startRegistryTrusting is startRegistry with the registry's rootcertbundle
// replaced by bundle, as during a key rotation (docs/KEY-ROTATION.md).
func startRegistryTrusting(t *testing.T, f flavour, a *authServer, bundle string) *registry {
	t.Helper()
	block := a.cli(t, "registry-config")
	if !rootCertBundle.MatchString(block) {
		t.Fatalf("registry-config printed no rootcertbundle:\n%s", block)
	}
	return startRegistryWithAuth(t, f, a, rootCertBundle.ReplaceAllString(block, "${1} "+bundle))
}

// metricValue finds the sample `name{labels} value` in Prometheus text
// (labels as written by client_golang: sorted, quoted); found is false
// when there is no such line.
func metricValue(text, name, labels string) (v float64, found bool) {
	prefix := name + "{" + labels + "} "
	if labels == "" {
		prefix = name + " "
	}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// getBody GETs url and returns the status and body; it fails the test when
// nothing answers.
func getBody(t *testing.T, url string) (int, []byte) {
	t.Helper()
	r := send(t, http.DefaultClient, newRequest(t, http.MethodGet, url, nil))
	return r.status, bytes.TrimSpace(r.body)
}
