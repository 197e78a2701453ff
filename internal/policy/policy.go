package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Version is the only version of the format.
const Version = 1

// Document is a policy file: the groups and projects (visibility,
// members, repository rules, robots) authserver should have. docs/POLICY.md
// describes it and docs/policy.schema.json is its JSON Schema.
type Document struct {
	// Version is 1.
	Version  int       `yaml:"version" json:"version"`
	Groups   []Group   `yaml:"groups,omitempty" json:"groups,omitempty"`
	Projects []Project `yaml:"projects,omitempty" json:"projects,omitempty"`
}

// Group is a group; a local group (no DN) lists its users.
type Group struct {
	Name string `yaml:"name" json:"name"`
	// DN makes it an LDAP group (its users come from the directory).
	DN    string   `yaml:"dn,omitempty" json:"dn,omitempty"`
	Users []string `yaml:"users,omitempty" json:"users,omitempty"`
}

// Project is a project with what is in it.
type Project struct {
	Name string `yaml:"name" json:"name"`
	// Visibility is private (the default), internal or public.
	Visibility string   `yaml:"visibility,omitempty" json:"visibility,omitempty"`
	Members    []Member `yaml:"members,omitempty" json:"members,omitempty"`
	Rules      []Rule   `yaml:"rules,omitempty" json:"rules,omitempty"`
	Robots     []Robot  `yaml:"robots,omitempty" json:"robots,omitempty"`
}

// Member is a user or a group with a role.
type Member struct {
	User  string `yaml:"user,omitempty" json:"user,omitempty"`
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
	Role  string `yaml:"role" json:"role"`
}

// Rule is a repository rule: exactly one of User, Group, Robot and
// Authenticated names its subject.
type Rule struct {
	Repos         string   `yaml:"repos" json:"repos"`
	User          string   `yaml:"user,omitempty" json:"user,omitempty"`
	Group         string   `yaml:"group,omitempty" json:"group,omitempty"`
	Robot         string   `yaml:"robot,omitempty" json:"robot,omitempty"`
	Authenticated bool     `yaml:"authenticated,omitempty" json:"authenticated,omitempty"`
	Actions       []string `yaml:"actions" json:"actions"`
	// Effect is allow (the default) or deny.
	Effect string `yaml:"effect,omitempty" json:"effect,omitempty"`
}

// Robot is a project robot, named without project or prefix.
type Robot struct {
	Name      string   `yaml:"name" json:"name"`
	Actions   []string `yaml:"actions" json:"actions"`
	Repos     []string `yaml:"repos,omitempty" json:"repos,omitempty"`
	AllowFrom []string `yaml:"allow_from,omitempty" json:"allow_from,omitempty"`
	// TokenLifetime is a duration ("2h", "1d"); empty: the configured one.
	TokenLifetime string `yaml:"token_lifetime,omitempty" json:"token_lifetime,omitempty"`
	Description   string `yaml:"description,omitempty" json:"description,omitempty"`
}

// Decode reads one policy document strictly: an unknown key, a value of
// the wrong type, a second document or another version is an error
// naming every problem found. What the names and values mean is checked
// when the document is applied.
func Decode(r io.Reader) (Document, error) {
	var doc Document
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Document{}, errors.New("policy: the file is empty")
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return Document{}, fmt.Errorf("policy: %s", strings.Join(te.Errors, "; "))
		}
		return Document{}, fmt.Errorf("policy: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Document{}, errors.New("policy: one document per file")
	}
	if err := doc.Check(); err != nil {
		return Document{}, err
	}
	return doc, nil
}

// Check reports every problem of doc's shape at once: the version, names
// given twice or missing, a member or rule naming no subject or several,
// an effect other than allow or deny. What the names and values mean is
// checked when the document is applied.
func (doc Document) Check() error {
	var errs []error
	if doc.Version != Version {
		errs = append(errs, fmt.Errorf("version %d: want %d", doc.Version, Version))
	}
	seen := map[string]bool{}
	for i, g := range doc.Groups {
		if g.Name == "" {
			errs = append(errs, fmt.Errorf("groups[%d]: name is required", i))
		} else if seen["g"+g.Name] {
			errs = append(errs, fmt.Errorf("group %s is named twice", g.Name))
		}
		if g.DN != "" && len(g.Users) > 0 {
			errs = append(errs, fmt.Errorf("group %s: an LDAP group (dn) lists no users: the directory does", g.Name))
		}
		seen["g"+g.Name] = true
	}
	for i, p := range doc.Projects {
		if p.Name == "" {
			errs = append(errs, fmt.Errorf("projects[%d]: name is required", i))
		} else if seen["p"+p.Name] {
			errs = append(errs, fmt.Errorf("project %s is named twice", p.Name))
		}
		seen["p"+p.Name] = true
		for j, m := range p.Members {
			if (m.User == "") == (m.Group == "") {
				errs = append(errs, fmt.Errorf("project %s: members[%d]: give exactly one of user and group", p.Name, j))
			}
		}
		for j, r := range p.Rules {
			n := 0
			for _, set := range []bool{r.User != "", r.Group != "", r.Robot != "", r.Authenticated} {
				if set {
					n++
				}
			}
			if n != 1 {
				errs = append(errs, fmt.Errorf("project %s: rules[%d]: give exactly one of user, group, robot and authenticated", p.Name, j))
			}
			if r.Effect != "" && r.Effect != "allow" && r.Effect != "deny" {
				errs = append(errs, fmt.Errorf("project %s: rules[%d]: effect %q: want allow or deny", p.Name, j, r.Effect))
			}
		}
		names := map[string]bool{}
		for j, rb := range p.Robots {
			if rb.Name == "" {
				errs = append(errs, fmt.Errorf("project %s: robots[%d]: name is required", p.Name, j))
			} else if names[rb.Name] {
				errs = append(errs, fmt.Errorf("project %s: robot %s is named twice", p.Name, rb.Name))
			}
			names[rb.Name] = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	return nil
}

// Encode writes doc as YAML, two spaces an indent.
func Encode(w io.Writer, doc Document) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("policy: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("policy: encode: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
