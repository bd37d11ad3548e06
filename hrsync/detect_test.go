package hrsync

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rosterhq/roster/sdk"
)

func TestReadDetectsDelimiter(t *testing.T) {
	excel, err := os.ReadFile("testdata/excel_semicolon.csv")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		in    string
		delim rune // asked for; 0 detects
		want  rune
		recs  []sdk.SyncRecord // Line, Email, ExternalID, DisplayName, Department checked
	}{
		{"excel semicolon with BOM and quoted delimiters", string(excel), 0, ';', []sdk.SyncRecord{
			{Line: 2, Email: "ann@x.test", Profile: sdk.Profile{ExternalID: "E1", DisplayName: "Ash; Ann", Department: "R&D, Paris"}},
			{Line: 3, Email: "bob@x.test", Profile: sdk.Profile{ExternalID: "E2", DisplayName: `Birch, "Bob"`, Department: "Sales"}},
		}},
		{"tab", "Employee ID\tWork Email\tFull Name\tDept\r\nE1\tann@x.test\tAsh, Ann\tEng; Ops\r\n", 0, '\t', []sdk.SyncRecord{
			{Line: 2, Email: "ann@x.test", Profile: sdk.Profile{ExternalID: "E1", DisplayName: "Ash, Ann", Department: "Eng; Ops"}},
		}},
		{"pipe", "email|name|dept\nann@x.test|Ann, A|Eng;Ops\n", 0, '|', []sdk.SyncRecord{
			{Line: 2, Email: "ann@x.test", Profile: sdk.Profile{DisplayName: "Ann, A", Department: "Eng;Ops"}},
		}},
		{"comma, blank lines first", "\n  \nemail,name,dept\nann@x.test,Ann;A,Eng\n", 0, ',', []sdk.SyncRecord{
			{Line: 4, Email: "ann@x.test", Profile: sdk.Profile{DisplayName: "Ann;A", Department: "Eng"}},
		}},
		{"most frequent wins", "email;name;dept;a,b\nann@x.test;Ann;Eng,Ops;z\n", 0, ';', []sdk.SyncRecord{
			{Line: 2, Email: "ann@x.test", Profile: sdk.Profile{DisplayName: "Ann", Department: "Eng,Ops"}},
		}},
		{"a tie is a comma", "email;name,dept\nann@x.test;Ann,Eng\n", 0, ',', nil}, // "email;name" is not a column
		{"one column", "email\nann@x.test\n", 0, ',', []sdk.SyncRecord{{Line: 2, Email: "ann@x.test"}}},
		{"explicit overrides detection", "email,name;dept\nann@x.test,Ann;Eng\n", ';', ';', nil},
		{"explicit comma over a semicolon header", "email;x,name\nann@x.test;y,Ann\n", ',', ',', nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(strings.NewReader(c.in), CSV, ReadOptions{Delimiter: c.delim})
			if c.recs == nil {
				// The delimiter splits the header so that it has no email
				// column, which shows which one was used.
				var e *Error
				if !errors.As(err, &e) || !strings.Contains(e.Msg, "no email column") {
					t.Fatalf("err = %v, want no email column", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Delimiter != c.want || f.Format != CSV {
				t.Fatalf("delimiter %q format %q, want %q csv", f.Delimiter, f.Format, c.want)
			}
			var got []sdk.SyncRecord
			for _, r := range f.Records {
				got = append(got, sdk.SyncRecord{Line: r.Line, Email: r.Email,
					Profile: sdk.Profile{ExternalID: r.ExternalID, DisplayName: r.DisplayName, Department: r.Department}})
			}
			if !reflect.DeepEqual(got, c.recs) {
				t.Fatalf("records = %+v\nwant      %+v", got, c.recs)
			}
		})
	}
	// An explicit delimiter splits as asked.
	f, err := Read(strings.NewReader("email,a;b;c\nann@x.test,y\n"), CSV, ReadOptions{Delimiter: ','})
	if err != nil || f.Records[0].Email != "ann@x.test" || f.Delimiter != ',' || f.Unknown[0] != "a;b;c" {
		t.Fatalf("file = %+v, %v", f, err)
	}
}

func TestReadHeaderOnly(t *testing.T) {
	for _, d := range []rune{',', ';', '\t', '|'} {
		t.Run(DelimiterName(d), func(t *testing.T) {
			for _, in := range []string{"email%cname", "\xEF\xBB\xBFemail%cname\r\n", "\n\nWork Email%cFirst Name\n\n"} {
				f, err := Read(strings.NewReader(fmt.Sprintf(in, d)), "", ReadOptions{})
				if err != nil {
					t.Fatalf("%q: %v", in, err)
				}
				if f.Delimiter != d || len(f.Records) != 0 || len(f.Unknown) != 0 || len(f.headers) != 2 {
					t.Fatalf("%q: file = %+v", in, f)
				}
			}
		})
	}
}

func TestReadHeaderAfterBlankLines(t *testing.T) {
	_, err := Read(strings.NewReader("\n  \nid;name\n1;a\n"), CSV, ReadOptions{})
	var e *Error
	if !errors.As(err, &e) || e.Line != 3 || !strings.Contains(e.Msg, "no email column") {
		t.Fatalf("err = %v, want line 3 without an email column", err)
	}
}

func TestDelimiterOption(t *testing.T) {
	for _, d := range []rune{'"', '\r', '\n', 'a', 'É', '7', '٣', utf8.RuneError, -1, '\uFEFF', '\x00' + 1} {
		err := CheckDelimiter(d)
		var de *DelimiterError
		if !errors.As(err, &de) || de.Delimiter != d || !errors.Is(err, ErrDelimiter) {
			t.Errorf("CheckDelimiter(%q) = %v", d, err)
		}
		if _, err := Read(strings.NewReader("email\na@x.test\n"), CSV, ReadOptions{Delimiter: d}); !errors.Is(err, ErrDelimiter) {
			t.Errorf("Read with %q: %v", d, err)
		}
	}
	for _, d := range []rune{0, ',', ';', '\t', '|', ':', ' ', '§'} {
		if err := CheckDelimiter(d); err != nil {
			t.Errorf("CheckDelimiter(%q) = %v", d, err)
		}
	}
	for s, want := range map[string]rune{"": 0, ";": ';', "tab": '\t', `\t`: '\t', "\t": '\t', "Semicolon": ';', "comma": ',', "pipe": '|', "|": '|', "§": '§'} {
		if got, err := ParseDelimiter(s); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v; want %q", s, got, err, want)
		}
	}
	for _, s := range []string{";;", "semi", "a", `"`, "\n"} {
		if _, err := ParseDelimiter(s); !errors.Is(err, ErrDelimiter) {
			t.Errorf("ParseDelimiter(%q) = %v, want ErrDelimiter", s, err)
		}
	}
	if DelimiterName(';') != "semicolon" || DelimiterName(':') != "':'" {
		t.Error("DelimiterName")
	}
}

func TestReadJSONLinesGivenAsCSV(t *testing.T) {
	jsonl := `{"email":"ann@x.test","given_name":"Ann"}` + "\n" + `{"email":"bob@x.test","title":"Dev, \"senior\""}` + "\n"
	for _, in := range []string{jsonl, "\xEF\xBB\xBF" + jsonl, "\n  " + jsonl, `{"email":"ann@x.test"}`} {
		f, err := Read(strings.NewReader(in), CSV, ReadOptions{Delimiter: ';'})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if f.Format != JSONL || f.Delimiter != 0 || f.Records[0].Email != "ann@x.test" {
			t.Fatalf("%q: file = %+v", in, f)
		}
	}
	// The lines keep their numbers.
	f, err := Read(strings.NewReader("\n"+jsonl), "", ReadOptions{})
	if err != nil || f.Records[1].Line != 3 || f.Records[1].Title != `Dev, "senior"` {
		t.Fatalf("file = %+v, %v", f, err)
	}
	// A first line that starts like JSON but is not is refused, never
	// with the CSV parser's "bare \" in non-quoted-field".
	for _, c := range []struct {
		in   string
		line int
	}{
		{`{"email": "ann@x.test",` + "\n", 1},
		{"\r\n" + `{ "email" "ann@x.test"}` + "\r\n", 2},
		{"{}x\n", 1},
		{`{"email":"` + strings.Repeat("a", 1<<17) + `"}` + "\n", 1}, // longer than the reader looks ahead
	} {
		_, err := Read(strings.NewReader(c.in), CSV, ReadOptions{})
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrLooksLikeJSONLines) || e.Line != c.line ||
			!strings.Contains(e.Error(), "looks like JSON Lines") || !strings.Contains(e.Error(), "--format jsonl") {
			t.Errorf("%.40q: err = %v", c.in, err)
		}
	}
	// A header that merely starts with a brace is still CSV.
	f, err = Read(strings.NewReader("{x},email\n7,ann@x.test\n"), CSV, ReadOptions{})
	if err != nil || f.Format != CSV || f.Unknown[0] != "{x}" {
		t.Fatalf("file = %+v, %v", f, err)
	}
}

// endless is an export without end: a header, then record after record.
// It fails the test when read past max bytes.
type endless struct {
	t       *testing.T
	header  string
	line    func(i int) string
	max     int
	read    int
	pending []byte
	i       int
}

func (e *endless) Read(p []byte) (int, error) {
	if e.read >= e.max {
		e.t.Errorf("read %d bytes, past the %d the reader needs", e.read, e.max)
		return 0, io.ErrUnexpectedEOF
	}
	for len(e.pending) < len(p) {
		if e.i == 0 {
			e.pending = append(e.pending, e.header...)
		} else {
			e.pending = append(e.pending, e.line(e.i)...)
		}
		e.i++
	}
	n := copy(p, e.pending)
	e.pending = e.pending[n:]
	e.read += n
	return n, nil
}

func TestReadStopsAtTheLimit(t *testing.T) {
	const limit = 1000
	for _, c := range []struct {
		name   string
		format Format
		header string
		line   func(int) string
	}{
		{"csv", CSV, "email;name\n", func(i int) string { return fmt.Sprintf("u%d@x.test;U %d\n\n", i, i) }},
		{"jsonl", JSONL, "", func(i int) string { return fmt.Sprintf(`{"email":"u%d@x.test"}`+"\n\n", i) }},
		{"jsonl as csv", CSV, "", func(i int) string { return fmt.Sprintf(`{"email":"u%d@x.test"}`+"\n\n", i) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The records take some 30 KB; the reader may buffer 64 KiB
			// ahead (twice for JSON Lines), never the rest.
			r := &endless{t: t, header: c.header, line: c.line, max: 300 << 10}
			_, err := Read(r, c.format, ReadOptions{MaxRecords: limit})
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrTooManyRecords) {
				t.Fatalf("err = %v", err)
			}
			// Each record is followed by a blank line, which does not
			// count.
			want := 2*limit + 1 // record n is on line 2n-1
			if c.header != "" {
				want++
			}
			if e.Line != want || !strings.Contains(e.Error(), "more than 1000 records") {
				t.Fatalf("err = %v, want line %d", e, want)
			}
		})
	}
	// At the limit exactly, the file is read.
	in := "email\n"
	for i := range 3 {
		in += fmt.Sprintf("u%d@x.test\n", i)
	}
	if f, err := Read(strings.NewReader(in), CSV, ReadOptions{MaxRecords: 3}); err != nil || len(f.Records) != 3 {
		t.Fatalf("at the limit: %v", err)
	}
	if (ReadOptions{}).maxRecords() != sdk.MaxSyncRecords {
		t.Fatal("the default limit is not the SDK's")
	}
}
