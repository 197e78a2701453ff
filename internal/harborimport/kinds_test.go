package harborimport

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestParseKinds(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "empty is every kind", in: " ", want: Kinds},
		{name: "a list, spaces trimmed", in: "users, robots", want: []string{"users", "robots"}},
		{name: "unknown kind", in: "users,repos", wantErr: `"repos": want a comma list of users, groups, projects, members, robots`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKinds(tt.in)
			if (err != nil) != (tt.wantErr != "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(slices.Values(tt.want))) {
				t.Fatalf("kinds %v, want %v", keys, tt.want)
			}
		})
	}
}
