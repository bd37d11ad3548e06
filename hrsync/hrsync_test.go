package hrsync

import (
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestReadCSVAliasesAndOrder(t *testing.T) {
	in := "Employee ID,First Name,Last Name,Work Email,Job Title,Manager Email,Employment Status,Badge Colour\n" +
		"E1,Ann,Ash,ann@x.test,CEO,,Active,red\n" +
		"\n" +
		"E2, Bob ,Birch,BOB@x.test,Dev,ann@x.test,Terminated,blue\n"
	f, err := Read(strings.NewReader(in), CSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 2 {
		t.Fatalf("%d records, want 2", len(f.Records))
	}
	b := f.Records[1]
	if b.Line != 4 || b.ExternalID != "E2" || b.GivenName != "Bob" || b.Email != "BOB@x.test" || b.Title != "Dev" || b.Manager != "ann@x.test" || b.Status != "inactive" {
		t.Fatalf("record = %+v", b)
	}
	if f.Records[0].Status != "active" {
		t.Fatalf("status %q", f.Records[0].Status)
	}
	// Absent columns are omitted, present ones are not.
	if b.Omit&sdk.SyncDepartment == 0 || b.Omit&sdk.SyncRole == 0 || b.Omit&sdk.SyncDisplayName == 0 {
		t.Fatalf("absent columns not omitted: %b", b.Omit)
	}
	if b.Omit&(sdk.SyncGivenName|sdk.SyncManager|sdk.SyncStatus|sdk.SyncExternalID|sdk.SyncTitle) != 0 {
		t.Fatalf("present columns omitted: %b", b.Omit)
	}
	if len(f.Unknown) != 1 || f.Unknown[0] != "Badge Colour" {
		t.Fatalf("unknown = %v", f.Unknown)
	}
}

func TestReadCSVDocumentedColumnsWithBOM(t *testing.T) {
	in := "\xEF\xBB\xBFexternal_id,email,given_name,family_name,display_name,department,title,manager,role,status\r\n" +
		"X,a@x.test,A,B,Ab,Eng,Dev,M1,Admin,inactive\r\n"
	f, err := Read(strings.NewReader(in), CSV)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Records[0]
	want := sdk.SyncRecord{Line: 2, ExternalID: "X", Email: "a@x.test", GivenName: "A", FamilyName: "B", DisplayName: "Ab", Department: "Eng", Title: "Dev", Manager: "M1", Role: "admin", Status: "inactive"}
	if r != want {
		t.Fatalf("record = %+v\nwant     %+v", r, want)
	}
}

func TestReadErrorsNameLineAndColumn(t *testing.T) {
	cases := []struct {
		name, in   string
		format     Format
		line, col  int
		msgContain string
	}{
		{"no email column", "id,name\n1,a\n", CSV, 1, 0, "no email column"},
		{"empty file", "", CSV, 1, 0, "empty"},
		{"bad utf8 value", "email,first name\na@x.test,\xff\xfe\n", CSV, 2, 10, "UTF-8"},
		{"utf16", "\xFF\xFEe\x00", CSV, 1, 1, "UTF-16"},
		{"unknown status", "email,status\na@x.test,active\nb@x.test,maybe\n", CSV, 3, 10, "unknown status"},
		{"duplicate email", "email\na@x.test\nb@x.test\nA@X.test\n", CSV, 4, 1, "already on line 2"},
		{"duplicate external id", "employee id,email\n7,a@x.test\n7,b@x.test\n", CSV, 3, 1, "already on line 2"},
		{"duplicate email, later column", "employee id,email\n7,a@x.test\n8,a@x.test\n", CSV, 3, 3, "already on line 2"},
		{"too many fields", "email,first name\na@x.test,A,extra\n", CSV, 2, 12, "3 fields"},
		{"bare quote", "email\n\"a@x.test\n", CSV, 2, 0, ""},
		{"duplicate column", "email,Work Email\na,b\n", CSV, 1, 2, "same as column 1"},
		{"jsonl syntax", "{\"email\":\"a@x.test\"}\n{\"email\": }\n", JSONL, 2, 11, "not a JSON object"},
		{"jsonl type", "{\"email\":\"a@x.test\",\"title\":7}\n", JSONL, 1, 21, "must be a string"},
		{"jsonl no email", "{\"title\":\"x\"}\n", JSONL, 1, 0, "no email"},
		{"jsonl bad utf8", "{\"email\":\"a\xff@x.test\"}\n", JSONL, 1, 12, "UTF-8"},
		{"jsonl duplicate", "{\"email\":\"a@x.test\"}\n{\"email\":\"A@x.test\"}\n", JSONL, 2, 2, "already on line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.in), c.format)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *hrsync.Error", err)
			}
			if e.Line != c.line || (c.col != 0 && e.Column != c.col) || !strings.Contains(e.Error(), c.msgContain) {
				t.Fatalf("err = %q (line %d col %d), want line %d col %d containing %q", e, e.Line, e.Column, c.line, c.col, c.msgContain)
			}
			if !strings.HasPrefix(e.Error(), "line ") {
				t.Fatalf("message %q does not start with the line", e)
			}
		})
	}
}

func TestReadJSONL(t *testing.T) {
	in := `{"external_id":"E1","email":"ann@x.test","given_name":"Ann","status":true,"shoe_size":"9"}` + "\n\n" +
		`{"email":"bob@x.test","manager":"E1","status":"Inactive","title":null}` + "\n"
	f, err := Read(strings.NewReader(in), JSONL)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 2 || f.Records[0].Status != "active" || f.Records[1].Status != "inactive" || f.Records[1].Line != 3 {
		t.Fatalf("records = %+v", f.Records)
	}
	if f.Records[0].Omit&sdk.SyncGivenName != 0 || f.Records[0].Omit&sdk.SyncTitle == 0 {
		t.Fatalf("omit of record 1 = %b", f.Records[0].Omit)
	}
	if f.Records[1].Omit&sdk.SyncTitle != 0 {
		t.Fatal("an explicit null must clear the field, not omit it")
	}
	if len(f.Unknown) != 1 || f.Unknown[0] != "shoe_size" {
		t.Fatalf("unknown = %v", f.Unknown)
	}
	if FormatOf("export.JSONL") != JSONL || FormatOf("x.csv") != CSV {
		t.Fatal("FormatOf")
	}
}

// FuzzRead checks that no input crashes the parser and that every error is
// located.
func FuzzRead(f *testing.F) {
	f.Add([]byte("email,first name\na@x.test,A\n"), false)
	f.Add([]byte("Employee ID,Work Email,Status\n1,a@x.test,Terminated\n"), false)
	f.Add([]byte("{\"email\":\"a@x.test\",\"status\":false}\n"), true)
	f.Add([]byte("\xEF\xBB\xBFemail\n\"a\"\"b@x.test\"\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, jsonl bool) {
		format := CSV
		if jsonl {
			format = JSONL
		}
		file, err := Read(strings.NewReader(string(data)), format)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, r := range file.Records {
			if r.Line < 1 {
				t.Fatalf("record without a line: %+v", r)
			}
		}
	})
}
