package config

import (
	"runtime"
	"testing"
	"time"
)

func TestParseLogin(t *testing.T) {
	runParse(t, func(c Config) Config { return c }, []parseCase[Config]{
		{name: "defaults", yaml: "",
			check: func(t *testing.T, c Config) {
				s := c.Server
				if s.MaxPasswordChecks() != 2*runtime.GOMAXPROCS(0) || s.PasswordChecksPerNetwork != 2 ||
					s.PasswordCheckWait.D() != 2*time.Second || !c.Import.HarborHashesUntil.IsZero() || !c.Import.HarborHashesUntil.End().IsZero() {
					t.Fatalf("%+v %+v", s, c.Import)
				}
			}},
		{name: "set", yaml: "server: {max_password_checks: 8, password_checks_per_network: 3, password_check_wait: 500ms}\nimport: {harbor_hashes_until: 2027-03-31}\n",
			check: func(t *testing.T, c Config) {
				s := c.Server
				if s.MaxPasswordChecks() != 8 || s.PasswordChecksPerNetwork != 3 || s.PasswordCheckWait.D() != 500*time.Millisecond {
					t.Fatalf("%+v", s)
				}
				if end := c.Import.HarborHashesUntil.End(); !end.Equal(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)) || c.Import.HarborHashesUntil.String() != "2027-03-31" {
					t.Fatalf("harbor_hashes_until ends %v", end)
				}
			}},
		{name: "bad values all reported",
			yaml:    "server: {max_password_checks: -1, password_checks_per_network: 0, password_check_wait: 0s}\n",
			wantErr: []string{"server.max_password_checks -1", "server.password_checks_per_network 0", "server.password_check_wait"}},
		{name: "wait bounded", yaml: "server: {password_check_wait: 5m}", wantErr: []string{"server.password_check_wait 5m"}},
		{name: "not a date", yaml: "import: {harbor_hashes_until: next spring}", wantErr: []string{"want YYYY-MM-DD"}},
		{name: "a timestamp is no day", yaml: "import: {harbor_hashes_until: 2027-03-31T10:00:00Z}", wantErr: []string{"want YYYY-MM-DD"}},
	})
}
