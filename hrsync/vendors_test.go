package hrsync

import (
	"bufio"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// person is what the vendor tests check of a record.
type person struct {
	Line                                      int
	Email, ExternalID, EmployeeNumber         string
	Given, Family, Nick, Display, Title, Dept string
	UserType, Manager, ManagerName, Status    string
	KeepsStatus                               bool // the record does not carry a status
}

func personOf(r sdk.SyncRecord) person {
	return person{Line: r.Line, Email: r.Email, ExternalID: r.ExternalID, EmployeeNumber: r.EmployeeNumber,
		Given: r.GivenName, Family: r.FamilyName, Nick: r.NickName, Display: r.DisplayName, Title: r.Title, Dept: r.Department,
		UserType: r.UserType, Manager: r.Manager, ManagerName: r.ManagerName, Status: r.Status, KeepsStatus: r.Omit[sdk.FieldStatus]}
}

func readFixture(t *testing.T, name string, opts ReadOptions) *File {
	t.Helper()
	in, err := os.Open("testdata/vendors/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f, err := Read(in, CSV, opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

// ignoredWhy returns the ignored columns of a file with their reasons.
func ignoredWhy(f *File) map[string]string {
	out := map[string]string{}
	for _, c := range f.Columns {
		if c.Field == "" {
			out[c.Column] = c.Ignored
		}
	}
	return out
}

// TestVendorFixtures reads an export of each vendor, shaped as the
// vendor's documented report fields make it, and checks what every
// record says: names (legal and preferred), titles, managers, statuses.
func TestVendorFixtures(t *testing.T) {
	for _, tc := range []struct {
		file    string
		source  Source
		delim   rune
		people  []person
		ignored map[string]string // column → part of the reason
		fields  map[string]string // column → field, for the columns whose name does not say it
	}{
		{
			file: "workday.csv", source: SourceWorkday, delim: ',',
			people: []person{
				{Line: 2, Email: "maggie.hamilton@acme.test", ExternalID: "21001", Given: "Margaret", Family: "Hamilton", Nick: "Maggie", Display: "Maggie Hamilton",
					Title: "Chief Executive Officer", Dept: "Executive Office", UserType: "Employee", Status: "active"},
				{Line: 3, Email: "bob.noyce@acme.test", ExternalID: "21002", Given: "Robert", Family: "Noyce", Nick: "Bob", Display: "Bob Noyce",
					Title: "VP Engineering", Dept: "Engineering", UserType: "Employee", Manager: "21001", Status: "active"},
				{Line: 4, Email: "frances.allen@acme.test", ExternalID: "21003", Given: "Frances", Family: "Allen", Display: "Frances Allen",
					Title: "Staff Engineer", Dept: "Engineering", UserType: "Employee", Manager: "21002", Status: "active"}, // On Leave stays active
				{Line: 5, Email: "john.backus@acme.test", ExternalID: "21004", Given: "John", Family: "Backus", Display: "John Backus",
					Title: "Software Engineer", Dept: "Engineering", UserType: "Employee", Manager: "21002", Status: "inactive"},
				{Line: 6, Email: "radia.perlman@acme.test", ExternalID: "21005", Given: "Radia", Family: "Perlman", Display: "Radia Perlman",
					Title: "Network Architect, Principal", Dept: "Engineering", UserType: "Contingent Worker", Manager: "21002", Status: "active"},
				{Line: 7, Email: "barbara.liskov@acme.test", ExternalID: "21006", Given: "Barbara", Family: "Liskov", Nick: "Barb", Display: "Barb Liskov-Huang",
					Title: "Head of Research", Dept: "Research", UserType: "Employee", Manager: "21001", Status: "active"},
			},
			ignored: map[string]string{"Job_Profile": `title is read from column "Business_Title"`, "Location": "work site"},
			fields: map[string]string{"Primary_Work_Email": "email", "Legal_First_Name": "given_name", "Business_Title": "title",
				"Manager_Employee_ID": "manager", "Worker_Status": "status", "Supervisory_Organization": "department", "Preferred_Last_Name": "preferred_family_name"},
		},
		{
			file: "bamboohr.csv", source: SourceBambooHR, delim: ',',
			people: []person{
				{Line: 2, Email: "ada@acme.test", EmployeeNumber: "0001", Given: "Ada", Family: "Lovelace", Display: "Ada Lovelace",
					Title: "Chief Executive Officer", Dept: "Executive", UserType: "Full-Time", Status: "active"},
				{Line: 3, Email: "charles@acme.test", EmployeeNumber: "0002", Given: "Charles", Family: "Babbage", Nick: "Charlie", Display: "Charlie Babbage",
					Title: "CTO", Dept: "Engineering", UserType: "Full-Time", ManagerName: "Lovelace, Ada", Status: "active"},
				{Line: 4, Email: "grace@acme.test", EmployeeNumber: "0003", Given: "Grace", Family: "Hopper", Display: "Grace Hopper",
					Title: "Engineering Manager", Dept: "Engineering", UserType: "Full-Time", ManagerName: "Babbage, Charles", Status: "active"},
				{Line: 5, Email: "alan@acme.test", EmployeeNumber: "0004", Given: "Alan", Family: "Turing", Display: "Alan Turing",
					Title: "Staff Engineer", Dept: "Engineering", UserType: "Full-Time", ManagerName: "Hopper, Grace", Status: "active"},
				{Line: 6, Email: "katherine@acme.test", EmployeeNumber: "0005", Given: "Katherine", Family: "Johnson", Nick: "Kat", Display: "Kat Johnson",
					Title: "Data Scientist", Dept: "Research", UserType: "Part-Time", ManagerName: "Hopper, Grace", Status: "active"},
				{Line: 7, Email: "dorothy@acme.test", EmployeeNumber: "0006", Given: "Dorothy", Family: "Vaughan", Display: "Dorothy Vaughan",
					Title: "Engineer", Dept: "Engineering", UserType: "Contractor", ManagerName: "Hopper, Grace", Status: "active"},
				{Line: 8, Email: "edsger@acme.test", EmployeeNumber: "0007", Given: "Edsger", Family: "Dijkstra", Display: "Edsger Dijkstra",
					Title: "Principal Engineer", Dept: "Engineering", UserType: "Terminated", ManagerName: "Turing, Alan", Status: "inactive"},
				{Line: 9, Email: "donald@acme.test", EmployeeNumber: "0008", Given: "Donald", Family: "Knuth", Nick: "Don", Display: "Don Knuth",
					Title: "Author in Residence", Dept: "Research", UserType: "Full-Time", ManagerName: "Lovelace, Ada", Status: "active"},
				{Line: 10, Email: "hedy@acme.test", EmployeeNumber: "0009", Given: "Hedy", Family: "Lamarr", Display: "Hedy Lamarr",
					Title: "Product Designer", Dept: "Design", UserType: "Full-Time", ManagerName: "Babbage, Charles", Status: "active"},
				{Line: 11, Email: "claude@acme.test", EmployeeNumber: "0010", Given: "Claude", Family: "Shannon", Display: "Claude Shannon",
					Title: "Research Engineer", Dept: "Research", UserType: "Full-Time", ManagerName: "Knuth, Donald", Status: "active"},
				{Line: 12, Email: "tim@acme.test", EmployeeNumber: "0011", Given: "Tim", Family: "Berners-Lee", Display: "Tim Berners-Lee",
					Title: "Web Engineer", Dept: "Engineering", UserType: "Full-Time", ManagerName: "Turing, Alan", Status: "active"},
				{Line: 13, Email: "annie@acme.test", EmployeeNumber: "0012", Given: "Annie", Family: "Easley", Display: "Annie Easley",
					Title: "Programmer", Dept: "Engineering", UserType: "Part-Time", ManagerName: "Hopper, Grace", Status: "active"},
			},
			ignored: map[string]string{"Supervisor EId": "no EID column", "Location": "work site", "Hire Date": "no Roster field"},
			fields: map[string]string{"Employee #": "employee_number", "Employment Status": "user_type", "Status": "status",
				"Supervisor": "manager_name", "Preferred Name": "nickname"},
		},
		{
			file: "hibob.csv", source: SourceHiBob, delim: ',',
			people: []person{
				{Line: 2, Email: "noa@acme.test", ExternalID: "101", Given: "Noa", Family: "Cohen", Display: "Noa Cohen", Title: "CEO", Dept: "Management",
					UserType: "Permanent", Status: "active"},
				{Line: 3, Email: "jon@acme.test", ExternalID: "102", Given: "Jonathan", Family: "Levi", Display: "Jon Levi", Title: "CTO", Dept: "R&D",
					UserType: "Permanent", ManagerName: "Noa Cohen", Status: "active"},
				{Line: 4, Email: "maya@acme.test", ExternalID: "103", Given: "Maya", Family: "Shapiro", Display: "Maya Shapiro", Title: "VP People", Dept: "People",
					UserType: "Permanent", ManagerName: "Noa Cohen", Status: "active"},
				{Line: 5, Email: "sam.lee@acme.test", ExternalID: "104", Given: "Samuel", Family: "Lee", Display: "Sam Lee", Title: "Engineering Manager", Dept: "R&D",
					UserType: "Permanent", ManagerName: "Jon Levi", Status: "active"},
				{Line: 6, Email: "samantha.lee@acme.test", ExternalID: "105", Given: "Samantha", Family: "Lee", Display: "Sam Lee", Title: "Sales Manager", Dept: "Sales",
					UserType: "Permanent", ManagerName: "Noa Cohen", Status: "active"},
				{Line: 7, Email: "dani@acme.test", ExternalID: "106", Given: "Daniel", Family: "Katz", Display: "Dani Katz", Title: "Software Engineer", Dept: "R&D",
					UserType: "Permanent", ManagerName: "Jon Levi", Status: "active"}, // Garden leave
				{Line: 8, Email: "yael@acme.test", ExternalID: "107", Given: "Yael", Family: "Mizrahi", Display: "Yael Mizrahi", Title: "Software Engineer", Dept: "R&D",
					UserType: "Permanent", ManagerName: "Jon Levi", Status: "inactive"},
				{Line: 9, Email: "omer@acme.test", ExternalID: "108", Given: "Omer", Family: "Peretz", Display: "Omer Peretz", Title: "Account Executive", Dept: "Sales",
					UserType: "Permanent", ManagerName: "Sam Lee", Status: "active"},
				{Line: 10, Email: "tamar@acme.test", ExternalID: "109", Given: "Tamar", Family: "Friedman", Display: "Tamar Friedman", Title: "Recruiter", Dept: "People",
					UserType: "Contractor", ManagerName: "Maya Shapiro", Status: "active"},
				{Line: 11, Email: "avi@acme.test", ExternalID: "110", Given: "Avi", Family: "Golan", Display: "Avi Golan", Title: "Data Engineer", Dept: "R&D",
					UserType: "Permanent", ManagerName: "Jon Levi", Status: "active"},
				{Line: 12, Email: "lior@acme.test", ExternalID: "111", Given: "Lior", Family: "Ben-David", Display: "Lior Ben-David", Title: "Support Engineer", Dept: "Support",
					UserType: "Permanent", ManagerName: "Ruth Former", Status: "active"},
			},
			ignored: map[string]string{"Site": "work site", "Start date": "no Roster field"},
			fields:  map[string]string{"Reports to": "manager_name", "Lifecycle status": "status", "Display name": "display_name", "Email": "email"},
		},
		{
			file: "personio.csv", source: SourcePersonio, delim: ';',
			people: []person{
				{Line: 2, Email: "klaus.mueller@acme.test", ExternalID: "1001", Given: "Klaus", Family: "Müller", Display: "Klaus Müller", Title: "Geschäftsführer",
					Dept: "Management", UserType: "internal", Status: "active"},
				{Line: 3, Email: "anna.schmidt@acme.test", ExternalID: "1002", Given: "Anna", Family: "Schmidt", Nick: "Anni", Display: "Anni Schmidt",
					Title: "Head of Engineering", Dept: "Engineering", UserType: "internal", ManagerName: "Klaus Müller", Status: "active"},
				{Line: 4, Email: "juergen.weber@acme.test", ExternalID: "1003", Given: "Jürgen", Family: "Weber", Display: "Jürgen Weber",
					Title: "Backend Developer", Dept: "Engineering", UserType: "internal", ManagerName: "Anna Schmidt", Status: "active"}, // leave
				{Line: 5, Email: "lena.fischer@acme.test", ExternalID: "1004", Given: "Lena", Family: "Fischer", Display: "Lena Fischer",
					Title: "Frontend Developer", Dept: "Engineering", UserType: "internal", ManagerName: "Anna Schmidt", Status: "active"},
				{Line: 6, Email: "tobias.wagner@acme.test", ExternalID: "1005", Given: "Tobias", Family: "Wagner", Display: "Tobias Wagner",
					Title: "Sales Manager", Dept: "Sales", UserType: "internal", ManagerName: "Klaus Müller", Status: "inactive"},
				{Line: 7, Email: "sophie.becker@acme.test", ExternalID: "1006", Given: "Sophie", Family: "Becker", Display: "Sophie Becker",
					Title: "Werkstudentin", Dept: "Engineering", UserType: "external", ManagerName: "Anna Schmidt", Status: "active"}, // onboarding
			},
			ignored: map[string]string{"Office": "work site", "Hire date": "no Roster field", "Weekly hours": "no Roster field"},
			fields:  map[string]string{"ID": "external_id", "Position": "title", "Supervisor": "manager_name", "Status": "status"},
		},
		{
			file: "rippling.csv", source: SourceRippling, delim: ',',
			people: []person{
				{Line: 2, Email: "liz@acme.test", ExternalID: "R-001", Given: "Elizabeth", Family: "Warren", Nick: "Liz", Display: "Liz Warren",
					Title: "Chief Executive Officer", Dept: "Executive", UserType: "Salaried FT", Status: "active"},
				{Line: 3, Email: "michael.chen@acme.test", ExternalID: "R-002", Given: "Michael", Family: "Chen", Display: "Michael Chen",
					Title: "Head of Engineering", Dept: "Engineering", UserType: "Salaried FT", Manager: "liz@acme.test", ManagerName: "Liz Warren", Status: "active"},
				{Line: 4, Email: "priya@acme.test", ExternalID: "R-003", Given: "Priya", Family: "Natarajan", Display: "Priya Natarajan",
					Title: "Software Engineer", Dept: "Engineering", UserType: "Salaried FT", Manager: "michael.chen@acme.test", ManagerName: "Michael Chen", Status: "active"},
				{Line: 5, Email: "pepe@acme.test", ExternalID: "R-004", Given: "José", Family: "García", Nick: "Pepe", Display: "Pepe García López",
					Title: "Software Engineer", Dept: "Engineering", UserType: "Hourly PT", Manager: "michael.chen@acme.test", ManagerName: "Michael Chen", Status: "active"},
				{Line: 6, Email: "olivia.brown@acme.test", ExternalID: "R-005", Given: "Olivia", Family: "Brown", Display: "Olivia Brown",
					Title: "Designer", Dept: "Design", UserType: "Contractor", Manager: "liz@acme.test", ManagerName: "Liz Warren", Status: "inactive"},
			},
			ignored: map[string]string{"Personal email": "never the member's email", "Work location": "work site", "Start date": "no Roster field"},
			fields: map[string]string{"Legal first name": "given_name", "Preferred first name": "nickname", "Preferred last name": "preferred_family_name",
				"Work email": "email", "Manager work email": "manager", "Manager": "manager_name", "Employment status": "status"},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f := readFixture(t, tc.file, ReadOptions{})
			if f.Source != tc.source || !f.Detected || f.Delimiter != tc.delim {
				t.Fatalf("read as %q (detected %v) with %q, want %q with %q", f.Source, f.Detected, f.Delimiter, tc.source, tc.delim)
			}
			var got []person
			for _, r := range f.Records {
				if r.Invalid != nil {
					t.Errorf("line %d invalid: %v", r.Line, r.Invalid)
				}
				got = append(got, personOf(r))
			}
			if !reflect.DeepEqual(got, tc.people) {
				for i := range max(len(got), len(tc.people)) {
					var g, w person
					if i < len(got) {
						g = got[i]
					}
					if i < len(tc.people) {
						w = tc.people[i]
					}
					if g != w {
						t.Errorf("record %d:\n got  %+v\n want %+v", i, g, w)
					}
				}
			}
			// Every column is mapped or ignored with a reason.
			if len(f.Columns) == 0 {
				t.Fatal("no columns")
			}
			for _, c := range f.Columns {
				if (c.Field == "") == (c.Ignored == "") {
					t.Errorf("column %q: field %q, ignored %q", c.Column, c.Field, c.Ignored)
				}
			}
			why := ignoredWhy(f)
			if len(why) != len(tc.ignored) {
				t.Errorf("ignored %v, want %v", why, tc.ignored)
			}
			for col, part := range tc.ignored {
				if !strings.Contains(why[col], part) {
					t.Errorf("column %q ignored for %q, want %q", col, why[col], part)
				}
			}
			var unknown []string
			for _, c := range f.Columns {
				if c.Field == "" {
					unknown = append(unknown, c.Column)
				}
				if want, ok := tc.fields[c.Column]; ok && c.Field != want {
					t.Errorf("column %q → %q, want %q", c.Column, c.Field, want)
				}
			}
			if !slices.Equal(f.Unknown, unknown) {
				t.Errorf("Unknown = %v, want %v", f.Unknown, unknown)
			}
		})
	}
}

// TestExcelQuirks reads what Excel makes of an export: a byte order mark,
// CRLF, rows of delimiters at the end, a semicolon file, a "sep=" line.
func TestExcelQuirks(t *testing.T) {
	plain := readFixture(t, "bamboohr.csv", ReadOptions{})
	excel := readFixture(t, "bamboohr_excel.csv", ReadOptions{})
	if !reflect.DeepEqual(plain.Records, excel.Records) || excel.BlankRows != 3 || plain.BlankRows != 0 {
		t.Fatalf("Excel's copy reads differently: %d blank rows\n%+v\n%+v", excel.BlankRows, excel.Records, plain.Records)
	}
	if p := readFixture(t, "personio.csv", ReadOptions{}); p.BlankRows != 1 || len(p.Records) != 6 {
		t.Fatalf("personio: %d blank rows, %d records", p.BlankRows, len(p.Records))
	}
	for _, tc := range []struct {
		name, in string
		delim    rune
		blank    int
		lines    []int
	}{
		{"sep line", "sep=;\r\nWork Email;First Name\r\nann@x.test;Ann\r\n;\r\n", ';', 1, []int{3}},
		{"sep line, comma", "SEP=,\nemail,name\nann@x.test,Ann\n", ',', 0, []int{3}},
		{"delimiters before the header", ",,,\n  ,\nemail,name,dept,x\nann@x.test,Ann,,\n,,,\n , ,,\nbob@x.test,,,\n", ',', 2, []int{4, 7}},
		{"rows shorter than the header", "email,name,dept\nann@x.test\n,\n", ',', 1, []int{2}},
		{"rows longer than the header, blank", "email,name\nann@x.test,Ann\n,,,,,,\n", ',', 1, []int{2}},
		{"tab", "email\tname\r\nann@x.test\tAnn\r\n\t\r\n", '\t', 1, []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(strings.NewReader(tc.in), CSV, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for _, r := range f.Records {
				lines = append(lines, r.Line)
			}
			if f.Delimiter != tc.delim || f.BlankRows != tc.blank || !slices.Equal(lines, tc.lines) {
				t.Fatalf("delimiter %q, %d blank rows, lines %v; want %q, %d, %v", f.Delimiter, f.BlankRows, lines, tc.delim, tc.blank, tc.lines)
			}
		})
	}
	// A header row of delimiters only is no header.
	if _, err := Read(strings.NewReader(",,,\n"), CSV, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("delimiters only: %v", err)
	}
}

func TestStatusVocabulary(t *testing.T) {
	in := "email,Employment Status\n" +
		"a@x.test,Active\nb@x.test,Terminated\nc@x.test,On leave\nd@x.test,Full-Time\ne@x.test,Deferred\nf@x.test,\ng@x.test,LEAVE\nh@x.test,garden-leave\n"
	f, err := Read(strings.NewReader(in), CSV, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Source != SourceGeneric {
		t.Fatalf("source %q", f.Source)
	}
	type st struct {
		status string
		keeps  bool
	}
	want := []st{{"active", false}, {"inactive", false}, {"active", false}, {"", true}, {"", false}, {"", false}, {"active", false}, {"active", false}}
	for i, r := range f.Records {
		if got := (st{r.Status, r.Omit[sdk.FieldStatus]}); got != want[i] {
			t.Errorf("line %d: %+v, want %+v", r.Line, got, want[i])
		}
		if (r.Invalid != nil) != (r.Line == 6) {
			t.Errorf("line %d: invalid %v", r.Line, r.Invalid)
		}
	}
	inv := f.Records[4].Invalid
	if inv.Field != "Employment Status" || inv.Code != sdk.CodeInvalidArgument || inv.Reason != sdk.ReasonInvalid ||
		!strings.Contains(inv.Message, `unknown status "Deferred"`) || !strings.Contains(inv.Message, "--status-map 'Deferred=active'") {
		t.Fatalf("invalid = %+v", inv)
	}
	// The record's field names the file's column, as reports do.
	if f.Column("Employment Status") != "Employment Status" {
		t.Fatalf("Column = %q", f.Column("Employment Status"))
	}

	// --status-map adds values and overrides the vocabulary.
	sm, err := ParseStatusMap("Deferred=inactive, Full-Time = active,garden leave=ignore")
	if err != nil {
		t.Fatal(err)
	}
	f, err = Read(strings.NewReader(in), CSV, ReadOptions{StatusMap: sm})
	if err != nil {
		t.Fatal(err)
	}
	want[3], want[4], want[7] = st{"active", false}, st{"inactive", false}, st{"", true}
	for i, r := range f.Records {
		if got := (st{r.Status, r.Omit[sdk.FieldStatus]}); got != want[i] || r.Invalid != nil {
			t.Errorf("with --status-map, line %d: %+v %v, want %+v", r.Line, got, r.Invalid, want[i])
		}
	}
	// A JSON boolean is a status too.
	f, err = Read(strings.NewReader(`{"email":"a@x.test","status":false}`+"\n"+`{"email":"b@x.test","status":"Sabbatical"}`+"\n"), JSONL, ReadOptions{})
	if err != nil || f.Records[0].Status != "inactive" || f.Records[1].Status != "active" {
		t.Fatalf("jsonl: %+v, %v", f, err)
	}

	for _, bad := range []string{"Garden leave", "x=maybe", "a=active,A=inactive", "-=active"} {
		if _, err := ParseStatusMap(bad); !errors.Is(err, ErrMapping) {
			t.Errorf("ParseStatusMap(%q) = %v", bad, err)
		}
	}
	if _, err := ParseStatusMap("a=active,A=Active, b = deactivated"); err != nil {
		t.Errorf("a value twice with one meaning: %v", err)
	}
	vocab := Statuses(SourceWorkday, StatusMap{"onleave": StatusInactive, "deferred": StatusActive})
	if !slices.Contains(vocab[StatusInactive], "On leave") || !slices.Contains(vocab[StatusActive], "deferred") ||
		!slices.Contains(vocab[StatusIgnore], "Full-Time") || slices.Contains(vocab[StatusActive], "On leave") {
		t.Errorf("Statuses = %v", vocab)
	}
}

func TestColumnMaps(t *testing.T) {
	entries, err := ParseMap("Login Mail=email, Boss = managerName,Badge=ignore,Tier=custom.level")
	if err != nil {
		t.Fatal(err)
	}
	want := []MapEntry{{"Login Mail", "email", "--map"}, {"Boss", "manager_name", "--map"}, {"Badge", "ignore", "--map"}, {"Tier", "custom.level", "--map"}}
	if !reflect.DeepEqual(entries, want) {
		t.Fatalf("entries = %+v", entries)
	}
	file := "# our custom report\n\nLogin Mail = email\nBoss=manager_name\n  # done\nName, as shown=display_name\n"
	fe, err := ParseMapFile(strings.NewReader(file), "ours.map")
	if err != nil || len(fe) != 3 || fe[2].Column != "Name, as shown" || fe[2].From != "ours.map:6" {
		t.Fatalf("map file: %+v, %v", fe, err)
	}

	in := "Login Mail,Work Email,Boss,Badge,Tier,Name\nann@x.test,ann@old.test,Bob Boss,B7,3,Ann\n"
	f, err := Read(strings.NewReader(in), CSV, ReadOptions{Map: entries, CustomAttributes: fuzzOptions.CustomAttributes})
	if err != nil {
		t.Fatal(err)
	}
	r := f.Records[0]
	if r.Email != "ann@x.test" || r.ManagerName != "Bob Boss" || r.Custom["level"] != "3" || r.DisplayName != "Ann" || r.Omit[sdk.FieldManagerID] {
		t.Fatalf("record = %+v", r)
	}
	why := ignoredWhy(f)
	if !strings.Contains(why["Work Email"], `email is read from column "Login Mail"`) || !strings.Contains(why["Badge"], "--map") {
		t.Fatalf("ignored = %v", why)
	}
	if !slices.Equal(f.Unknown, []string{"Work Email", "Badge"}) {
		t.Fatalf("unknown = %v", f.Unknown)
	}

	// --map over a profile: the vendor's column gives way.
	rip := readFixture(t, "rippling.csv", ReadOptions{Map: []MapEntry{{Column: "Personal email", Field: "email", From: "--map"}}})
	if rip.Records[1].Email != "mchen@yahoo.example" || !strings.Contains(ignoredWhy(rip)["Work email"], `read from column "Personal email"`) {
		t.Fatalf("--map over the profile: %+v %v", rip.Records[1], ignoredWhy(rip))
	}

	// Contradictions are refused before anything is read.
	for _, tc := range []struct {
		m    string
		want string
	}{
		{"A=email,B=email", `columns "A" (--map) and "B" (--map) are both mapped to email`},
		{"A=email,a=title", `column "a" is mapped to email (--map) and to title (--map)`},
		{"A=wage", `"wage" is not a field; the fields are external_id, email,`},
		{"A=", `"" is not a field`},
		{"A", `"A" is not Their Column=field`},
		{"=email", "names no column"},
	} {
		_, err := ParseMap(tc.m)
		if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseMap(%q) = %v, want %q", tc.m, err, tc.want)
		}
	}
	if _, err := ParseMap("A=title,a=title,B=ignore,C=ignore"); err != nil {
		t.Errorf("repeated and ignored entries: %v", err)
	}
	if _, err := ParseMapFile(strings.NewReader("A=email\n\nB=e-mail\n"), "x.map"); err == nil || !strings.Contains(err.Error(), "and \"B\" (x.map:3)") {
		t.Errorf("map file contradiction: %v", err)
	}
	// A custom attribute the tenant lacks, and a mapped column the file
	// lacks, are refused before any row is read.
	_, err = Read(strings.NewReader(in), CSV, ReadOptions{Map: []MapEntry{{Column: "Tier", Field: "custom.grade", From: "--map"}}})
	if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), `"grade" is not a custom attribute of the tenant`) {
		t.Errorf("unknown custom attribute: %v", err)
	}
	_, err = Read(strings.NewReader(in), CSV, ReadOptions{Map: []MapEntry{{Column: "E-mail", Field: "email", From: "--map"}}})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrMapping) || e.Line != 1 || !strings.Contains(e.Msg, `--map names column "E-mail", which the file does not have; its columns are "Login Mail", "Work Email"`) {
		t.Errorf("a mapped column the file lacks: %v", err)
	}
	_, err = Read(strings.NewReader(`{"email":"a@x.test"}`+"\n"), JSONL, ReadOptions{Map: []MapEntry{{Column: "mail", Field: "email", From: "--map"}}})
	if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), `names key "mail"`) {
		t.Errorf("a mapped key no line has: %v", err)
	}
	_, err = Read(strings.NewReader("Email,E-Mail\na,b\n"), CSV, ReadOptions{Map: []MapEntry{{Column: "email", Field: "email", From: "--map"}}})
	if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), `columns "Email" and "E-Mail" both match --map "email"`) {
		t.Errorf("two columns matching one entry: %v", err)
	}
}

func TestNoEmailColumn(t *testing.T) {
	_, err := Read(strings.NewReader("Person,Full Name,Team\n1,Ann,Eng\n"), CSV, ReadOptions{})
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 || e.Field != "email" {
		t.Fatalf("err = %v", err)
	}
	for _, part := range []string{"no email column", `the columns found are "Person", "Full Name", "Team"`, "--map 'Their Email Column=email'"} {
		if !strings.Contains(e.Msg, part) {
			t.Errorf("message %q lacks %q", e.Msg, part)
		}
	}
	// A Workday report without its email column says how it was read and
	// which headers would have been the email.
	_, err = Read(strings.NewReader("Employee_ID,Legal_First_Name,Business_Title,Worker_Status\n1,Ann,CEO,Active\n"), CSV, ReadOptions{})
	if !errors.As(err, &e) || !strings.Contains(e.Msg, "(read as a Workday export)") || !strings.Contains(e.Msg, "Primary_Work_Email") {
		t.Fatalf("workday without email: %v", err)
	}
}

// TestSourceOption reads files with the source given instead of
// detected.
func TestSourceOption(t *testing.T) {
	in, err := os.ReadFile("testdata/vendors/workday.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Read as generic, a Workday report has no email column.
	_, err = Read(strings.NewReader(string(in)), CSV, ReadOptions{Source: SourceGeneric})
	if err == nil || !strings.Contains(err.Error(), "no email column") {
		t.Fatalf("generic: %v", err)
	}
	f, err := Read(strings.NewReader(string(in)), CSV, ReadOptions{Source: SourceWorkday})
	if err != nil || f.Source != SourceWorkday || f.Detected {
		t.Fatalf("workday: %+v, %v", f, err)
	}
	// A HiBob profile on a file too plain to be detected.
	f, err = Read(strings.NewReader("Email,Reports to\nann@x.test,Bob Boss\n"), CSV, ReadOptions{Source: SourceHiBob})
	if err != nil || f.Records[0].ManagerName != "Bob Boss" || f.Records[0].Manager != "" {
		t.Fatalf("hibob: %+v, %v", f, err)
	}
	f, err = Read(strings.NewReader("Email,Reports to\nann@x.test,bob@x.test\n"), CSV, ReadOptions{})
	if err != nil || f.Source != SourceGeneric || f.Records[0].Manager != "bob@x.test" {
		t.Fatalf("generic reports to: %+v, %v", f, err)
	}
	if _, err := Read(strings.NewReader("email\n"), CSV, ReadOptions{Source: "sap"}); err == nil || !strings.Contains(err.Error(), "bamboohr, workday, hibob, personio, rippling or generic") {
		t.Fatalf("unknown source: %v", err)
	}
	for in, want := range map[string]Source{"Workday": SourceWorkday, "BAMBOOHR": SourceBambooHR, "hi-bob": SourceHiBob, "": ""} {
		if got, err := ParseSource(in); err != nil || got != want {
			t.Errorf("ParseSource(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseSource("adp"); err == nil {
		t.Error("ParseSource(adp)")
	}
	if SourceHiBob.Name() != "HiBob" || SourceGeneric.Name() != "generic" {
		t.Error("Name")
	}
}

func TestManagerColumns(t *testing.T) {
	// A BambooHR report with the EID column reads Supervisor EId; without
	// it, Supervisor ID needs Employee #.
	in := "EID,Employee #,Work Email,Supervisor EId,Supervisor ID,Supervisor\n7,0007,a@x.test,3,0003,\"Boss, Bea\"\n"
	f, err := Read(strings.NewReader(in), CSV, ReadOptions{})
	if err != nil || f.Source != SourceBambooHR || f.Records[0].Manager != "3" || f.Records[0].ManagerName != "Boss, Bea" {
		t.Fatalf("with EID: %+v, %v", f, err)
	}
	if why := ignoredWhy(f)["Supervisor ID"]; !strings.Contains(why, `manager is read from column "Supervisor EId"`) {
		t.Fatalf("Supervisor ID: %q", why)
	}
	f, err = Read(strings.NewReader("Employee #,Work Email,Supervisor EId,Supervisor ID\n0007,a@x.test,3,0003\n"), CSV, ReadOptions{})
	if err != nil || f.Records[0].Manager != "0003" {
		t.Fatalf("without EID: %+v, %v", f, err)
	}
	if why := ignoredWhy(f)["Supervisor EId"]; !strings.Contains(why, "no EID column") {
		t.Fatalf("Supervisor EId: %q", why)
	}
	// A file with a manager name alone carries the manager.
	f, err = Read(strings.NewReader("email,manager_name\na@x.test,Bea Boss\n"), CSV, ReadOptions{})
	if err != nil || f.Records[0].ManagerName != "Bea Boss" || f.Records[0].Omit[sdk.FieldManagerID] {
		t.Fatalf("manager name: %+v, %v", f.Records[0], err)
	}
	// Two generic columns for one field are still refused.
	_, err = Read(strings.NewReader("email,Manager Email,Manager ID\na@x.test,b@x.test,7\n"), CSV, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), `column "Manager ID" is the same as column 2 ("Manager Email"); keep one, or say which to read with --map 'Manager ID=ignore'`) {
		t.Fatalf("two manager columns: %v", err)
	}
}

// TestEmploymentStatusAlone: a BambooHR report without its Status column
// takes the status from Employment Status, whose Terminated deactivates.
func TestEmploymentStatusAlone(t *testing.T) {
	in := "Employee #,Work Email,Employment Status,Supervisor,Supervisor Email\n" +
		"1,a@x.test,Full-Time,,\n2,b@x.test,Terminated,,\n3,c@x.test,Seasonal Intern,,\n4,d@x.test,,,\n"
	f, err := Read(strings.NewReader(in), CSV, ReadOptions{})
	if err != nil || f.Source != SourceBambooHR {
		t.Fatalf("%+v, %v", f, err)
	}
	var got []string
	for _, r := range f.Records {
		if r.Invalid != nil || r.Omit[sdk.FieldStatus] {
			t.Errorf("line %d: %+v", r.Line, r)
		}
		got = append(got, r.UserType+"/"+r.Status)
	}
	if want := []string{"Full-Time/active", "Terminated/inactive", "Seasonal Intern/active", "/active"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if c := f.Columns[2]; c.Field != "user_type" || !strings.Contains(c.Note, "no Status column") || f.Column("status") != "Employment Status" {
		t.Fatalf("column %+v", c)
	}
	// With Status, Employment Status is the type alone.
	f, err = Read(strings.NewReader("Work Email,Employment Status,Status\na@x.test,Terminated,Active\n"), CSV, ReadOptions{Source: SourceBambooHR})
	if err != nil || f.Records[0].Status != "active" || f.Records[0].UserType != "Terminated" {
		t.Fatalf("with Status: %+v, %v", f.Records, err)
	}
}

func TestDisplayNames(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		display  string
		carried  bool
	}{
		// Generic files keep what they did: a preferred name is the nickname.
		{"generic preferred name", "email,First Name,Last Name,Preferred Name\na@x.test,Robert,Roe,Bob\n", "", false},
		{"generic preferred last name", "email,First Name,Last Name,Preferred Last Name\na@x.test,Robert,Roe,Rowe\n", "Robert Rowe", true},
		{"display column wins", "email,Legal_First_Name,Preferred_First_Name,Display_Name,Worker_Status\na@x.test,Robert,Bob,Bobby R,Active\n", "Bobby R", true},
		{"vendor, no preferred name", "Work email,Legal first name,Legal last name,Preferred first name,Personal email\na@x.test,Robert,Roe,,\n", "Robert Roe", true},
		{"vendor, preferred name", "Work email,Legal first name,Legal last name,Preferred first name,Personal email\na@x.test,Robert,Roe,Bob,\n", "Bob Roe", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(strings.NewReader(tc.in), CSV, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := f.Records[0]
			if r.DisplayName != tc.display || r.Omit[sdk.FieldDisplayName] == tc.carried || (f.DisplayName != "") != (tc.carried && !strings.Contains(tc.in, "Display_Name")) {
				t.Fatalf("display %q (omitted %v), file says %q", r.DisplayName, r.Omit[sdk.FieldDisplayName], f.DisplayName)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	in, err := os.Open("testdata/vendors/hibob.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f, err := Inspect(in, CSV, ReadOptions{})
	if err != nil || f.Source != SourceHiBob || len(f.Records) != 0 || len(f.Columns) != 12 || f.Columns[8].Field != "manager_name" {
		t.Fatalf("inspect: %+v, %v", f, err)
	}
	// Rows that would refuse the file do not stop an inspection.
	f, err = Inspect(strings.NewReader("email,x\na@x.test,1\na@x.test,2,3\n"), CSV, ReadOptions{})
	if err != nil || len(f.Columns) != 2 {
		t.Fatalf("inspect bad rows: %+v, %v", f, err)
	}
	f, err = Inspect(strings.NewReader(`{"Primary_Work_Email":"a@x.test","Legal_First_Name":"A"}`+"\n"+`{"Primary_Work_Email":"b@x.test","Worker_Status":"Active","Shoe":1}`+"\n"), JSONL, ReadOptions{})
	if err != nil || f.Source != SourceWorkday || len(f.Columns) != 4 || !slices.Equal(f.Unknown, []string{"Shoe"}) {
		t.Fatalf("inspect jsonl: %+v, %v", f, err)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   Source
	}{
		{"email,first name,last name", SourceGeneric},
		{"Employee ID,First Name,Last Name,Work Email,Department,Job Title,Manager Email,Employment Status,Cost Centre", SourceGeneric},
		{"Work Email,Supervisor", SourceGeneric},                              // one distinctive header is not enough
		{"Work Email,Supervisor,Supervisor EId", SourceBambooHR},              // two are
		{"Email,Legal first name,Legal last name", SourceGeneric},             // Workday and Rippling alike: a tie
		{"Email,Legal first name,Legal last name,Role state", SourceRippling}, // broken
		{"email,Reports to,Lifecycle status", SourceHiBob},
		{"email,Position,Office", SourcePersonio},
		{"", SourceGeneric},
	} {
		if got := Detect(strings.Split(tc.header, ",")); got != tc.want {
			t.Errorf("Detect(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

// TestProfiles checks the profiles' tables: every alias fills a field (or
// says why it does not), no header is listed twice, every detection
// header is normalised.
func TestProfiles(t *testing.T) {
	fields := Fields()
	for _, p := range profiles {
		seen := map[string]bool{}
		for _, a := range p.aliases {
			k := normalise(a.header)
			if seen[k] {
				t.Errorf("%s: %q listed twice", p.name, a.header)
			}
			seen[k] = true
			if a.field == "" && a.note == "" || a.field != "" && !slices.Contains(fields, a.field) {
				t.Errorf("%s: %q → %q (%q)", p.name, a.header, a.field, a.note)
			}
			if a.needs != "" && (a.unmet == "" || !slices.Contains(fields, a.needs)) {
				t.Errorf("%s: %q needs %q: %q", p.name, a.header, a.needs, a.unmet)
			}
		}
		for _, d := range p.detect {
			if d != normalise(d) {
				t.Errorf("%s: detection header %q is not normalised", p.name, d)
			}
		}
		if ParseSourceMust(t, string(p.source)) != p.source {
			t.Errorf("%s does not parse", p.source)
		}
	}
	if got := Sources(); len(got) != 6 || got[len(got)-1] != SourceGeneric {
		t.Errorf("Sources = %v", got)
	}
}

func ParseSourceMust(t *testing.T, s string) Source {
	t.Helper()
	src, err := ParseSource(s)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// FuzzDetect checks that no header row crashes detection or mapping, that
// detection always names a known source, and that mapping accounts for
// every column. Seeds are the vendor fixtures' headers.
func FuzzDetect(f *testing.F) {
	entries, _ := os.ReadDir("testdata/vendors")
	for _, e := range entries {
		in, err := os.Open("testdata/vendors/" + e.Name())
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(in)
		if sc.Scan() {
			f.Add(strings.TrimPrefix(sc.Text(), "\uFEFF"), "")
		}
		in.Close()
	}
	f.Add("Work Email,Supervisor,Supervisor EId,Supervisor ID,EID", "Supervisor=manager")
	f.Add(",,", "")
	f.Add("email;Position;Office", "Office=ignore")
	f.Fuzz(func(t *testing.T, header, mapping string) {
		cols := strings.Split(header, ",")
		src := Detect(cols)
		if !slices.Contains(Sources(), src) {
			t.Fatalf("Detect(%q) = %q", header, src)
		}
		m, err := ParseMap(mapping)
		if err != nil {
			return
		}
		file, err := Inspect(strings.NewReader(header+"\n"), CSV, ReadOptions{Map: m, Delimiter: ','})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		if len(file.Columns) == 0 || !slices.Contains(Sources(), file.Source) {
			t.Fatalf("inspect %q: %+v", header, file)
		}
		for _, c := range file.Columns {
			if (c.Field == "") == (c.Ignored == "") {
				t.Fatalf("column %q: field %q, ignored %q", c.Column, c.Field, c.Ignored)
			}
		}
	})
}
