package secret

import (
	"slices"
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	tests := []struct {
		name     string
		prefix   string
		checksum bool
		wantLen  int
	}{
		{name: "robot secret", prefix: "", wantLen: 43},
		{name: "refresh token", prefix: RefreshPrefix, wantLen: 4 + 43},
		{name: "personal access token", prefix: PATPrefix, checksum: true, wantLen: 4 + 43 + 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			for range 200 {
				s, err := New(tt.prefix, tt.checksum)
				if err != nil {
					t.Fatal(err)
				}
				if len(s) != tt.wantLen || !strings.HasPrefix(s, tt.prefix) || seen[s] {
					t.Fatalf("secret %q: length %d (want %d), or repeated", s, len(s), tt.wantLen)
				}
				seen[s] = true
				if strings.Trim(s[len(tt.prefix):], base62) != "" {
					t.Fatalf("secret %q: not base62", s)
				}
				if got := ValidChecksum(s, tt.prefix); got != tt.checksum {
					t.Fatalf("ValidChecksum(%q) = %v", s, got)
				}
			}
		})
	}
}

func TestIsPAT(t *testing.T) {
	pat, err := NewPAT()
	if err != nil {
		t.Fatal(err)
	}
	swap := func(i int) string {
		b := []byte(pat)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{name: "fresh PAT", s: pat, want: true},
		{name: "body changed", s: swap(10), want: false},
		{name: "checksum changed", s: swap(len(pat) - 1), want: false},
		{name: "truncated", s: pat[:len(pat)-1], want: false},
		{name: "other prefix", s: "asr_" + pat[4:], want: false},
		{name: "not base62", s: pat[:20] + "-" + pat[21:], want: false},
		{name: "a password", s: "asp_hunter2", want: false},
		{name: "empty", s: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPAT(tt.s); got != tt.want {
				t.Fatalf("IsPAT(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestHashSecret(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 test vector: stable across processes.
	if got := Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashSecret(abc) = %s", got)
	}
	if !hashEqual(Hash("x"), Hash("x")) || hashEqual(Hash("x"), Hash("y")) {
		t.Fatal("hashEqual")
	}
}

func TestRobotActions(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr bool
	}{
		{name: "push implies pull", in: []string{"push"}, want: []string{"pull", "push"}},
		{name: "ordered and deduplicated", in: []string{"delete", "PULL", " pull "}, want: []string{"pull", "delete"}},
		{name: "all", in: []string{"pull", "push", "delete"}, want: []string{"pull", "push", "delete"}},
		{name: "star refused", in: []string{"*"}, wantErr: true},
		{name: "unknown refused", in: []string{"pull", "admin"}, wantErr: true},
		{name: "empty refused", in: []string{"", " "}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RobotActions(tt.in)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Fatalf("RobotActions(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestRobotName(t *testing.T) {
	tests := []struct {
		name, project, robot, want string
		wantErr                    bool
	}{
		{name: "project robot", project: "team", robot: "ci", want: "team+ci"},
		{name: "system robot", project: "*", robot: "scanner", want: "scanner"},
		{name: "plus refused", project: "team", robot: "a+b", wantErr: true},
		{name: "dollar refused", project: "team", robot: "a$b", wantErr: true},
		{name: "colon refused", project: "team", robot: "a:b", wantErr: true},
		{name: "space refused", project: "team", robot: "a b", wantErr: true},
		{name: "empty refused", project: "team", robot: "", wantErr: true},
		{name: "no project", project: "", robot: "ci", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RobotName(tt.project, tt.robot)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("RobotName(%q, %q) = %q, %v", tt.project, tt.robot, got, err)
			}
		})
	}
}
