// Package hrsync reads HR exports (Workday, BambooHR, …) as CSV or JSON
// Lines into [sdk.SyncRecord] values for [sdk.Client.Sync]. It is the file
// half of Roster's bulk sync; the rules (matching, seats, deprovisioning)
// live in the SDK.
//
// A CSV file has a header row. The documented columns are
//
//	external_id,email,given_name,family_name,display_name,department,title,manager,role,status
//
// in any order; common HR names are accepted as aliases ("Work Email",
// "First Name", "Employee ID", "Job Title", "Manager Email", …; see
// [Columns]). Only email is required. A column the file lacks leaves that
// field of existing members as it is; an unknown column is reported in
// [File.Unknown] and ignored. JSON Lines files carry one object per line
// with the same keys.
//
// A file that cannot be trusted as a whole is refused with an [*Error]
// naming its line and column: bad encoding, a missing email column, an
// unparsable row, an unknown status, or an email or external id that
// appears twice.
package hrsync

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
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

// File is a parsed export.
type File struct {
	Records []sdk.SyncRecord
	// Unknown lists the columns (CSV) or keys (JSON Lines) that were not
	// recognised and so ignored.
	Unknown []string
}

// Columns maps every accepted header, normalised (lower case, letters and
// digits only), to its canonical column.
var Columns = map[string]string{}

type column struct {
	name    string
	field   sdk.SyncField
	aliases []string
}

var columns = []column{
	{"external_id", sdk.SyncExternalID, []string{"externalid", "employeeid", "employeenumber", "employeeno", "workerid", "personid", "id", "staffid"}},
	{"email", 0, []string{"email", "workemail", "emailaddress", "workemailaddress", "businessemail", "mail", "primaryemail"}},
	{"given_name", sdk.SyncGivenName, []string{"givenname", "firstname", "first", "forename"}},
	{"family_name", sdk.SyncFamilyName, []string{"familyname", "lastname", "surname", "last"}},
	{"display_name", sdk.SyncDisplayName, []string{"displayname", "preferredname", "fullname", "name"}},
	{"department", sdk.SyncDepartment, []string{"department", "dept", "team", "division"}},
	{"title", sdk.SyncTitle, []string{"title", "jobtitle", "position", "role title"}},
	{"manager", sdk.SyncManager, []string{"manager", "manageremail", "managerid", "supervisor", "supervisoremail", "reportsto", "managerexternalid"}},
	{"role", sdk.SyncRole, []string{"role", "rosterrole", "accessrole"}},
	{"status", sdk.SyncStatus, []string{"status", "employmentstatus", "employeestatus", "active", "state"}},
}

const allFields = sdk.SyncExternalID | sdk.SyncGivenName | sdk.SyncFamilyName | sdk.SyncDisplayName |
	sdk.SyncDepartment | sdk.SyncTitle | sdk.SyncManager | sdk.SyncRole | sdk.SyncStatus

func init() {
	for _, c := range columns {
		Columns[normalise(c.name)] = c.name
		for _, a := range c.aliases {
			Columns[normalise(a)] = c.name
		}
	}
}

func normalise(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func fieldOf(name string) sdk.SyncField {
	for _, c := range columns {
		if c.name == name {
			return c.field
		}
	}
	return 0
}

// statuses maps accepted status values (normalised) to "active" or
// "inactive".
var statuses = map[string]string{
	"": "", "active": "active", "a": "active", "employed": "active", "current": "active", "true": "active", "yes": "active", "1": "active", "enabled": "active",
	"inactive": "inactive", "i": "inactive", "terminated": "inactive", "t": "inactive", "false": "inactive", "no": "inactive", "0": "inactive",
	"disabled": "inactive", "deactivated": "inactive", "suspended": "inactive", "leaver": "inactive", "left": "inactive", "former": "inactive",
}

// MaxFileBytes bounds what Read accepts.
const MaxFileBytes = 1 << 30

// Read parses a file of the given format.
func Read(r io.Reader, format Format) (*File, error) {
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
	switch format {
	case CSV, "":
		f, err = readCSV(br, cols)
	case JSONL:
		f, err = readJSONL(br, cols)
	default:
		return nil, fmt.Errorf("unknown format %q (csv or jsonl)", format)
	}
	if err != nil {
		return nil, err
	}
	return f, checkDuplicates(f.Records, cols)
}

// columnsAt remembers, per line, the columns of the email and external id,
// so that a duplicate found after reading is still located.
type columnsAt map[int][2]int

func readCSV(r io.Reader, cols columnsAt) (*File, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &Error{Line: 1, Msg: "the file is empty; it needs a header row with at least an email column"}
	}
	if err != nil {
		return nil, csvError(err)
	}
	header = slices.Clone(header)
	f := &File{}
	idx := map[string]int{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, &Error{Line: 1, Column: i + 1, Msg: "the header is not valid UTF-8; save the file as UTF-8"}
		}
		name, ok := Columns[normalise(h)]
		if !ok {
			f.Unknown = append(f.Unknown, h)
			continue
		}
		if j, dup := idx[name]; dup {
			return nil, &Error{Line: 1, Column: i + 1, Field: name, Msg: fmt.Sprintf("column %q is the same as column %d (%q)", h, j+1, header[j])}
		}
		idx[name] = i
	}
	if _, ok := idx["email"]; !ok {
		return nil, &Error{Line: 1, Field: "email", Msg: "the header has no email column (expected one of: email, Work Email, Email Address)"}
	}
	omit := allFields
	for name := range idx {
		omit &^= fieldOf(name)
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
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue // blank line
		}
		if len(row) > len(header) {
			_, col := cr.FieldPos(len(header))
			return nil, &Error{Line: line, Column: col, Msg: fmt.Sprintf("the row has %d fields but the header has %d", len(row), len(header))}
		}
		rec := sdk.SyncRecord{Line: line, Omit: omit}
		for name, i := range idx {
			v := ""
			if i < len(row) {
				v = strings.TrimSpace(row[i])
			}
			if !utf8.ValidString(v) {
				_, col := cr.FieldPos(i)
				return nil, &Error{Line: line, Column: col, Field: name, Msg: "the value is not valid UTF-8; save the file as UTF-8"}
			}
			if err := setField(&rec, name, v); err != nil {
				_, col := cr.FieldPos(min(i, len(row)-1))
				return nil, &Error{Line: line, Column: col, Field: name, Msg: err.Error()}
			}
		}
		var at [2]int
		for k, name := range []string{"email", "external_id"} {
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

func setField(r *sdk.SyncRecord, name, v string) error {
	switch name {
	case "external_id":
		r.ExternalID = v
	case "email":
		r.Email = v
	case "given_name":
		r.GivenName = v
	case "family_name":
		r.FamilyName = v
	case "display_name":
		r.DisplayName = v
	case "department":
		r.Department = v
	case "title":
		r.Title = v
	case "manager":
		r.Manager = v
	case "role":
		r.Role = strings.ToLower(v)
	case "status":
		s, ok := statuses[normalise(v)]
		if !ok {
			return fmt.Errorf("unknown status %q (use active or inactive)", v)
		}
		r.Status = s
	}
	return nil
}

func readJSONL(r *bufio.Reader, cols columnsAt) (*File, error) {
	f := &File{}
	unknown := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
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
		rec := sdk.SyncRecord{Line: line, Omit: allFields}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name, ok := Columns[normalise(k)]
			if !ok {
				if !unknown[k] {
					unknown[k] = true
					f.Unknown = append(f.Unknown, k)
				}
				continue
			}
			var v string
			raw := obj[k]
			if string(raw) != "null" {
				if err := json.Unmarshal(raw, &v); err != nil {
					var bv bool
					if name == "status" && json.Unmarshal(raw, &bv) == nil {
						v = map[bool]string{true: "active", false: "inactive"}[bv]
					} else {
						return nil, &Error{Line: line, Column: bytes.Index(b, []byte(`"`+k+`"`)) + 1, Field: name, Msg: fmt.Sprintf("%q must be a string", k)}
					}
				}
			}
			rec.Omit &^= fieldOf(name)
			if err := setField(&rec, name, strings.TrimSpace(v)); err != nil {
				return nil, &Error{Line: line, Column: bytes.Index(b, []byte(`"`+k+`"`)) + 1, Field: name, Msg: err.Error()}
			}
		}
		if rec.Email == "" {
			return nil, &Error{Line: line, Field: "email", Msg: "the object has no email"}
		}
		var at [2]int
		for k, name := range []string{"email", "external_id"} {
			for key := range obj {
				if Columns[normalise(key)] == name {
					at[k] = bytes.Index(b, []byte(`"`+key+`"`)) + 1
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

// checkDuplicates refuses an email or external id that appears twice.
func checkDuplicates(recs []sdk.SyncRecord, cols columnsAt) error {
	emails := make(map[string]int, len(recs))
	exts := make(map[string]int, len(recs))
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
	}
	return nil
}
