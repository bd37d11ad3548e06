// Package hrsync reads HR exports (Workday, BambooHR, HiBob, Personio,
// Rippling, …) as CSV or JSON Lines into [sdk.SyncRecord] values for
// [sdk.Client.Sync]. It is the file half of Roster's bulk sync; the rules
// (matching, managers, seats, deprovisioning, what a valid value is)
// live in the SDK.
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
//	address_country, address_formatted, manager, manager_name,
//	preferred_family_name, role, status
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
// Vendors' exports are read through a profile ([Source]), detected from
// the header ([Detect]) or asked for ([ReadOptions.Source]): the vendor's
// column names (Workday's Primary_Work_Email, BambooHR's Employee #), the
// columns that hold something else than their name suggests (BambooHR's
// Employment Status is an employment type, HiBob's Reports to a name),
// and which of two columns for one field to read. [ReadOptions.Map]
// (--map) maps the columns of a report no profile knows, over all that.
// [File.Columns] says how each column is read, or why it is ignored:
// none is dropped silently. Legal names fill the given and family names;
// with preferred names and no display name column, a vendor's display
// name is the preferred name, else the legal one.
//
// The phone columns become phone numbers typed "work" and "mobile", the
// address columns one address typed "work", and the email column the
// member's primary work email (see [sdk.SyncRecord] for how they merge
// with what a member already has). A manager is given by reference (the
// manager's external id, employee number or email: manager) or by name
// (manager_name), which the SDK resolves. Only email is required. A
// column the file lacks leaves that field of existing members as it is,
// and an empty cell clears it. Rows without any value (Excel's trailing
// ",,,,") are skipped and counted ([File.BlankRows]). JSON Lines files
// carry one object per line with the same keys (an explicit null clears
// the field, a missing key leaves it; custom attributes may also be JSON
// numbers or booleans).
//
// Status values are read through a vocabulary ([Statuses]; people on
// leave stay active; [ReadOptions.StatusMap] adds to it): a value that
// means nothing about the status leaves it as it is, and one the
// vocabulary does not know fails its record alone
// ([sdk.SyncRecord.Invalid]), naming the value and --status-map.
//
// A file that cannot be trusted as a whole is refused with an [*Error]
// naming its line and column: bad encoding, a missing email column (the
// error lists the columns found), two columns for one field, an
// unparsable row, an email, external id or user name that appears twice,
// or more records than one sync takes (the reader stops at the first one
// over, so a file too long is refused early). Mappings that contradict
// each other are refused before anything is read ([ErrMapping]). Values
// themselves (lengths, custom attribute types) are checked by the SDK,
// which fails the row alone.
package hrsync

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// Unknown lists the columns (CSV) or keys (JSON Lines) that are
	// ignored, as spelled in the file, in its order: those no field has
	// the name of, and those a profile or a mapping ignores (Columns says
	// why).
	Unknown []string
	// Format is the format the file was read as: the one asked for, or
	// JSONL for a file asked for as CSV that is JSON Lines.
	Format Format
	// Delimiter separated the fields of a CSV file: the one asked for,
	// or the one detected from the header. 0 for JSON Lines.
	Delimiter rune
	// Source is the profile the file was read with: the one asked for
	// ([ReadOptions.Source]), or the one [Detect] found in the header.
	Source Source
	// Detected says Source was detected rather than asked for.
	Detected bool
	// Columns says how each column (each key of JSON Lines, in the order
	// first seen) is read, or why it is ignored.
	Columns []ColumnMapping
	// DisplayName, when not empty, says how the display name is composed
	// from the name columns (a preferred name, else the legal one): the
	// file has preferred names and no display name column.
	DisplayName string
	// BlankRows counts the rows of a CSV file without any value (blank,
	// or delimiters only, as Excel ends a sheet) that were skipped.
	BlankRows int

	headers map[string]string // column name → its header in the file
}

// Column returns the header in the file of the column that carries field,
// as an [sdk.SyncFailure] names it ("employeeNumber", "custom.level",
// `phoneNumbers[type eq "mobile"].value`, "email", …, or the header
// itself, as a record's [sdk.SyncRecord.Invalid] does), or "" when no
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
	for _, h := range f.headers {
		if h == field {
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
	// Source is the profile to read the file with; "" detects it from the
	// header ([Detect]).
	Source Source
	// Map maps columns to fields ([ParseMap], [ParseMapFile]); it comes
	// before custom attributes, profiles and aliases. Each column it
	// names must be in the file.
	Map []MapEntry
	// StatusMap says what status values mean ([ParseStatusMap]), over the
	// source's vocabulary.
	StatusMap StatusMap
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
// any (a one-column file); a first line "sep=;" (which Excel writes and
// reads) gives it too. [File.Delimiter] says which was used. A file
// given as CSV whose first line is a JSON object is read as JSON Lines
// ([File.Format] says so); one whose first line starts like a JSON object
// but is not one is refused with an [*Error] matching
// [ErrLooksLikeJSONLines]. Read stops at the first record over
// [ReadOptions.MaxRecords] with an [*Error] matching [ErrTooManyRecords],
// without reading the rest of the input.
//
// The header is mapped before any row is read: [ReadOptions.Map], the
// tenant's custom attributes, the source's profile, the alias table
// ([File.Columns] says which read each column). Mappings that contradict
// each other are refused, matching [ErrMapping], before anything is
// read.
func Read(r io.Reader, format Format, opts ReadOptions) (*File, error) {
	return read(r, format, opts, false)
}

// Inspect maps a file's columns as [Read] would, without reading its
// rows: the [File] it returns has no records, and its Columns, Source and
// DisplayName say how Read would read it. A CSV file is read up to its
// header; a JSON Lines file through, for its keys.
func Inspect(r io.Reader, format Format, opts ReadOptions) (*File, error) {
	return read(r, format, opts, true)
}

func read(r io.Reader, format Format, opts ReadOptions, inspect bool) (*File, error) {
	if err := CheckDelimiter(opts.Delimiter); err != nil {
		return nil, err
	}
	m, err := newMapper(opts)
	if err != nil {
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
	cols := columnsAt{}
	limit := opts.maxRecords()
	switch format {
	case CSV, "":
		first, line, complete := sniff(br)
		if looksLikeJSON(first) {
			if err := jsonLinesGivenAsCSV(first, line, complete); err != nil {
				return nil, err
			}
			f, err = readJSONL(br, m, cols, limit, inspect)
			break
		}
		d := opts.Delimiter
		sep := excelSep(first)
		if d == 0 {
			d = sep
		}
		if d == 0 {
			d = detectDelimiter(first)
		}
		f, err = readCSV(br, d, sep, m, cols, limit, inspect)
	case JSONL:
		f, err = readJSONL(br, m, cols, limit, inspect)
	default:
		return nil, fmt.Errorf("unknown format %q (csv or jsonl)", format)
	}
	if err != nil {
		return nil, err
	}
	f.Source, f.Detected = m.src, !m.given
	if f.Source == "" { // a JSON Lines file without records
		f.Source = SourceGeneric
	}
	return f, checkDuplicates(f.Records, cols)
}

// excelSep returns the delimiter of a "sep=;" first line, which Excel
// writes to say which delimiter follows, or 0.
func excelSep(first []byte) rune {
	l := bytes.TrimSpace(first)
	if len(l) < 5 || !bytes.EqualFold(l[:4], []byte("sep=")) {
		return 0
	}
	d, n := utf8.DecodeRune(l[4:])
	if n != len(l)-4 || CheckDelimiter(d) != nil {
		return 0
	}
	return d
}

// columnsAt remembers, per line, the columns of the email, external id and
// user name, so that a duplicate found after reading is still located.
type columnsAt map[int][3]int

// keyColumns are the columns whose values must be unique in a file, in the
// order of columnsAt's entries.
var keyColumns = [3]string{"email", "external_id", "user_name"}

// blank reports whether a row has no value.
func blank(row []string) bool {
	for _, v := range row {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func readCSV(r io.Reader, delim, sep rune, m *mapper, cols columnsAt, limit int, inspect bool) (*File, error) {
	cr := csv.NewReader(r)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	for err == nil && blank(header) {
		header, err = cr.Read() // a blank line before the header
	}
	if err == nil && sep != 0 && len(header) <= 2 && strings.EqualFold(strings.Join(header, string(delim)), "sep="+string(sep)) {
		header, err = cr.Read() // Excel's "sep=;"
		for err == nil && blank(header) {
			header, err = cr.Read()
		}
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
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, &Error{Line: hl, Column: i + 1, Msg: "the header is not valid UTF-8; save the file as UTF-8"}
		}
	}
	m.detect(header)
	l, lerr := m.plan(header, false)
	if lerr != nil {
		return nil, &Error{Line: hl, Column: lerr.col, Field: lerr.field, Msg: lerr.msg, Err: lerr.err}
	}
	f.Columns, f.DisplayName = l.cols, l.display
	for _, c := range l.cols {
		if c.Field == "" {
			f.Unknown = append(f.Unknown, c.Column)
		}
	}
	for _, c := range l.cells {
		f.headers[c.c.name] = c.header
	}
	if _, ok := l.idx["email"]; !ok {
		return nil, &Error{Line: hl, Field: "email", Msg: noEmail(m, header)}
	}
	if inspect {
		return f, nil
	}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if blank(row) {
			f.BlankRows++ // delimiters only (Excel's last rows), or spaces
			continue
		}
		if len(f.Records) == limit {
			return nil, tooMany(line, limit)
		}
		if len(row) > len(header) {
			_, col := cr.FieldPos(len(header))
			return nil, &Error{Line: line, Column: col, Msg: fmt.Sprintf("the row has %d fields but the header has %d", len(row), len(header))}
		}
		rec := sdk.SyncRecord{Line: line}
		var st rowState
		for _, c := range l.cells {
			v := ""
			if c.i < len(row) {
				v = strings.TrimSpace(row[c.i])
			}
			if !utf8.ValidString(v) {
				_, col := cr.FieldPos(c.i)
				return nil, &Error{Line: line, Column: col, Field: c.c.name, Msg: "the value is not valid UTF-8; save the file as UTF-8"}
			}
			if err := l.set(&rec, &st, c.c, c.header, v); err != nil {
				_, col := cr.FieldPos(min(c.i, len(row)-1))
				return nil, &Error{Line: line, Column: col, Field: c.c.name, Msg: err.Error()}
			}
		}
		l.finish(&rec, &st)
		var at [3]int
		for k, name := range keyColumns {
			if i, ok := l.idx[name]; ok && i < len(row) {
				_, at[k] = cr.FieldPos(i)
			}
		}
		cols[line] = at
		f.Records = append(f.Records, rec)
	}
	return f, nil
}

// noEmail says that a header has no email column: the columns it has,
// and how to map one.
func noEmail(m *mapper, header []string) string {
	expect := []string{"email", "Work Email", "Email Address"}
	p := profileOf(m.src)
	for _, a := range p.aliases {
		if a.field == "email" && !slices.ContainsFunc(expect, func(e string) bool { return normalise(e) == normalise(a.header) }) {
			expect = append(expect, a.header)
		}
	}
	read := ""
	if p != generic {
		read = fmt.Sprintf(" (read as a %s export)", p.name)
	}
	return fmt.Sprintf("the header has no email column%s (expected one of: %s); the columns found are %s. If one of them is the email, say so with --map 'Their Email Column=email'",
		read, strings.Join(expect, ", "), quoteList(header))
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error()}
	}
	return err
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
