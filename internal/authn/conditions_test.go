package authn

import (
	"reflect"
	"testing"
	"time"
)

func TestRefusedFrom(t *testing.T) {
	id := Identity{Conditions: []Condition{
		{On: "user dev", AllowFrom: []string{"10.0.0.0/8", "127.0.0.2/32"}},
		{On: "token ci of user dev", AllowFrom: []string{"127.0.0.0/24"}},
	}}
	tests := []struct {
		name, ip string
		refused  bool
	}{
		{"both hold", "127.0.0.2", false},
		{"the token's fails", "10.1.2.3", true},
		{"the user's fails", "127.0.0.3", true},
		{"mapped IPv4", "::ffff:127.0.0.2", false},
		{"garbage", "not-an-ip", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := id.RefusedFrom(tt.ip); (got != "") != tt.refused {
				t.Errorf("RefusedFrom(%q) = %q, refused want %v", tt.ip, got, tt.refused)
			}
		})
	}
	if (Identity{}).RefusedFrom("") != "" {
		t.Error("no condition refused a login")
	}
}

func TestParseAllowFrom(t *testing.T) {
	got, err := ParseAllowFrom([]string{" 10.1.2.3/8", "192.0.2.7", "10.0.0.0/8", "", "2001:db8::1/32"})
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseAllowFrom = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "host.example", "fe80::1%eth0"} {
		if _, err := ParseAllowFrom([]string{bad}); err == nil {
			t.Errorf("ParseAllowFrom(%q) = nil error", bad)
		}
	}
}

func TestTokenLifetimes(t *testing.T) {
	l := TokenLifetimes{Default: 30 * time.Minute, Push: 2 * time.Hour, Max: 3 * time.Hour}
	tests := []struct {
		name   string
		id     Identity
		writes bool
		want   time.Duration
	}{
		{"pull", Identity{}, false, 30 * time.Minute},
		{"push", Identity{}, true, 2 * time.Hour},
		{"robot's own", Identity{TokenLifetime: time.Hour}, true, time.Hour},
		{"robot's own capped", Identity{TokenLifetime: 5 * time.Hour}, false, 3 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.For(tt.id, tt.writes); got != tt.want {
				t.Errorf("For = %v, want %v", got, tt.want)
			}
		})
	}
}
