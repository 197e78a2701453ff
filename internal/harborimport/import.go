package harborimport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// Kinds are what can be imported, in the order they are.
var Kinds = []string{"users", "groups", "projects", "members", "robots"}

// ParseKinds reads a comma list of Kinds; empty means every kind.
func ParseKinds(s string) (map[string]bool, error) {
	if strings.TrimSpace(s) == "" {
		return allKinds(), nil
	}
	kinds := map[string]bool{}
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("%q: want a comma list of %s", k, strings.Join(Kinds, ", "))
		}
		kinds[k] = true
	}
	return kinds, nil
}

// allKinds is every kind, what a nil Options.Only means.
func allKinds() map[string]bool {
	kinds := map[string]bool{}
	for _, k := range Kinds {
		kinds[k] = true
	}
	return kinds
}

// Actions, per item.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Skipped   = "skipped"
)

// Options configure an import.
type Options struct {
	// Only are the kinds to import (nil: all of Kinds).
	Only map[string]bool
	// DryRun computes and reports the plan, and writes nothing.
	DryRun bool
	// ReplaceAdmin lets Harbor's admin (user_id 1) overwrite an existing
	// authserver admin; otherwise that user is skipped.
	ReplaceAdmin bool
	// RobotPrefix is authserver's robots.prefix, for login names.
	RobotPrefix string
	// MergeExisting imports a Harbor project into an authserver project of
	// the same name that no earlier import made; otherwise it is skipped.
	MergeExisting bool
}

// Item is what the import did (or, dry, would do) with one Harbor object.
type Item struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Action string `json:"action"`
	Detail string `json:"detail,omitempty"`
}

// Report is an import's outcome.
type Report struct {
	DryRun bool     `json:"dry_run"`
	Items  []Item   `json:"items"`
	Notes  []string `json:"notes,omitempty"`
	// LDAPConfig is the ldap: block matching Harbor's ldap_* settings, when
	// Harbor authenticates with LDAP or has LDAP users.
	LDAPConfig string `json:"ldap_config,omitempty"`
}

// Count is how many items of kind had action.
func (r *Report) Count(kind, action string) int {
	n := 0
	for _, it := range r.Items {
		if it.Kind == kind && it.Action == action {
			n++
		}
	}
	return n
}

// Changed is how many items were created or updated.
func (r *Report) Changed() int {
	n := 0
	for _, it := range r.Items {
		if it.Action == Created || it.Action == Updated {
			n++
		}
	}
	return n
}

// importer carries one run.
type importer struct {
	adm  *admin.Service
	who  admin.Actor
	opt  Options
	snap *Snapshot
	rep  *Report
	// Harbor ids → authserver names of what is (or, dry, would be) there.
	users    map[int64]string
	groups   map[int64]string
	projects map[int64]string
	// ids are authserver's project IDs by name.
	ids map[string]int64
	// created holds the projects a dry run would create (they have no members yet).
	created map[string]bool
}

// Run brings snap into authserver through adm, acting as who, and reports
// every object. It never deletes anything. Refusals of single objects
// (invalid names, conflicts) are reported as skipped; any other error stops
// the run and is returned with the report so far.
func Run(ctx context.Context, adm *admin.Service, who admin.Actor, snap *Snapshot, opt Options) (*Report, error) {
	if opt.Only == nil {
		opt.Only = allKinds()
	}
	im := &importer{adm: adm, who: who, opt: opt, snap: snap, rep: &Report{DryRun: opt.DryRun},
		users: map[int64]string{}, groups: map[int64]string{}, projects: map[int64]string{}, ids: map[string]int64{}, created: map[string]bool{}}
	steps := []struct {
		kind string
		run  func(context.Context) error
	}{
		{"users", im.importUsers}, {"groups", im.importGroups}, {"projects", im.importProjects},
		{"members", im.importMembers}, {"robots", im.importRobots},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return im.rep, fmt.Errorf("import %s: %w", s.kind, err)
		}
	}
	im.notes()
	return im.rep, nil
}

// add records an item.
func (im *importer) add(kind, name, action, detail string) {
	im.rep.Items = append(im.rep.Items, Item{Kind: kind, Name: name, Action: action, Detail: detail})
}

// write runs fn unless dry, and reports action (or skipped with admin's
// refusal). It returns whether the object is (or would be) there.
func (im *importer) write(kind, name, action, detail string, fn func() error) (bool, error) {
	if !im.opt.DryRun {
		if err := fn(); err != nil {
			var ae *admin.Error
			if errors.As(err, &ae) {
				im.add(kind, name, Skipped, ae.Msg)
				return false, nil
			}
			return false, err
		}
	}
	im.add(kind, name, action, detail)
	return true, nil
}

func (im *importer) authMode() string {
	if m := im.snap.Props["auth_mode"]; m != "" {
		return m
	}
	return "db_auth"
}

func (im *importer) notes() {
	mode := im.authMode()
	if mode == "ldap_auth" || im.hasLDAPUsers() {
		im.rep.LDAPConfig = ldapConfig(im.snap.Props)
		im.rep.Notes = append(im.rep.Notes, "Harbor has LDAP users (auth_mode "+mode+"): they log in through the ldap: "+
			"block below, made from Harbor's ldap_* settings; Harbor keeps the search password encrypted: put it in bind_password")
	}
	if p := harborPrefix(im.snap.Props); im.opt.Only["robots"] && p != im.opt.RobotPrefix {
		im.rep.Notes = append(im.rep.Notes, fmt.Sprintf("Harbor's robot prefix is %q, authserver's robots.prefix %q: "+
			"set robots.prefix: %q so robot logins stay the same", p, im.opt.RobotPrefix, p))
	}
}

func (im *importer) hasLDAPUsers() bool {
	for _, it := range im.rep.Items {
		if it.Kind == "users" && strings.HasPrefix(it.Detail, "ldap") {
			return true
		}
	}
	return false
}

func harborPrefix(props map[string]string) string {
	if p := props["robot_name_prefix"]; p != "" {
		return p
	}
	return "robot$"
}

// diff collects the names of changed fields.
type diff []string

func (d *diff) check(field string, changed bool) {
	if changed {
		*d = append(*d, field)
	}
}

func (d diff) String() string { return strings.Join(d, ", ") }

// isNotFound reports an admin or store not-found.
func isNotFound(err error) bool {
	return errors.Is(err, admin.ErrNotFound) || errors.Is(err, store.ErrNotFound)
}
