package api

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// page is Harbor's paging: page from 1, page_size default 10, at most 100.
type page struct{ n, size int }

func (c *call) page() (page, error) {
	p := page{n: 1, size: 10}
	q := c.r.URL.Query()
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, badf("page %q: want an integer from 1", v)
		}
		p.n = n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return p, badf("page_size %q: want 1 to 100", v)
		}
		p.size = n
	}
	return p, nil
}

// listing is a list endpoint's paging and its q, which may name only keys.
func (c *call) listing(keys ...string) (page, query, error) {
	p, err := c.page()
	if err != nil {
		return p, nil, err
	}
	q, err := c.query()
	if err != nil {
		return p, nil, err
	}
	return p, q, q.only(keys...)
}

// paged answers one page of items with X-Total-Count and Link; a page past
// the end is [].
func paged[T any](c *call, p page, items []T) error { return c.ok(window(c, p, items)) }

// window sets X-Total-Count and Link for items and returns the page.
func window[T any](c *call, p page, items []T) []T {
	total := len(items)
	lo := min((p.n-1)*p.size, total)
	hi := min(lo+p.size, total)
	c.w.Header().Set("X-Total-Count", strconv.Itoa(total))
	var links []string
	link := func(n int, rel string) {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("page_size", strconv.Itoa(p.size))
		u := url.URL{Path: c.r.URL.Path, RawQuery: q.Encode()} // the path as the client sent it, /api included
		links = append(links, fmt.Sprintf("<%s>; rel=%q", u.String(), rel))
	}
	if p.n > 1 && lo > 0 {
		link(p.n-1, "prev")
	}
	if hi < total {
		link(p.n+1, "next")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := items[lo:hi]
	if out == nil {
		out = []T{}
	}
	return out
}

// query is Harbor's q: key=value pairs joined by commas; key=~value is a
// substring match. Keys are compared case-insensitively. Ranges and sets
// are refused.
type query map[string]cond

type cond struct {
	value string
	fuzzy bool
}

func (c *call) query() (query, error) {
	out := query{}
	raw := c.r.URL.Query().Get("q")
	if raw == "" {
		return out, nil
	}
	for _, part := range strings.Split(raw, ",") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, badf("q %q: want key=value or key=~value pairs joined by commas", raw)
		}
		cd := cond{value: v}
		if rest, ok := strings.CutPrefix(v, "~"); ok {
			cd = cond{value: rest, fuzzy: true}
		}
		if strings.HasPrefix(cd.value, "[") || strings.HasPrefix(cd.value, "{") {
			return nil, badf("q %q: ranges and sets are not supported", raw)
		}
		out[k] = cd
	}
	return out, nil
}

// match reports whether value satisfies the condition on key (true when q
// has none).
func (q query) match(key, value string) bool {
	cd, ok := q[key]
	if !ok {
		return true
	}
	if cd.fuzzy {
		return strings.Contains(value, cd.value)
	}
	return value == cd.value
}

// only refuses keys other than those named.
func (q query) only(keys ...string) error {
	for k := range q {
		found := false
		for _, want := range keys {
			if k == want {
				found = true
			}
		}
		if !found {
			return badf("q: unsupported key %q (supported: %s)", k, strings.Join(keys, ", "))
		}
	}
	return nil
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

// filter keeps the items for which keep is true.
func filter[T any](items []T, keep func(T) bool) []T {
	out := items[:0:0]
	for _, it := range items {
		if keep(it) {
			out = append(out, it)
		}
	}
	return out
}
