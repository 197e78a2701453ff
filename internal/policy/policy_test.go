package policy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The JSON Schema in docs/ describes exactly the keys the decoder takes.
func TestSchemaMatchesTypes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]any `json:"properties"`
		Defs       map[string]struct {
			Properties           map[string]any `json:"properties"`
			AdditionalProperties *bool          `json:"additionalProperties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	tags := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("yaml"), ",")
			out = append(out, name)
		}
		slices.Sort(out)
		return out
	}
	check := func(what string, got []string, v any) {
		if want := tags(v); !slices.Equal(got, want) {
			t.Errorf("%s: schema has %v, the type %v", what, got, want)
		}
	}
	check("document", keys(schema.Properties), Document{})
	for name, v := range map[string]any{"group": Group{}, "project": Project{}, "member": Member{}, "rule": Rule{}, "robot": Robot{}} {
		d, ok := schema.Defs[name]
		if !ok || d.AdditionalProperties == nil || *d.AdditionalProperties {
			t.Errorf("$defs.%s missing or not closed", name)
			continue
		}
		check(name, keys(d.Properties), v)
	}
}

// The example of docs/POLICY.md decodes, and survives a round trip.
func TestDocExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "POLICY.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/POLICY.md has no yaml example")
	}
	doc, err := Decode(strings.NewReader(example))
	if err != nil {
		t.Fatalf("the example does not decode: %v", err)
	}
	if len(doc.Projects) == 0 || len(doc.Projects[0].Rules) == 0 || len(doc.Projects[0].Robots) == 0 {
		t.Errorf("the example shows too little: %+v", doc)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(&buf)
	if err != nil || !reflect.DeepEqual(back, doc) {
		t.Errorf("round trip: %v\n%+v\n%+v", err, back, doc)
	}
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "empty"},
		{"version", "version: 2\n", "version 2"},
		{"unknown key", "version: 1\nproject: []\n", "field project not found"},
		{"wrong type", "version: 1\nprojects: {}\n", "cannot unmarshal"},
		{"two documents", "version: 1\n---\nversion: 1\n", "one document"},
		{"project twice", "version: 1\nprojects: [{name: a}, {name: a}]\n", "named twice"},
		{"member without subject", "version: 1\nprojects: [{name: a, members: [{role: guest}]}]\n", "exactly one of user and group"},
		{"rule with two subjects", "version: 1\nprojects: [{name: a, rules: [{repos: x, user: u, authenticated: true, actions: [pull]}]}]\n", "exactly one of user"},
		{"bad effect", "version: 1\nprojects: [{name: a, rules: [{repos: x, user: u, actions: [pull], effect: maybe}]}]\n", "effect"},
		{"robot twice", "version: 1\nprojects: [{name: a, robots: [{name: r, actions: [pull]}, {name: r, actions: [pull]}]}]\n", "named twice"},
		{"ldap group with users", "version: 1\ngroups: [{name: g, dn: 'cn=g', users: [u]}]\n", "lists no users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}
