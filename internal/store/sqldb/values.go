package sqldb

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// now is the store's clock, at the precision both databases keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// at returns t at stored precision, or now when t is zero.
func at(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// time is the stored form of t; optTime stores the zero time as NULL.
func (s *Store) time(t time.Time) any {
	if s.d.TimeLayout != "" {
		return t.UTC().Format(s.d.TimeLayout)
	}
	return t.UTC()
}

func (s *Store) optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.time(at(t))
}

// timeCol is a scan destination for a stored time, native or RFC 3339 text
// (see TimeLayout); NULL is the zero time. A pointer: Scan allocates nothing.
func timeCol(dst *time.Time) any { return (*timeText)(dst) }

type timeText time.Time

func (tt *timeText) Scan(src any) (err error) {
	t, ok := src.(time.Time)
	var text sql.NullString
	if !ok && src != nil {
		if err = text.Scan(src); err == nil {
			t, err = time.Parse(time.RFC3339Nano, text.String)
		}
	}
	*tt = timeText(t.UTC())
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	return nil
}

// listText is how a list is kept in a dialect without arrays.
type listText int

const (
	jsonList  listText = iota // a JSON array (group DNs, list parameters)
	wordsList                 // space-joined words (audit scopes)
)

// list is the stored (or parameter) form of v.
func (s *Store) list(v []string, enc listText) any {
	v = nonNil(v)
	switch {
	case s.d.ArrayToJSON != "":
		return v
	case enc == wordsList:
		return strings.Join(v, " ")
	case len(v) == 0:
		return "[]" // a local user's group DNs, on every token request
	}
	b, _ := json.Marshal(v) // a []string always marshals
	return string(b)
}

// listCol is a scan destination for a list column stored by list and
// selected as {list}(column).
func (s *Store) listCol(dst *[]string, enc listText) any {
	return listDest{dst, enc == wordsList && s.d.ArrayToJSON == ""}
}

type listDest struct {
	dst   *[]string
	words bool
}

func (l listDest) Scan(src any) error {
	var t sql.NullString
	if err := t.Scan(src); err != nil {
		return fmt.Errorf("scan list: %w", err)
	} else if l.words {
		*l.dst = strings.Fields(t.String)
		return nil
	}
	return json.Unmarshal([]byte(t.String), l.dst)
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// wordsCol is a scan destination for space-joined words in a text column
// (allow_from, repos): none for ”.
func wordsCol(dst *[]string) any { return (*wordsText)(dst) }

type wordsText []string

func (w *wordsText) Scan(src any) error {
	var t sql.NullString
	if err := t.Scan(src); err != nil {
		return fmt.Errorf("scan words: %w", err)
	}
	*w = strings.Fields(t.String)
	if len(*w) == 0 {
		*w = nil
	}
	return nil
}
