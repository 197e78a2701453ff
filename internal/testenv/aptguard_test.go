package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/apt-guard.sh, which install-test-deps.sh installs Samba (and
// every other package) through, leaves the machine as it was: the
// policy-rc.d that keeps packaged services from starting is in place during
// the install and gone (or the previous one back) afterwards, and
// nsswitch.conf is put back byte for byte after a package script edits it,
// also when the install fails. A fake apt-get does what winbind's scripts
// do.
func TestAptGuard(t *testing.T) {
	guard := filepath.Join(RepoRoot(), "scripts", "apt-guard.sh")
	const nss = "passwd:         files systemd\ngroup:          files systemd\n"
	for _, tc := range []struct {
		name      string
		policy    string // "" means none before
		aptFails  bool
		wantError bool
	}{
		{name: "no policy-rc.d before"},
		{name: "a policy-rc.d before", policy: "#!/bin/sh\n# the machine's own\nexit 0\n"},
		{name: "install fails", aptFails: true, wantError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			policy, nssPath := filepath.Join(dir, "policy-rc.d"), filepath.Join(dir, "nsswitch.conf")
			seen := filepath.Join(dir, "seen")
			if err := os.WriteFile(nssPath, []byte(nss), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.policy != "" {
				if err := os.WriteFile(policy, []byte(tc.policy), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			fail := ""
			if tc.aptFails {
				fail = `if [ "$1" = install ]; then exit 100; fi`
			}
			fake := filepath.Join(dir, "apt-get")
			script := `#!/bin/sh
sed -i 's/^passwd:.*/& winbind/; s/^group:.*/& winbind/' "` + nssPath + `"
"` + policy + `" samba start; echo "$1 policy=$?" >>"` + seen + `"
` + fail + "\n"
			if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "-c", `source "$0"; guarded_apt_install samba winbind`, guard)
			cmd.Env = append(os.Environ(), "APT_GUARD_APT="+fake, "APT_GUARD_POLICY="+policy, "APT_GUARD_NSSWITCH="+nssPath)
			out, err := cmd.CombinedOutput()
			if (err != nil) != tc.wantError {
				t.Fatalf("guarded_apt_install: %v (want error %t)\n%s", err, tc.wantError, out)
			}
			if b, _ := os.ReadFile(seen); !strings.Contains(string(b), "install policy=101") {
				t.Errorf("policy-rc.d during the install: %q, want it to answer 101", b)
			}
			if b, _ := os.ReadFile(nssPath); string(b) != nss {
				t.Errorf("nsswitch.conf after the install:\n%s\nwant it as it was:\n%s", b, nss)
			}
			b, err := os.ReadFile(policy)
			switch {
			case tc.policy == "" && !os.IsNotExist(err):
				t.Errorf("policy-rc.d left behind: %q, %v", b, err)
			case tc.policy != "" && string(b) != tc.policy:
				t.Errorf("policy-rc.d after: %q, want the previous one back", b)
			}
		})
	}
}
