package api

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/store"
)

// Lists, as Harbor's: page (from 1) and page_size (default 10, at most
// 100), read in the database (admin.ListQuery); X-Total-Count and a Link
// header with rel="prev" and rel="next"; q, Harbor's query language
// (k=v, k=~v substring in any case, k=[a~b] range with either bound
// optional, k={a b c} set; pairs joined by commas), and sort (keys joined
// by commas, each descending with a leading '-'), both on the keys the
// listing names (listKeys).

// param is a query parameter an operation takes (route.query): a request
// with any other is 400, as a JSON body with an unknown field is. typ is
// its OpenAPI type: string, integer or boolean.
type param struct {
	name, typ, desc string
	required        bool
}

// Query parameters that several operations take.
var (
	pageParams = []param{{name: "page", typ: "integer", desc: "the page, from 1"},
		{name: "page_size", typ: "integer", desc: "rows a page, 1 to 100 (default 10)"}}
)

// listParams are page, page_size, q and sort on keys, and extra.
func listParams(keys listKeys, extra ...param) []param {
	out := append(slices.Clone(pageParams), extra...)
	if len(keys.q) > 0 {
		out = append(out, param{name: "q", typ: "string", desc: "Harbor's query: key=value, key=~substring, key=[from~to], " +
			"key={a b c}, joined by commas; keys: " + strings.Join(keys.qNames(), ", ")})
	}
	if len(keys.sort) > 0 {
		out = append(out, param{name: "sort", typ: "string", desc: "keys joined by commas, each descending with a leading '-'; keys: " +
			strings.Join(sortedKeys(keys.sort), ", ")})
	}
	return out
}

// listKeys are what a listing's q and sort may name: Harbor's keys,
// compared case-insensitively (lower-case here), and the store fields
// they stand for.
type listKeys struct {
	q    map[string]qKey
	sort map[string]string
}

// qKey is one key of q: the store field and its type (string, integer,
// boolean); field "" is a key the handler reads itself (robots' Level and
// ProjectID). conv, when set, maps each value.
type qKey struct {
	field, typ string
	conv       func(string) (string, error)
}

func (k listKeys) qNames() []string {
	return sortedKeys(k.q)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// qCond is one condition of q, as the client wrote it.
type qCond struct {
	key    string // lower-cased
	match  store.Match
	values []string
}

// parseQ reads q.
func (c *call) parseQ() ([]qCond, error) {
	raw := c.r.URL.Query().Get("q")
	if raw == "" {
		return nil, nil
	}
	var out []qCond
	for _, part := range strings.Split(raw, ",") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, badf("q %q: want key=value, key=~value, key=[from~to] or key={a b} joined by commas", raw)
		}
		cd := qCond{key: k, match: store.MatchExact, values: []string{v}}
		switch {
		case strings.HasPrefix(v, "~"):
			cd.match, cd.values = store.MatchFuzzy, []string{v[1:]}
		case strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]"):
			lo, hi, ok := strings.Cut(v[1:len(v)-1], "~")
			if !ok || lo == "" && hi == "" {
				return nil, badf("q: %s=%s: a range is [from~to], either bound may be left out", k, v)
			}
			cd.match, cd.values = store.MatchRange, []string{strings.TrimSpace(lo), strings.TrimSpace(hi)}
		case strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}"):
			cd.match, cd.values = store.MatchSet, strings.Fields(v[1:len(v)-1])
			if len(cd.values) == 0 {
				return nil, badf("q: %s=%s: a set is {a b c}, at least one value", k, v)
			}
		}
		out = append(out, cd)
	}
	return out, nil
}

// take removes the conditions on key from conds and returns them.
func take(conds *[]qCond, key string) []qCond {
	var out []qCond
	*conds = slices.DeleteFunc(*conds, func(cd qCond) bool {
		if cd.key == key {
			out = append(out, cd)
			return true
		}
		return false
	})
	return out
}

// listQuery is the request's page, q (conds, when given, else the
// request's) and sort as a query on keys; extra filters are added.
func (c *call) listQuery(keys listKeys, conds []qCond, extra ...store.Filter) (admin.ListQuery, error) {
	p, err := c.page()
	if err != nil {
		return admin.ListQuery{}, err
	}
	q := admin.ListQuery{Offset: (p.n - 1) * p.size, Limit: p.size, Filters: extra}
	for _, cd := range conds {
		k, ok := keys.q[cd.key]
		if !ok || k.field == "" {
			return q, badf("q: unsupported key %q (supported: %s)", cd.key, strings.Join(keys.qNames(), ", "))
		}
		f := store.Filter{Field: k.field, Match: cd.match, Values: slices.Clone(cd.values)}
		for i, v := range f.Values {
			if v == "" && cd.match == store.MatchRange {
				continue
			}
			if k.conv != nil {
				if v, err = k.conv(v); err != nil {
					return q, badf("q: %s: %v", cd.key, err)
				}
			}
			if err := typed(k.typ, v); err != nil {
				return q, badf("q: %s %q: %v", cd.key, cd.values[i], err)
			}
			f.Values[i] = v
		}
		if cd.match == store.MatchFuzzy && k.typ != "string" || cd.match == store.MatchRange && k.typ == "boolean" {
			return q, badf("q: %s: this key takes %s", cd.key, map[bool]string{true: "key=value or key={a b}",
				false: "key=value, key=[from~to] or key={a b}"}[k.typ == "boolean"])
		}
		q.Filters = append(q.Filters, f)
	}
	if raw := c.r.URL.Query().Get("sort"); raw != "" {
		for _, k := range strings.Split(raw, ",") {
			k = strings.TrimSpace(k)
			desc := strings.HasPrefix(k, "-")
			field, ok := keys.sort[strings.ToLower(strings.TrimPrefix(k, "-"))]
			if !ok {
				return q, badf("sort: unsupported key %q (supported: %s)", k, strings.Join(sortedKeys(keys.sort), ", "))
			}
			q.Sort = append(q.Sort, store.Sort{Field: field, Desc: desc})
		}
	}
	return q, nil
}

// typed checks that v is of typ.
func typed(typ, v string) error {
	switch typ {
	case "integer":
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("want an integer")
		}
	case "boolean":
		if v != "true" && v != "false" {
			return fmt.Errorf("want true or false")
		}
	}
	return nil
}

// fuzzyParam is the filter of a parameter that matches a substring (Harbor's
// name, username, entityname ...), none when the request lacks it.
func (c *call) fuzzyParam(name, field string) []store.Filter {
	if v := c.r.URL.Query().Get(name); v != "" {
		return []store.Filter{{Field: field, Match: store.MatchFuzzy, Values: []string{v}}}
	}
	return nil
}

// page is Harbor's paging: page from 1, page_size default 10, at most max
// (100 but for the audit trail).
type page struct{ n, size int }

func (c *call) page() (page, error) { return c.pageUpTo(10, 100) }

func (c *call) pageUpTo(def, max int) (page, error) {
	p := page{n: 1, size: def}
	q := c.r.URL.Query()
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1<<30 {
			return p, badf("page %q: want an integer from 1", v)
		}
		p.n = n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			return p, badf("page_size %q: want 1 to %d", v, max)
		}
		p.size = n
	}
	return p, nil
}

// paged answers items, the page of q, of total rows, with X-Total-Count and
// Link (prev from page 2 on, next while rows follow); a page past the end
// is [].
func paged[T any](c *call, q admin.ListQuery, total int, items []T) error {
	c.pageHeaders(q.Offset, q.Limit, total)
	if items == nil {
		items = []T{}
	}
	return c.ok(items)
}

// pageHeaders sets X-Total-Count and Link for the page of size rows from
// offset.
func (c *call) pageHeaders(offset, size, total int) {
	c.w.Header().Set("X-Total-Count", strconv.Itoa(total))
	n := offset/size + 1
	var links []string
	link := func(n int, rel string) {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("page_size", strconv.Itoa(size))
		u := url.URL{Path: c.r.URL.Path, RawQuery: q.Encode()} // the path as the client sent it, /api included
		links = append(links, fmt.Sprintf("<%s>; rel=%q", u.String(), rel))
	}
	if n > 1 {
		link(n-1, "prev")
	}
	if offset+size < total {
		link(n+1, "next")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
}

// inMemory is the page of q of names that are no database rows (a
// registry's repositories), q's filters on FieldName applied as the store
// applies them, and how many meet them.
func inMemory(names []string, q admin.ListQuery) ([]string, int) {
	keep := slices.DeleteFunc(slices.Clone(names), func(n string) bool {
		for _, f := range q.Filters {
			v := f.Values
			switch f.Match {
			case store.MatchExact:
				if n != v[0] {
					return true
				}
			case store.MatchFuzzy:
				if !strings.Contains(strings.ToLower(n), strings.ToLower(v[0])) {
					return true
				}
			case store.MatchRange:
				if v[0] != "" && n < v[0] || v[1] != "" && n > v[1] {
					return true
				}
			case store.MatchSet:
				if !slices.Contains(v, n) {
					return true
				}
			}
		}
		return false
	})
	slices.Sort(keep)
	if len(q.Sort) > 0 && q.Sort[0].Desc {
		slices.Reverse(keep)
	}
	total := len(keep)
	lo := min(q.Offset, total)
	return keep[lo:min(lo+q.Limit, total)], total
}

// all answers 200 with every item rendered, or err when listing them
// failed.
func all[T, R any](c *call, items []T, err error, render func(T) R) error {
	if err != nil {
		return err
	}
	return c.ok(each(items, render))
}

// each renders every item; the result is never nil, so an empty list is
// [] in JSON.
func each[T, R any](items []T, render func(T) R) []R {
	out := make([]R, len(items))
	for i, it := range items {
		out[i] = render(it)
	}
	return out
}
