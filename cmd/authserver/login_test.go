package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCredentialHelperArgv0: called docker-credential-authserver, the
// binary speaks the credential-helper protocol (a not-found answer on
// stdout with status 1, as docker expects); under any other name it runs
// the commands.
func TestCredentialHelperArgv0(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var out bytes.Buffer
	if code := credentialHelper("/usr/local/bin/docker-credential-authserver", []string{"get"}, strings.NewReader("localhost:5000\n"), &out); code != 1 ||
		strings.TrimSpace(out.String()) != "credentials not found in native keychain" {
		t.Fatalf("get = %d %q", code, out.String())
	}
	out.Reset()
	if code := credentialHelper("docker-credential-authserver", []string{"list"}, strings.NewReader(""), &out); code != 0 || strings.TrimSpace(out.String()) != "{}" {
		t.Fatalf("list = %d %q", code, out.String())
	}
	if code := credentialHelper("/usr/bin/authserver", []string{"get"}, strings.NewReader(""), &out); code != -1 {
		t.Fatalf("as authserver: %d", code)
	}
}
