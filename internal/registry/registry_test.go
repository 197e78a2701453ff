package registry

import "testing"

// The registry's paging Link (distribution answers a relative one) and
// the base URLs New takes; the API calls themselves run against the real
// registries in e2e (TestProjectRegistry).
func TestNextLink(t *testing.T) {
	for _, tt := range []struct{ name, header, want string }{
		{"none", "", ""},
		{"relative", `</v2/_catalog?last=team%2Fapp&n=1000>; rel="next"`, "/v2/_catalog?last=team%2Fapp&n=1000"},
		{"absolute", `<http://r:5000/v2/team/app/tags/list?last=9&n=1000>; rel="next"`, "/v2/team/app/tags/list?last=9&n=1000"},
		{"other rel", `</v2/_catalog?last=a>; rel="prev"`, ""},
	} {
		if got := nextLink(tt.header); got != tt.want {
			t.Errorf("%s: nextLink(%q) = %q, want %q", tt.name, tt.header, got, tt.want)
		}
	}
	for _, base := range []string{"", "registry:5000", "ftp://r", "http://"} {
		if _, err := New(base, nil, nil); err == nil {
			t.Errorf("New(%q) accepted", base)
		}
	}
	if c, err := New("http://registry:5000/", nil, nil); err != nil || c.base.String() != "http://registry:5000" {
		t.Errorf("New(with a trailing slash) = %v, %v", c, err)
	}
}
