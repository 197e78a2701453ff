//go:build integration

package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/authserver/authserver/internal/testenv"
)

// TestComposeLDAP runs the compose file's directory (compose/ldap/start.sh,
// unchanged, on this machine's slapd) and checks what the compose config
// relies on: the root entry and the sample users load, the search account
// binds, alice's password works, and her group holds her.
func TestComposeLDAP(t *testing.T) {
	dir := t.TempDir()
	port := testenv.FreePort(t)
	cmd := exec.Command("sh", "compose/ldap/start.sh")
	cmd.Env = append(os.Environ(), "LDAP_ADMIN_PASSWORD=ldap-admin", "LDAP_DIR="+dir, "LDAP_PORT="+strconv.Itoa(port))
	p, err := testenv.StartProcess(cmd, filepath.Join(dir, "start.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(syscall.SIGTERM, 5*time.Second)
	url := fmt.Sprintf("ldap://127.0.0.1:%d", port)
	var c *ldap.Conn
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err = ldap.DialURL(url); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("start.sh: no directory after 30s: %v\n%s", err, p.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer c.Close()
	if err := c.Bind("cn=admin,dc=example,dc=org", "ldap-admin"); err != nil {
		t.Fatalf("search account: %v", err)
	}
	res, err := c.Search(ldap.NewSearchRequest("dc=example,dc=org", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", nil, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("root entry: %v %v", res, err)
	}
	res, err = c.Search(ldap.NewSearchRequest("ou=groups,dc=example,dc=org", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&(objectClass=groupOfNames)(member=uid=alice,ou=people,dc=example,dc=org))", []string{"cn"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("cn") != "developers" {
		t.Fatalf("alice's groups: %v %v", res, err)
	}
	if err := c.Bind("uid=alice,ou=people,dc=example,dc=org", "alice-password"); err != nil {
		t.Fatalf("alice: %v", err)
	}
}
