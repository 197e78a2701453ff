package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// SlapdBin is OpenLDAP's server (Debian package slapd, installed by
// scripts/install-test-deps.sh); $AUTHSERVER_TEST_SLAPD overrides it.
// SlapdSchemaDir holds the schemas the fixtures use.
var (
	SlapdBin       = "/usr/sbin/slapd"
	SlapdSchemaDir = "/etc/ldap/schema"
)

// The directory every test slapd serves. The fixtures (testdata/ldap) add
// the service account LDAPSearchDN and one OU per test area.
const (
	LDAPSuffix         = "dc=example,dc=org"
	LDAPRootDN         = "cn=admin,dc=example,dc=org"
	LDAPRootPassword   = "root-secret"
	LDAPSearchDN       = "cn=search,dc=example,dc=org"
	LDAPSearchPassword = "search-secret"
)

// SlapdServer is a throw-away OpenLDAP server with the test fixtures: its
// own config and mdb database in Dir, plain LDAP (and StartTLS) on Port and
// LDAPS on TLSPort, both on 127.0.0.1, with a server certificate for
// 127.0.0.1 and localhost signed by the CA in CAFile. Stop and Start keep
// ports and data, so a test can take the directory away and bring it back.
type SlapdServer struct {
	Dir     string
	Port    int
	TLSPort int
	// CAFile is the PEM certificate of the CA that signed the server's
	// certificate; OtherCAFile is an unrelated CA (for "untrusted" tests).
	CAFile      string
	OtherCAFile string

	proc daemon
}

// URL is ldap://127.0.0.1:Port.
func (s *SlapdServer) URL() string { return "ldap://127.0.0.1:" + strconv.Itoa(s.Port) }

// TLSURL is ldaps://localhost:TLSPort (a name, to exercise ServerName).
func (s *SlapdServer) TLSURL() string { return "ldaps://localhost:" + strconv.Itoa(s.TLSPort) }

var (
	sharedLDA struct {
		once sync.Once
		srv  *SlapdServer
		err  error
	}
)

// Slapd returns the slapd shared by the test process, started on first use
// with the fixtures. Tests must not stop it or change entries other tests
// read (use NewSlapd, or an OU of their own). If slapd cannot start the test
// fails with its log; it is never skipped. Use testenv.Main in TestMain so
// it is stopped at the end.
func Slapd(tb testing.TB) *SlapdServer {
	tb.Helper()
	sharedLDA.once.Do(func() { sharedLDA.srv, sharedLDA.err = StartSlapd() })
	if sharedLDA.err != nil {
		tb.Fatalf("testenv: start slapd: %v", sharedLDA.err)
	}
	return sharedLDA.srv
}

// NewSlapd starts a dedicated slapd with the fixtures for one test (for
// example one that stops it), removed when the test ends.
func NewSlapd(tb testing.TB) *SlapdServer {
	tb.Helper()
	return forTest(tb, "slapd", StartSlapd)
}

// StartSlapd writes a config, TLS material and the fixtures into a new
// temporary directory and starts slapd on two free ports. The caller must
// Remove it; Main removes any left over.
func StartSlapd() (*SlapdServer, error) {
	if b := os.Getenv("AUTHSERVER_TEST_SLAPD"); b != "" {
		SlapdBin = b
	}
	s := &SlapdServer{}
	var err error
	if s.Dir, err = s.proc.init("slapd", syscall.SIGTERM, 10*time.Second); err != nil {
		return nil, err
	}
	if err := launch(s, s.setup, s.Start, &s.Port, &s.TLSPort); err != nil {
		return nil, err
	}
	return s, nil
}

// setup writes the certificates, slapd.conf and the database (slapadd).
func (s *SlapdServer) setup() error {
	if err := writeSlapdTLS(s.Dir); err != nil {
		return fmt.Errorf("slapd tls: %w", err)
	}
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	s.OtherCAFile = filepath.Join(s.Dir, "other-ca.pem")
	if err := os.Mkdir(filepath.Join(s.Dir, "data"), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(s.confPath(), []byte(s.conf()), 0o600); err != nil {
		return err
	}
	fixtures, err := os.ReadFile(filepath.Join(RepoRoot(), "testdata", "ldap", "fixtures.ldif"))
	if err != nil {
		return fmt.Errorf("read fixtures: %w", err)
	}
	ldif := filepath.Join(s.Dir, "fixtures.ldif")
	if err := os.WriteFile(ldif, append(fixtures, GeneratedLDIF()...), 0o600); err != nil {
		return err
	}
	slapadd := filepath.Join(filepath.Dir(SlapdBin), "slapadd")
	out, err := exec.Command(slapadd, "-q", "-f", s.confPath(), "-l", ldif).CombinedOutput()
	if err != nil {
		return fmt.Errorf("slapadd: %w\n%s", err, out)
	}
	return nil
}

func (s *SlapdServer) confPath() string { return filepath.Join(s.Dir, "slapd.conf") }

// conf is slapd.conf: the four schemas, TLS, one mdb database that the
// search account may read and users may bind to, with the ppolicy overlay
// (no default policy: it only keeps pwdChangedTime on password changes).
func (s *SlapdServer) conf() string {
	var b strings.Builder
	for _, sc := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s\n", filepath.Join(SlapdSchemaDir, sc+".schema"))
	}
	fmt.Fprintf(&b, `pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
sizelimit 10000
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server.key
database mdb
maxsize 268435456
suffix %[2]q
rootdn %[3]q
rootpw %[4]s
directory %[1]s/data
index objectClass,uid,cn,member,memberUid eq
overlay ppolicy
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by * read
`, s.Dir, LDAPSuffix, LDAPRootDN, LDAPRootPassword)
	return b.String()
}

// Start (re)starts slapd on its ports and data and waits until the root DN
// can bind. The error includes slapd's log.
func (s *SlapdServer) Start() error {
	urls := fmt.Sprintf("ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/", s.Port, s.TLSPort)
	// -d keeps slapd in the foreground, so this process owns it.
	cmd := exec.Command(SlapdBin, "-d", "0", "-f", s.confPath(), "-h", urls)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return s.proc.start(cmd, s.bindRoot)
}

// bindRoot binds once as the root DN.
func (s *SlapdServer) bindRoot() error {
	c, err := ldap.DialURL(s.URL(), ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetTimeout(time.Second)
	return c.Bind(LDAPRootDN, LDAPRootPassword)
}

// Stop shuts slapd down and waits for it to exit; open connections are cut.
// Stopping a stopped server does nothing.
func (s *SlapdServer) Stop() { s.proc.stop() }

// Remove stops slapd and deletes its directory.
func (s *SlapdServer) Remove() {
	s.Stop()
	os.RemoveAll(s.Dir)
}

// Root returns a connection bound as the root DN, closed when the test
// ends: tests change the directory through it (ldapmodify's job).
func (s *SlapdServer) Root(tb testing.TB) *ldap.Conn {
	tb.Helper()
	c, err := ldap.DialURL(s.URL(), ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
	if err != nil {
		tb.Fatalf("testenv: dial slapd: %v", err)
	}
	c.SetTimeout(5 * time.Second)
	if err := c.Bind(LDAPRootDN, LDAPRootPassword); err != nil {
		c.Close()
		tb.Fatalf("testenv: bind as root: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// RepoRoot is the directory holding go.mod, found upwards from the working
// directory (a package directory under go test).
func RepoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
