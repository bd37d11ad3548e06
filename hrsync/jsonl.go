package hrsync

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rosterhq/roster/sdk"
)

// readJSONL reads JSON Lines: one object a line, its keys mapped as a
// CSV header is (once per set of keys, so that lines alike share one
// layout and one Omit). The source is detected from the first object's
// keys. With inspect, only the keys are mapped.
func readJSONL(r *bufio.Reader, m *mapper, cols columnsAt, limit int, inspect bool) (*File, error) {
	f := &File{Format: JSONL, headers: map[string]string{}}
	layouts := map[string]*layout{} // by the line's keys
	seen := map[string]bool{}       // keys reported in f.Columns
	used := map[string]bool{}       // --map entries some line used
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(f.Records) == limit {
			return nil, tooMany(line, limit)
		}
		if !utf8.Valid(b) {
			col := 1
			for i := 0; i < len(b); {
				rn, n := utf8.DecodeRune(b[i:])
				if rn == utf8.RuneError && n == 1 {
					col = i + 1
					break
				}
				i += n
			}
			return nil, &Error{Line: line, Column: col, Msg: "the line is not valid UTF-8; save the file as UTF-8"}
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			col := 0
			var se *json.SyntaxError
			if errors.As(err, &se) {
				col = int(se.Offset)
			}
			return nil, &Error{Line: line, Column: col, Msg: "not a JSON object: " + err.Error()}
		}
		keyCol := func(k string) int { return bytes.Index(b, []byte(`"`+k+`"`)) + 1 }
		keys := slices.Sorted(maps.Keys(obj))
		sig := strings.Join(keys, "\x00")
		l := layouts[sig]
		if l == nil {
			m.detect(keys)
			var lerr *layoutError
			if l, lerr = m.plan(keys, true); lerr != nil {
				col := 0
				if lerr.col > 0 {
					col = keyCol(keys[lerr.col-1])
				}
				return nil, &Error{Line: line, Column: col, Field: lerr.field, Msg: lerr.msg, Err: lerr.err}
			}
			layouts[sig] = l
			for _, c := range l.cols {
				if e, ok := m.entries[normalise(c.Column)]; ok {
					used[normalise(e.Column)] = true
				}
				if seen[c.Column] {
					continue
				}
				seen[c.Column] = true
				f.Columns = append(f.Columns, c)
				if c.Field == "" {
					f.Unknown = append(f.Unknown, c.Column)
				}
			}
			for _, c := range l.cells {
				if _, ok := f.headers[c.c.name]; !ok {
					f.headers[c.c.name] = c.header
				}
			}
			if f.DisplayName == "" {
				f.DisplayName = l.display
			}
		}
		if inspect {
			continue
		}
		rec := sdk.SyncRecord{Line: line}
		var st rowState
		byKey := make(map[string]*column, len(l.cells))
		for _, c := range l.cells {
			byKey[c.header] = c.c
		}
		for _, k := range keys {
			c := byKey[k]
			if c == nil {
				continue
			}
			raw := obj[k]
			var v string
			if string(raw) != "null" {
				if err := json.Unmarshal(raw, &v); err != nil {
					var bv bool
					var num json.Number
					switch {
					case c.name == "status" && json.Unmarshal(raw, &bv) == nil:
						v = map[bool]string{true: "active", false: "inactive"}[bv]
					case strings.HasPrefix(c.name, customPrefix) && json.Unmarshal(raw, &bv) == nil:
						v = strconv.FormatBool(bv)
					case strings.HasPrefix(c.name, customPrefix) && json.Unmarshal(raw, &num) == nil:
						v = num.String()
					case strings.HasPrefix(c.name, customPrefix):
						return nil, &Error{Line: line, Column: keyCol(k), Field: c.name, Msg: fmt.Sprintf("%q must be a string, a number or a boolean", k)}
					default:
						return nil, &Error{Line: line, Column: keyCol(k), Field: c.name, Msg: fmt.Sprintf("%q must be a string", k)}
					}
				}
			}
			if err := l.set(&rec, &st, c, k, strings.TrimSpace(v)); err != nil {
				return nil, &Error{Line: line, Column: keyCol(k), Field: c.name, Msg: err.Error()}
			}
		}
		l.finish(&rec, &st)
		if rec.Email == "" {
			return nil, &Error{Line: line, Field: "email", Msg: "the object has no email"}
		}
		var at [3]int
		for i, name := range keyColumns {
			if j, ok := l.idx[name]; ok {
				at[i] = keyCol(keys[j])
			}
		}
		cols[line] = at
		f.Records = append(f.Records, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &Error{Line: line + 1, Msg: "the line is longer than 1 MiB"}
		}
		return nil, err
	}
	for k, e := range m.entries {
		if !used[k] {
			return nil, &Error{Line: max(line, 1), Err: ErrMapping,
				Msg: fmt.Sprintf("%s names key %q, which no line of the file has; its keys are %s", e.From, e.Column, quoteList(slices.Sorted(maps.Keys(seen))))}
		}
	}
	return f, nil
}
