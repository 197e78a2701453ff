package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"
)

// The Active Directory domain every test Samba serves.
const (
	SambaRealm         = "EXAMPLE.ORG"
	SambaDomain        = "EXAMPLE" // NetBIOS name: EXAMPLE\user
	SambaBaseDN        = "DC=example,DC=org"
	SambaAdminUPN      = "Administrator@" + SambaRealm
	SambaAdminPassword = "Admin-Secret-1"
	// SambaLockoutThreshold wrong passwords in a row lock an account out
	// (for 30 minutes): tests that try wrong passwords stay below it.
	SambaLockoutThreshold = 5
)

// SambaBin and SambaToolBin are Samba's AD DC and its admin tool (Debian
// packages samba, samba-ad-dc, samba-ad-provision; installed by
// scripts/install-test-deps.sh).
var (
	SambaBin     = "/usr/sbin/samba"
	SambaToolBin = "/usr/bin/samba-tool"
)

// sambaLockPath is held (flock) by the process whose Samba runs: Samba
// listens on the fixed AD ports of the loopback, so one machine runs one.
const sambaLockPath = "/tmp/authserver-samba.lock"

// sambaLockWait is how long Samba waits for another test process's Samba
// to end before the test fails.
const sambaLockWait = 10 * time.Minute

// SambaServer is a throw-away Samba Active Directory domain controller for
// the domain EXAMPLE.ORG, provisioned into Dir (nothing under /etc or
// /var/lib/samba). It listens on the FIXED AD ports (389 ldap + StartTLS,
// 636 ldaps, 88, 135, 464, 3268, 3269) of 127.0.0.1 and ::1 only, with a
// server certificate for localhost and 127.0.0.1 signed by the CA in
// CAFile. Plain simple binds are refused ("Strong Auth Required"), as by a
// default Windows DC. The domain's password policy is relaxed for tests
// (no complexity, history or minimum age), an account locks after
// SambaLockoutThreshold wrong passwords, and the old password stops working
// at once on a change (old password allowed period = 0).
type SambaServer struct {
	Dir    string
	CAFile string

	proc daemon
	lock *os.File
}

// URL is ldaps://localhost (the certificate's name).
func (s *SambaServer) URL() string { return "ldaps://localhost" }

// PlainURL is ldap://localhost: StartTLS, or plain (which binds refuse).
func (s *SambaServer) PlainURL() string { return "ldap://localhost" }

func (s *SambaServer) confPath() string { return filepath.Join(s.Dir, "etc", "smb.conf") }

var sharedSamba struct {
	once sync.Once
	srv  *SambaServer
	err  error
}

// Samba returns the Samba DC shared by the test process, provisioned and
// started on first use. Only one package may use it (the fixed ports): the
// e2e package. A test that needs entries makes its own OU (AddOU), so tests
// never share entries; a test that stops it (Stop, Start) must not run in
// parallel with others that use it. If Samba cannot start, the test fails
// with its log; it is never skipped. Use testenv.Main in TestMain so it is
// stopped at the end.
func Samba(tb testing.TB) *SambaServer {
	tb.Helper()
	sharedSamba.once.Do(func() { sharedSamba.srv, sharedSamba.err = StartSamba() })
	if sharedSamba.err != nil {
		tb.Fatalf("testenv: start samba: %v", sharedSamba.err)
	}
	return sharedSamba.srv
}

// StartSamba takes the machine's Samba lock, provisions a domain into a new
// temporary directory and starts Samba. The caller must Remove it; Main
// removes any left over.
func StartSamba() (*SambaServer, error) {
	s := &SambaServer{}
	lock, err := lockSamba()
	if err != nil {
		return nil, err
	}
	s.lock = lock
	if s.Dir, err = s.proc.init("samba", syscall.SIGTERM, 20*time.Second); err != nil {
		s.unlock()
		return nil, err
	}
	if err := launch(s, s.setup, s.Start); err != nil {
		return nil, err
	}
	return s, nil
}

// lockSamba takes sambaLockPath, waiting for another test process to let go.
func lockSamba() (*os.File, error) {
	f, err := os.OpenFile(sambaLockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("samba lock: %w", err)
	}
	deadline := time.Now().Add(sambaLockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			holder, _ := os.ReadFile(sambaLockPath)
			f.Close()
			return nil, fmt.Errorf("samba lock %s (held by pid %s): %w: only one Samba AD DC can run on a machine (fixed ports)",
				sambaLockPath, strings.TrimSpace(string(holder)), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (s *SambaServer) unlock() {
	if s.lock != nil {
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock.Close()
		s.lock = nil
	}
}

// setup provisions the domain (samba-tool, about 8 s) and writes the TLS
// material and the settings the tests rely on into its smb.conf.
func (s *SambaServer) setup() error {
	if err := writeSlapdTLS(s.Dir); err != nil {
		return fmt.Errorf("samba tls: %w", err)
	}
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	opt := func(k, v string) string { return "--option=" + k + "=" + v }
	d := s.Dir
	cmd := exec.Command(SambaToolBin, "domain", "provision", "--targetdir="+d,
		"--realm="+SambaRealm, "--domain="+SambaDomain, "--server-role=dc", "--dns-backend=NONE",
		"--adminpass="+SambaAdminPassword, "--use-rfc2307", "--host-name=dc1",
		opt("interfaces", "lo"), opt("bind interfaces only", "yes"),
		opt("log file", filepath.Join(d, "log.%m")), opt("pid directory", filepath.Join(d, "run")),
		opt("ncalrpc dir", filepath.Join(d, "ncalrpc")), opt("winbindd socket directory", filepath.Join(d, "winbindd")),
		opt("server services", "rpc, ldap, cldap, kdc, drepl, winbindd, kcc"),
		opt("unix password sync", "no"),
		// The previous password binds for 60 minutes after a change by
		// default: what docs/SECURITY.md tells operators to turn off.
		opt("old password allowed period", "0"),
		opt("tls enabled", "yes"),
		opt("tls keyfile", filepath.Join(d, "server.key")), opt("tls certfile", filepath.Join(d, "server.pem")),
		opt("tls cafile", filepath.Join(d, "ca.pem")),
		opt("prefork children", "2"),
	)
	cmd.Dir = d
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("samba-tool domain provision: %w\n%s", err, out)
	}
	return nil
}

// Start (re)starts Samba and waits until the administrator can bind over
// ldaps; the first start also sets the domain's test password policy. The
// error includes Samba's log.
func (s *SambaServer) Start() error {
	// -i: foreground, logs to stdout (this process owns it).
	cmd := exec.Command(SambaBin, "-i", "-s", s.confPath())
	cmd.Dir = s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.proc.start(cmd, s.bindAdmin); err != nil {
		return err
	}
	c, err := s.dialAdmin()
	if err != nil {
		return err
	}
	defer c.Close()
	m := ldap.NewModifyRequest(SambaBaseDN, nil)
	m.Replace("pwdProperties", []string{"0"})
	m.Replace("pwdHistoryLength", []string{"0"})
	m.Replace("minPwdAge", []string{"0"})
	m.Replace("minPwdLength", []string{"1"})
	m.Replace("lockoutThreshold", []string{fmt.Sprint(SambaLockoutThreshold)})
	if err := c.Modify(m); err != nil {
		return fmt.Errorf("samba: set the password policy: %w", err)
	}
	return nil
}

func (s *SambaServer) bindAdmin() error {
	c, err := s.dialAdmin()
	if err == nil {
		c.Close()
	}
	return err
}

// TLSConfig trusts the test CA for localhost.
func (s *SambaServer) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(s.CAFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	return &tls.Config{ServerName: "localhost", RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func (s *SambaServer) dialAdmin() (*ldap.Conn, error) {
	c, err := ldap.DialURL("ldaps://127.0.0.1:636", ldap.DialWithTLSConfig(s.TLSConfig()),
		ldap.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}))
	if err != nil {
		return nil, err
	}
	c.SetTimeout(10 * time.Second)
	if err := c.Bind(SambaAdminUPN, SambaAdminPassword); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Stop shuts Samba down (SIGTERM to its pid) and waits until it and the
// worker processes it forked (its process group, which Start made) have
// exited, so that the ports are free and nothing writes into Dir any more.
// Stopping a stopped server does nothing.
func (s *SambaServer) Stop() {
	s.proc.mu.Lock()
	pgid := 0
	if s.proc.proc != nil {
		pgid = s.proc.proc.cmd.Process.Pid
	}
	s.proc.mu.Unlock()
	s.proc.stop()
	if pgid == 0 {
		return
	}
	start := time.Now()
	killed := false
	for syscall.Kill(-pgid, 0) == nil && time.Since(start) < 15*time.Second {
		if !killed && time.Since(start) > 10*time.Second {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killed = true
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Remove stops Samba, deletes its directory and lets go of the lock.
func (s *SambaServer) Remove() {
	s.Stop()
	os.RemoveAll(s.Dir)
	s.unlock()
}

// Log is everything Samba has written so far.
func (s *SambaServer) Log() string { return s.proc.log() }

// Admin returns a connection bound as the domain's Administrator over
// ldaps, closed when the test ends: tests change the domain through it.
func (s *SambaServer) Admin(tb testing.TB) *ldap.Conn {
	tb.Helper()
	c, err := s.dialAdmin()
	if err != nil {
		tb.Fatalf("testenv: bind to samba as Administrator: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// AddOU creates OU=name under the domain and deletes it with everything in
// it when the test ends. It returns the OU's DN.
func (s *SambaServer) AddOU(tb testing.TB, name string) string {
	tb.Helper()
	c := s.Admin(tb)
	dn := "OU=" + ldap.EscapeDN(name) + "," + SambaBaseDN
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	if err := c.Add(req); err != nil {
		tb.Fatalf("testenv: add %s: %v", dn, err)
	}
	tb.Cleanup(func() {
		c, err := s.dialAdmin()
		if err != nil {
			tb.Logf("testenv: remove %s: %v", dn, err)
			return
		}
		defer c.Close()
		// Tree delete (1.2.840.113556.1.4.805): the OU and its entries.
		del := ldap.NewDelRequest(dn, []ldap.Control{ldap.NewControlString("1.2.840.113556.1.4.805", true, "")})
		if err := c.Del(del); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			tb.Logf("testenv: remove %s: %v", dn, err)
		}
	})
	return dn
}

// SambaUser is a user to create with AddUser.
type SambaUser struct {
	// Name is the sAMAccountName (unique in the domain); the entry is
	// CN=<CN or Name>,<OU>, with userPrincipalName Name@example.org.
	Name     string
	CN       string
	Password string
	// Attrs are further attributes (mail, displayName, accountExpires…).
	Attrs map[string][]string
}

// AddUser creates an enabled user with a password in ou and returns its DN.
func (s *SambaServer) AddUser(tb testing.TB, ou string, u SambaUser) string {
	tb.Helper()
	cn := u.CN
	if cn == "" {
		cn = u.Name
	}
	dn := "CN=" + ldap.EscapeDN(cn) + "," + ou
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	req.Attribute("sAMAccountName", []string{u.Name})
	req.Attribute("userPrincipalName", []string{u.Name + "@example.org"})
	req.Attribute("unicodePwd", []string{UnicodePwd(u.Password)})
	req.Attribute("userAccountControl", []string{"512"}) // NORMAL_ACCOUNT, enabled
	for k, v := range u.Attrs {
		req.Attribute(k, v)
	}
	if err := s.Admin(tb).Add(req); err != nil {
		tb.Fatalf("testenv: add user %s: %v", dn, err)
	}
	return dn
}

// AddGroup creates a global security group in ou with members (DNs) and
// returns its DN.
func (s *SambaServer) AddGroup(tb testing.TB, ou, name string, members ...string) string {
	tb.Helper()
	dn := "CN=" + ldap.EscapeDN(name) + "," + ou
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "group"})
	req.Attribute("sAMAccountName", []string{name})
	if len(members) > 0 {
		req.Attribute("member", members)
	}
	if err := s.Admin(tb).Add(req); err != nil {
		tb.Fatalf("testenv: add group %s: %v", dn, err)
	}
	return dn
}

// Modify replaces attributes of dn as the Administrator.
func (s *SambaServer) Modify(tb testing.TB, dn string, replace map[string][]string) {
	tb.Helper()
	m := ldap.NewModifyRequest(dn, nil)
	for k, v := range replace {
		m.Replace(k, v)
	}
	if err := s.Admin(tb).Modify(m); err != nil {
		tb.Fatalf("testenv: modify %s: %v", dn, err)
	}
}

// SetPassword resets dn's password as the Administrator (an administrative
// reset: pwdLastSet becomes now).
func (s *SambaServer) SetPassword(tb testing.TB, dn, password string) {
	tb.Helper()
	s.Modify(tb, dn, map[string][]string{"unicodePwd": {UnicodePwd(password)}})
}

// UnicodePwd is AD's unicodePwd value for password: the password in double
// quotes, UTF-16LE.
func UnicodePwd(password string) string {
	units := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	return string(b)
}

// FileTime is t as a Windows FILETIME (accountExpires, pwdLastSet).
func FileTime(t time.Time) string {
	return fmt.Sprint((t.Unix()+11644473600)*10_000_000 + int64(t.Nanosecond()/100))
}
