package token

import (
	"encoding/json"
	"testing"
)

// TestAppendJSONString: byte for byte what encoding/json writes, for every
// byte value and a few strings of each kind (plain, escaped, not UTF-8).
func TestAppendJSONString(t *testing.T) {
	var cases []string
	for c := range 256 {
		cases = append(cases, "a"+string([]byte{byte(c)})+"b")
	}
	cases = append(cases, "", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkZXYifQ.sig-_", "team/app:pull,push", "é", "<a&b>", "\u2028", "x\"y\\z")
	for _, s := range cases {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("AppendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}
