package sqldb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/authserver/authserver/internal/store"
)

// A listing's statement depends on the filters and the order asked for, so
// it is assembled per call from a fixed vocabulary (column expressions of
// listing, never a client's text: values are always arguments) and
// rewritten for the dialect once per shape (dynamicText).

// column is a listing field's SQL expression and its type.
type column struct {
	expr string
	kind colKind
}

type colKind int

const (
	textCol colKind = iota
	intCol
	boolCol
	timeSortCol // sortable only
	lowerCol    // text compared lower-cased (group DNs: dn_norm)
)

// listing is one kind of row as ListQuery pages it: sel reads a row (its
// columns, scanned by scan), from names the rows (FROM ... with joins) and
// fields maps store.Field* names to columns. defaultOrder is the order without a
// Sort; idExpr, the row's id, breaks ties.
type listing[T any] struct {
	what         string
	sel          string
	from         string
	defaultOrder string
	idExpr       string
	fields       map[string]column
	scan         func(scanner) (T, error)
}

// page reads one page of l's rows that meet where (fixed conditions with
// their args, "" for none) and q, and the number of rows that meet them.
func page[T any](ctx context.Context, s *Store, l *listing[T], where string, args []any, q store.ListQuery) ([]T, int, error) {
	op := "list " + l.what
	conds, cargs, err := l.conditions(s, q.Filters)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	if where != "" {
		conds = append([]string{where}, conds...)
		cargs = append(append([]any{}, args...), cargs...)
	}
	order, err := l.order(q.Sort)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	if q.Offset < 0 || q.Limit < 0 {
		return nil, 0, fmt.Errorf("%s: negative offset or limit", op)
	}
	filter := ""
	if len(conds) > 0 {
		filter = ` WHERE ` + strings.Join(conds, ` AND `)
	}
	var total int
	if err := s.run.QueryRowContext(ctx, s.dynamicText(`SELECT count(*) `+l.from+filter), cargs...).Scan(&total); err != nil {
		return nil, 0, s.wrap(op, err)
	}
	limit := int64(q.Limit)
	if limit == 0 {
		limit = 1<<63 - 1
	}
	if total == 0 || q.Offset >= total {
		return nil, total, nil
	}
	rows, err := s.run.QueryContext(ctx, s.dynamicText(l.sel+` `+l.from+filter+order+` LIMIT ? OFFSET ?`),
		append(cargs, limit, int64(q.Offset))...)
	if err != nil {
		return nil, 0, s.wrap(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := l.scan(rows)
		if err != nil {
			return nil, 0, s.wrap(op, err)
		}
		out = append(out, v)
	}
	return out, total, s.wrap(op, rows.Err())
}

// conditions are the SQL conditions of filters and their arguments.
func (l *listing[T]) conditions(s *Store, filters []store.Filter) ([]string, []any, error) {
	var conds []string
	var args []any
	for _, f := range filters {
		col, ok := l.fields[f.Field]
		if !ok || col.kind == timeSortCol {
			return nil, nil, fmt.Errorf("no field %q to filter by", f.Field)
		}
		vals := make([]any, len(f.Values))
		for i, v := range f.Values {
			var err error
			if vals[i], err = col.value(v, f.Match == store.MatchRange); err != nil {
				return nil, nil, fmt.Errorf("field %s: %w", f.Field, err)
			}
		}
		n := len(f.Values)
		switch {
		case f.Match == store.MatchExact && n == 1:
			conds = append(conds, col.expr+` = ?`)
			args = append(args, vals[0])
		case f.Match == store.MatchFuzzy && n == 1 && (col.kind == textCol || col.kind == lowerCol):
			conds = append(conds, `lower(`+col.expr+`) LIKE ? ESCAPE '\'`)
			args = append(args, fuzzy(f.Values[0]))
		case f.Match == store.MatchRange && n == 2 && col.kind != boolCol:
			for i, cmp := range []string{` >= ?`, ` <= ?`} {
				if f.Values[i] != "" {
					conds = append(conds, col.expr+cmp)
					args = append(args, vals[i])
				}
			}
		case f.Match == store.MatchSet && n > 0:
			conds = append(conds, col.expr+` IN (`+strings.TrimSuffix(strings.Repeat(`?, `, n), `, `)+`)`)
			args = append(args, vals...)
		default:
			return nil, nil, fmt.Errorf("field %s: match %d with %d values is not a filter", f.Field, f.Match, n)
		}
	}
	return conds, args, nil
}

// value is the argument v stands for in a condition on c ("" for an
// open bound of a range).
func (c column) value(v string, bound bool) (any, error) {
	switch {
	case bound && v == "":
		return nil, nil
	case c.kind == intCol:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	case c.kind == boolCol:
		b, err := strconv.ParseBool(v)
		if err != nil || (v != "true" && v != "false") {
			return nil, fmt.Errorf("%q: want true or false", v)
		}
		return b, nil
	case c.kind == lowerCol:
		return store.NormalizeDN(v), nil
	}
	return v, nil
}

// order is the ORDER BY clause of sorts, id last.
func (l *listing[T]) order(sorts []store.Sort) (string, error) {
	var keys []string
	if len(sorts) == 0 {
		keys = append(keys, l.defaultOrder)
	}
	for _, so := range sorts {
		col, ok := l.fields[so.Field]
		if !ok {
			return "", fmt.Errorf("no field %q to sort by", so.Field)
		}
		k := col.expr
		if col.kind == textCol || col.kind == lowerCol {
			k += `{collate}`
		}
		if so.Desc {
			k += ` DESC`
		}
		keys = append(keys, k)
	}
	return ` ORDER BY ` + strings.Join(append(keys, l.idExpr), `, `), nil
}

// fuzzy is the LIKE pattern of a MatchFuzzy value: lower-cased (the column
// is too), with %, _ and \ escaped, between two %.
func fuzzy(value string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + strings.ToLower(r.Replace(value)) + "%"
}

// dynamic holds the dialect's texts of assembled statements by template,
// shared by a Store and its transactions; bounded, it starts over when full.
type dynamic struct {
	m sync.Map // template → text
	n atomic.Int64
}

const dynamicMax = 2048

// dynamicText is template rewritten for the dialect, once per template.
func (s *Store) dynamicText(template string) string {
	if v, ok := s.dyn.m.Load(template); ok {
		return v.(string)
	}
	text := s.d.rewrite(template)
	if s.dyn.n.Add(1) > dynamicMax {
		s.dyn.m.Clear()
		s.dyn.n.Store(1)
	}
	s.dyn.m.Store(template, text)
	return text
}
