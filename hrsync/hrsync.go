// Package hrsync reads HR exports (Workday, BambooHR, …) as CSV or JSON
// Lines into [sdk.SyncRecord] values for [sdk.Client.Sync]. It is the file
// half of Roster's bulk sync; the rules (matching, seats, deprovisioning,
// what a valid value is) live in the SDK.
//
// A CSV file has a header row, and its fields are separated by commas,
// semicolons (as Excel writes CSV where the comma is the decimal mark),
// tabs or pipes: [Read] detects which from the header, or takes
// [ReadOptions.Delimiter]. A file given as CSV that is JSON Lines is read
// as JSON Lines. The documented columns are
//
//	external_id, email, user_name, given_name, middle_name, family_name,
//	honorific_prefix, honorific_suffix, formatted_name, display_name,
//	nickname, title, user_type, department, division, organization,
//	cost_center, employee_number, preferred_language, locale, timezone,
//	profile_url, phone_work, phone_mobile, address_street,
//	address_locality, address_region, address_postal_code,
//	address_country, address_formatted, manager, role, status
//
// in any order; common HR names are accepted as aliases ("Work Email",
// "First Name", "Employee ID", "Employee Number", "Cost Center", "Mobile
// Phone", "City", "State", "Zip", "Time Zone", …; see [Columns], which
// lists every one). Headers compare case-insensitively, ignoring
// everything but letters and digits. A column whose header is the name of
// one of the tenant's custom attributes ([ReadOptions]) fills that
// attribute (a boolean one also takes yes and no); it takes precedence
// over an alias.
//
// The phone columns become phone numbers typed "work" and "mobile", the
// address columns one address typed "work", and the email column the
// member's primary work email (see [sdk.SyncRecord] for how they merge
// with what a member already has). Only email is required. A column the
// file lacks leaves that field of existing members as it is, and an empty
// cell clears it; an unknown column is reported in [File.Unknown] and
// ignored. JSON Lines files carry one object per line with the same keys
// (an explicit null clears the field, a missing key leaves it; custom
// attributes may also be JSON numbers or booleans).
//
// A file that cannot be trusted as a whole is refused with an [*Error]
// naming its line and column: bad encoding, a missing email column, an
// unparsable row, an unknown status, an email, external id or user name
// that appears twice, or more records than one sync takes (the reader
// stops at the first one over, so a file too long is refused early).
// Values themselves (lengths, custom attribute types) are checked by the
// SDK, which fails the row alone.
package hrsync

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rosterhq/roster/sdk"
)

// Format is a file format.
type Format string

// Formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// FormatOf guesses a format from a file name: ".jsonl", ".ndjson" and
// ".json" are JSON Lines, anything else CSV.
func FormatOf(name string) Format {
	n := strings.ToLower(name)
	for _, ext := range []string{".jsonl", ".ndjson", ".json"} {
		if strings.HasSuffix(n, ext) {
			return JSONL
		}
	}
	return CSV
}

// Error is a problem with the file as a whole, located by line and column
// (1-based; column 0 when it concerns the whole line).
type Error struct {
	Line   int
	Column int
	Field  string // the column's canonical name, when known
	Msg    string
	// Err is the sentinel the problem matches, if any
	// ([ErrTooManyRecords], [ErrLooksLikeJSONLines]).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.Column > 0 {
		fmt.Fprintf(&b, ", column %d", e.Column)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (%s)", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel the problem matches, or nil.
func (e *Error) Unwrap() error { return e.Err }

// ErrTooManyRecords is matched by the [*Error] of a file with more records
// than [ReadOptions.MaxRecords]; the reader stopped at the first one over.
var ErrTooManyRecords = errors.New("too many records")

// File is a parsed export.
type File struct {
	Records []sdk.SyncRecord
	// Unknown lists the columns (CSV) or keys (JSON Lines) that were not
	// recognised and so ignored, as spelled in the file.
	Unknown []string
	// Format is the format the file was read as: the one asked for, or
	// JSONL for a file asked for as CSV that is JSON Lines.
	Format Format
	// Delimiter separated the fields of a CSV file: the one asked for,
	// or the one detected from the header. 0 for JSON Lines.
	Delimiter rune

	headers map[string]string // column name → its header in the file
}

// Column returns the header in the file of the column that carries field,
// as an [sdk.SyncFailure] names it ("employeeNumber", "custom.level",
// `phoneNumbers[type eq "mobile"].value`, "email", …), or "" when no
// column of the file carries it.
func (f *File) Column(field string) string {
	if field == "" {
		return ""
	}
	if h, ok := f.headers[field]; ok && strings.HasPrefix(field, customPrefix) {
		return h
	}
	for i := range columns {
		c := &columns[i]
		if h, ok := f.headers[c.name]; ok && c.names(field) {
			return h
		}
	}
	return ""
}

// ReadOptions tune [Read].
type ReadOptions struct {
	// CustomAttributes are the tenant's custom attributes
	// ([sdk.Settings.CustomAttributes]): a column whose header is one's
	// name, compared case-insensitively, fills it.
	CustomAttributes []sdk.CustomAttribute
	// Delimiter separates the fields of a CSV file; 0 detects it from the
	// header (see [Read]). It must pass [CheckDelimiter].
	Delimiter rune
	// MaxRecords is the most records a file may have; 0 means
	// [sdk.MaxSyncRecords], the most one sync takes. Read stops at the
	// first record over it.
	MaxRecords int
}

func (o ReadOptions) maxRecords() int {
	if o.MaxRecords <= 0 {
		return sdk.MaxSyncRecords
	}
	return o.MaxRecords
}

// tooMany is the error of the first record over the limit.
func tooMany(line, limit int) error {
	return &Error{Line: line, Err: ErrTooManyRecords,
		Msg: fmt.Sprintf("the file has more than %d records; split it by department or site", limit)}
}

// MaxFileBytes bounds what Read accepts.
const MaxFileBytes = 1 << 30

// Read parses a file of the given format ("" is CSV).
//
// A UTF-8 byte order mark is skipped; UTF-16 is refused. The delimiter of
// a CSV file is [ReadOptions.Delimiter], or else detected from the header
// (the first non-blank line): whichever of comma, semicolon, tab and pipe
// it has most of outside quotes, comma on a tie and for a header without
// any (a one-column file). [File.Delimiter] says which was used. A file
// given as CSV whose first line is a JSON object is read as JSON Lines
// ([File.Format] says so); one whose first line starts like a JSON object
// but is not one is refused with an [*Error] matching
// [ErrLooksLikeJSONLines]. Read stops at the first record over
// [ReadOptions.MaxRecords] with an [*Error] matching [ErrTooManyRecords],
// without reading the rest of the input.
func Read(r io.Reader, format Format, opts ReadOptions) (*File, error) {
	if err := CheckDelimiter(opts.Delimiter); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, &Error{Line: 1, Column: 1, Msg: "the file is UTF-16; save it as UTF-8"}
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	}
	var f *File
	var err error
	cols := columnsAt{}
	m := newMapper(opts)
	limit := opts.maxRecords()
	switch format {
	case CSV, "":
		first, line, complete := sniff(br)
		if looksLikeJSON(first) {
			if err := jsonLinesGivenAsCSV(first, line, complete); err != nil {
				return nil, err
			}
			f, err = readJSONL(br, m, cols, limit)
			break
		}
		d := opts.Delimiter
		if d == 0 {
			d = detectDelimiter(first)
		}
		f, err = readCSV(br, d, m, cols, limit)
	case JSONL:
		f, err = readJSONL(br, m, cols, limit)
	default:
		return nil, fmt.Errorf("unknown format %q (csv or jsonl)", format)
	}
	if err != nil {
		return nil, err
	}
	return f, checkDuplicates(f.Records, cols)
}

// columnsAt remembers, per line, the columns of the email, external id and
// user name, so that a duplicate found after reading is still located.
type columnsAt map[int][3]int

// keyColumns are the columns whose values must be unique in a file, in the
// order of columnsAt's entries.
var keyColumns = [3]string{"email", "external_id", "user_name"}

func readCSV(r io.Reader, delim rune, m *mapper, cols columnsAt, limit int) (*File, error) {
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	for err == nil && len(header) == 1 && strings.TrimSpace(header[0]) == "" {
		header, err = cr.Read() // a blank line before the header
	}
	if errors.Is(err, io.EOF) {
		return nil, &Error{Line: 1, Msg: "the file is empty; it needs a header row with at least an email column"}
	}
	if err != nil {
		return nil, csvError(err)
	}
	header = slices.Clone(header)
	hl, _ := cr.FieldPos(0)
	f := &File{Format: CSV, Delimiter: delim, headers: map[string]string{}}
	type cell struct {
		i int
		c *column
	}
	var cells []cell
	idx := map[string]int{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, &Error{Line: hl, Column: i + 1, Msg: "the header is not valid UTF-8; save the file as UTF-8"}
		}
		c := m.column(h)
		if c == nil {
			f.Unknown = append(f.Unknown, h)
			continue
		}
		if j, dup := idx[c.name]; dup {
			return nil, &Error{Line: hl, Column: i + 1, Field: c.name, Msg: fmt.Sprintf("column %q is the same as column %d (%q)", h, j+1, header[j])}
		}
		idx[c.name] = i
		f.headers[c.name] = h
		cells = append(cells, cell{i, c})
	}
	if _, ok := idx["email"]; !ok {
		return nil, &Error{Line: hl, Field: "email", Msg: "the header has no email column (expected one of: email, Work Email, Email Address)"}
	}
	// Fill records in the table's order, whatever the file's.
	order := func(c *column) int {
		if i := slices.IndexFunc(columns, func(t column) bool { return t.name == c.name }); i >= 0 {
			return i
		}
		return len(columns)
	}
	slices.SortStableFunc(cells, func(a, b cell) int { return order(a.c) - order(b.c) })
	present := map[string]bool{}
	for name := range idx {
		present[name] = true
	}
	omit := omitted(present)
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue // blank line
		}
		if len(f.Records) == limit {
			return nil, tooMany(line, limit)
		}
		if len(row) > len(header) {
			_, col := cr.FieldPos(len(header))
			return nil, &Error{Line: line, Column: col, Msg: fmt.Sprintf("the row has %d fields but the header has %d", len(row), len(header))}
		}
		rec := sdk.SyncRecord{Line: line, Omit: omit}
		for _, c := range cells {
			v := ""
			if c.i < len(row) {
				v = strings.TrimSpace(row[c.i])
			}
			if !utf8.ValidString(v) {
				_, col := cr.FieldPos(c.i)
				return nil, &Error{Line: line, Column: col, Field: c.c.name, Msg: "the value is not valid UTF-8; save the file as UTF-8"}
			}
			if err := c.c.set(&rec, v); err != nil {
				_, col := cr.FieldPos(min(c.i, len(row)-1))
				return nil, &Error{Line: line, Column: col, Field: c.c.name, Msg: err.Error()}
			}
		}
		var at [3]int
		for k, name := range keyColumns {
			if i, ok := idx[name]; ok && i < len(row) {
				_, at[k] = cr.FieldPos(i)
			}
		}
		cols[line] = at
		f.Records = append(f.Records, rec)
	}
	return f, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error()}
	}
	return err
}

func readJSONL(r *bufio.Reader, m *mapper, cols columnsAt, limit int) (*File, error) {
	f := &File{Format: JSONL, headers: map[string]string{}}
	unknown := map[string]bool{}
	omits := map[string]map[sdk.Field]bool{} // by the line's columns, so that lines alike share one set
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
		rec := sdk.SyncRecord{Line: line}
		keyCol := func(k string) int { return bytes.Index(b, []byte(`"`+k+`"`)) + 1 }
		type cell struct {
			key string
			c   *column
		}
		cells := make([]cell, 0, len(obj))
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			c := m.column(k)
			if c == nil {
				if !unknown[k] {
					unknown[k] = true
					f.Unknown = append(f.Unknown, k)
				}
				continue
			}
			if _, ok := f.headers[c.name]; !ok {
				f.headers[c.name] = k
			}
			cells = append(cells, cell{k, c})
		}
		var sig strings.Builder
		present := map[string]bool{}
		for _, c := range cells {
			present[c.c.name] = true
		}
		for i := range columns {
			if present[columns[i].name] {
				sig.WriteString(columns[i].name)
				sig.WriteByte(',')
			}
		}
		if rec.Omit = omits[sig.String()]; rec.Omit == nil {
			rec.Omit = omitted(present)
			omits[sig.String()] = rec.Omit
		}
		for _, c := range cells {
			raw := obj[c.key]
			var v string
			if string(raw) != "null" {
				if err := json.Unmarshal(raw, &v); err != nil {
					var bv bool
					var num json.Number
					switch {
					case c.c.name == "status" && json.Unmarshal(raw, &bv) == nil:
						v = map[bool]string{true: "active", false: "inactive"}[bv]
					case strings.HasPrefix(c.c.name, customPrefix) && json.Unmarshal(raw, &bv) == nil:
						v = strconv.FormatBool(bv)
					case strings.HasPrefix(c.c.name, customPrefix) && json.Unmarshal(raw, &num) == nil:
						v = num.String()
					case strings.HasPrefix(c.c.name, customPrefix):
						return nil, &Error{Line: line, Column: keyCol(c.key), Field: c.c.name, Msg: fmt.Sprintf("%q must be a string, a number or a boolean", c.key)}
					default:
						return nil, &Error{Line: line, Column: keyCol(c.key), Field: c.c.name, Msg: fmt.Sprintf("%q must be a string", c.key)}
					}
				}
			}
			if err := c.c.set(&rec, strings.TrimSpace(v)); err != nil {
				return nil, &Error{Line: line, Column: keyCol(c.key), Field: c.c.name, Msg: err.Error()}
			}
		}
		if rec.Email == "" {
			return nil, &Error{Line: line, Field: "email", Msg: "the object has no email"}
		}
		var at [3]int
		for k, name := range keyColumns {
			for _, c := range cells {
				if c.c.name == name {
					at[k] = keyCol(c.key)
				}
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
	return f, nil
}

// checkDuplicates refuses an email, external id or user name that appears
// twice.
func checkDuplicates(recs []sdk.SyncRecord, cols columnsAt) error {
	emails := make(map[string]int, len(recs))
	exts := make(map[string]int, len(recs))
	users := map[string]int{}
	for _, r := range recs {
		if k := sdk.NormalizeEmail(r.Email); k != "" {
			if l, dup := emails[k]; dup {
				return &Error{Line: r.Line, Column: cols[r.Line][0], Field: "email", Msg: fmt.Sprintf("email %s is already on line %d", r.Email, l)}
			}
			emails[k] = r.Line
		}
		if r.ExternalID != "" {
			if l, dup := exts[r.ExternalID]; dup {
				return &Error{Line: r.Line, Column: cols[r.Line][1], Field: "external_id", Msg: fmt.Sprintf("external id %s is already on line %d", r.ExternalID, l)}
			}
			exts[r.ExternalID] = r.Line
		}
		if k := sdk.NormalizeUserName(r.UserName); k != "" {
			if l, dup := users[k]; dup {
				return &Error{Line: r.Line, Column: cols[r.Line][2], Field: "user_name", Msg: fmt.Sprintf("user name %s is already on line %d", r.UserName, l)}
			}
			users[k] = r.Line
		}
	}
	return nil
}
