package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/hrsync"
	"github.com/rosterhq/roster/sdk"
)

// vendorFile is the path of a vendor export fixture of hrsync.
func vendorFile(name string) string {
	return filepath.Join("..", "..", "hrsync", "testdata", "vendors", name)
}

// want is what a test expects of a member.
type want struct {
	given, family, nick, display, title, dept, userType, employeeNumber, externalID string
	manager                                                                         string // the manager's email
}

// TestSyncVendorExports imports an export of each HR system as the
// system writes it, checks the members it makes (names, titles, managers,
// statuses), and that an unchanged re-run writes nothing.
func TestSyncVendorExports(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file      string
		source    string // the report's "read as a … export"
		created   int
		unchanged int // rows that change nothing on the first run (leavers never members)
		blank     int
		members   map[string]want
		absent    []string // leavers: no member
		notes     map[string]sdk.Reason
		ignored   []string
	}{
		{
			file: "workday.csv", source: "Workday", created: 5, unchanged: 1,
			members: map[string]want{
				"maggie.hamilton@acme.test": {given: "Margaret", family: "Hamilton", nick: "Maggie", display: "Maggie Hamilton", title: "Chief Executive Officer",
					dept: "Executive Office", userType: "Employee", externalID: "21001"},
				"bob.noyce@acme.test": {given: "Robert", family: "Noyce", nick: "Bob", display: "Bob Noyce", title: "VP Engineering", dept: "Engineering",
					userType: "Employee", externalID: "21002", manager: "maggie.hamilton@acme.test"},
				"frances.allen@acme.test": {given: "Frances", family: "Allen", display: "Frances Allen", title: "Staff Engineer", dept: "Engineering",
					userType: "Employee", externalID: "21003", manager: "bob.noyce@acme.test"},
				"radia.perlman@acme.test": {given: "Radia", family: "Perlman", display: "Radia Perlman", title: "Network Architect, Principal", dept: "Engineering",
					userType: "Contingent Worker", externalID: "21005", manager: "bob.noyce@acme.test"},
				"barbara.liskov@acme.test": {given: "Barbara", family: "Liskov", nick: "Barb", display: "Barb Liskov-Huang", title: "Head of Research", dept: "Research",
					userType: "Employee", externalID: "21006", manager: "maggie.hamilton@acme.test"},
			},
			absent:  []string{"john.backus@acme.test"},
			ignored: []string{"Job_Profile", "Location"},
		},
		{
			file: "bamboohr.csv", source: "BambooHR", created: 11, unchanged: 1,
			members: map[string]want{
				"ada@acme.test": {given: "Ada", family: "Lovelace", display: "Ada Lovelace", title: "Chief Executive Officer", dept: "Executive",
					userType: "Full-Time", employeeNumber: "0001"},
				"charles@acme.test": {given: "Charles", family: "Babbage", nick: "Charlie", display: "Charlie Babbage", title: "CTO", dept: "Engineering",
					userType: "Full-Time", employeeNumber: "0002", manager: "ada@acme.test"},
				"grace@acme.test": {given: "Grace", family: "Hopper", display: "Grace Hopper", title: "Engineering Manager", dept: "Engineering",
					userType: "Full-Time", employeeNumber: "0003", manager: "charles@acme.test"},
				"katherine@acme.test": {given: "Katherine", family: "Johnson", nick: "Kat", display: "Kat Johnson", title: "Data Scientist", dept: "Research",
					userType: "Part-Time", employeeNumber: "0005", manager: "grace@acme.test"},
				"claude@acme.test": {given: "Claude", family: "Shannon", display: "Claude Shannon", title: "Research Engineer", dept: "Research",
					userType: "Full-Time", employeeNumber: "0010", manager: "donald@acme.test"},
			},
			absent:  []string{"edsger@acme.test"},
			ignored: []string{"Location", "Supervisor EId", "Hire Date"},
		},
		{
			file: "bamboohr_excel.csv", source: "BambooHR", created: 11, unchanged: 1, blank: 3,
			members: map[string]want{
				"tim@acme.test": {given: "Tim", family: "Berners-Lee", display: "Tim Berners-Lee", title: "Web Engineer", dept: "Engineering",
					userType: "Full-Time", employeeNumber: "0011", manager: "alan@acme.test"},
			},
			absent:  []string{"edsger@acme.test", ""},
			ignored: []string{"Location", "Supervisor EId", "Hire Date"},
		},
		{
			file: "hibob.csv", source: "HiBob", created: 10, unchanged: 1,
			members: map[string]want{
				"jon@acme.test": {given: "Jonathan", family: "Levi", display: "Jon Levi", title: "CTO", dept: "R&D", userType: "Permanent", externalID: "102",
					manager: "noa@acme.test"},
				"dani@acme.test": {given: "Daniel", family: "Katz", display: "Dani Katz", title: "Software Engineer", dept: "R&D", userType: "Permanent",
					externalID: "106", manager: "jon@acme.test"},
				"omer@acme.test": {given: "Omer", family: "Peretz", display: "Omer Peretz", title: "Account Executive", dept: "Sales", userType: "Permanent",
					externalID: "108"}, // "Sam Lee" is two people
				"lior@acme.test": {given: "Lior", family: "Ben-David", display: "Lior Ben-David", title: "Support Engineer", dept: "Support", userType: "Permanent",
					externalID: "111"}, // "Ruth Former" is nobody
			},
			absent:  []string{"yael@acme.test"},
			notes:   map[string]sdk.Reason{"omer@acme.test": sdk.ReasonManagerNameAmbiguous, "lior@acme.test": sdk.ReasonManagerNameUnknown},
			ignored: []string{"Site", "Start date"},
		},
		{
			file: "personio.csv", source: "Personio", created: 5, unchanged: 1, blank: 1,
			members: map[string]want{
				"anna.schmidt@acme.test": {given: "Anna", family: "Schmidt", nick: "Anni", display: "Anni Schmidt", title: "Head of Engineering", dept: "Engineering",
					userType: "internal", externalID: "1002", manager: "klaus.mueller@acme.test"},
				"juergen.weber@acme.test": {given: "Jürgen", family: "Weber", display: "Jürgen Weber", title: "Backend Developer", dept: "Engineering",
					userType: "internal", externalID: "1003", manager: "anna.schmidt@acme.test"},
				"sophie.becker@acme.test": {given: "Sophie", family: "Becker", display: "Sophie Becker", title: "Werkstudentin", dept: "Engineering",
					userType: "external", externalID: "1006", manager: "anna.schmidt@acme.test"},
			},
			absent:  []string{"tobias.wagner@acme.test"},
			ignored: []string{"Office", "Hire date", "Weekly hours"},
		},
		{
			file: "rippling.csv", source: "Rippling", created: 4, unchanged: 1,
			members: map[string]want{
				"liz@acme.test": {given: "Elizabeth", family: "Warren", nick: "Liz", display: "Liz Warren", title: "Chief Executive Officer", dept: "Executive",
					userType: "Salaried FT", externalID: "R-001"},
				"pepe@acme.test": {given: "José", family: "García", nick: "Pepe", display: "Pepe García López", title: "Software Engineer", dept: "Engineering",
					userType: "Hourly PT", externalID: "R-004", manager: "michael.chen@acme.test"},
			},
			absent:  []string{"olivia.brown@acme.test", "mchen@yahoo.example"},
			ignored: []string{"Personal email", "Work location", "Start date"},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data := "--data=" + filepath.Join(t.TempDir(), "data")
			mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "owner@acme.test", "--seats", "50", data)
			file := vendorFile(tc.file)

			r := roster(t, nil, "sync", "--tenant", "acme", "--file", file, "--json", data)
			s := summary(t, r)
			if r.code != 0 || s.Created != tc.created || s.Unchanged != tc.unchanged || s.Failed != 0 {
				t.Fatalf("first load: %+v\n%s", s, r)
			}
			var extra struct {
				Source    hrsync.Source `json:"source"`
				BlankRows int           `json:"blankRows"`
				Ignored   []string      `json:"ignored"`
			}
			_ = json.Unmarshal([]byte(r.stdout), &extra)
			if extra.Source.Name() != tc.source || extra.BlankRows != tc.blank || !slices.Equal(extra.Ignored, tc.ignored) {
				t.Errorf("--json: source %q, %d blank rows, ignored %v", extra.Source, extra.BlankRows, extra.Ignored)
			}
			for _, line := range []string{": read as a " + tc.source + " export (detected from its header; --source sets it)",
				": ignored columns: " + strings.Join(tc.ignored, ", ")} {
				if !strings.Contains(r.stderr, line) {
					t.Errorf("stderr lacks %q:\n%s", line, r.stderr)
				}
			}
			if tc.blank > 0 && !strings.Contains(r.stderr, fmt.Sprintf("skipped %d blank row(s)", tc.blank)) {
				t.Errorf("blank rows not reported:\n%s", r.stderr)
			}
			notes := map[string]sdk.Reason{}
			for _, n := range s.Notes {
				notes[n.Key] = n.Reason
				if !strings.HasPrefix(n.Message, `column "Reports to": "`) { // named as the file names it
					t.Errorf("note %+v", n)
				}
			}
			if len(notes) != len(tc.notes) {
				t.Errorf("notes = %+v, want %v", s.Notes, tc.notes)
			}
			for k, reason := range tc.notes {
				if notes[k] != reason {
					t.Errorf("note of %s: %q, want %q (%+v)", k, notes[k], reason, s.Notes)
				}
			}

			ms := members(t, nil, data, "acme")
			if len(ms) != tc.created+1 {
				t.Errorf("%d members, want %d", len(ms), tc.created+1)
			}
			emailOf := map[string]string{}
			for _, m := range ms {
				emailOf[m.ID] = m.Email
				if m.Status != sdk.StatusActive {
					t.Errorf("%s is %s", m.Email, m.Status)
				}
			}
			for email, w := range tc.members {
				m, ok := ms[email]
				if !ok {
					t.Errorf("no member %s", email)
					continue
				}
				got := want{given: m.GivenName, family: m.FamilyName, nick: m.NickName, display: m.DisplayName, title: m.Title, dept: m.Department,
					userType: m.UserType, employeeNumber: m.EmployeeNumber, externalID: m.ExternalID, manager: emailOf[m.ManagerID]}
				if got != w {
					t.Errorf("%s:\n got  %+v\n want %+v", email, got, w)
				}
			}
			for _, email := range tc.absent {
				if _, ok := ms[email]; ok {
					t.Errorf("%q is a member", email)
				}
			}

			// The nightly re-run of the same export writes nothing.
			r = roster(t, nil, "sync", "--tenant", "acme", "--file", file, "--json", data)
			s = summary(t, r)
			if r.code != 0 || s.Created+s.Updated+s.Deactivated+s.Reactivated+s.Deleted != 0 || s.Unchanged != tc.created+tc.unchanged {
				t.Errorf("unchanged re-run: %+v\n%s", s, r)
			}
			r = roster(t, nil, "sync", "--tenant", "acme", "--file", file, data)
			if r.code != 0 || !regexp.MustCompile(`\(0 write\(s\)\)`).MatchString(r.stderr) {
				t.Errorf("unchanged re-run wrote:\n%s", r)
			}
		})
	}
}

// TestSyncShowMapping prints how a file's columns are read, writes
// nothing, and takes --map and --status-map into account.
func TestSyncShowMapping(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "owner@acme.test", data)
	workday := vendorFile("workday.csv")

	r := roster(t, nil, "sync", "--tenant", "acme", "--file", workday, "--show-mapping", data)
	if r.code != 0 {
		t.Fatalf("show-mapping: %s", r)
	}
	for _, re := range []string{
		`^.*workday.csv: read as a Workday export \(detected from its header; --source sets it\), comma-separated\n`,
		`(?m)^  COLUMN\s+READ AS\s+NOTE$`,
		`(?m)^  Primary_Work_Email\s+email\s*$`,
		`(?m)^  Legal_First_Name\s+given_name\s*$`,
		`(?m)^  Manager_Employee_ID\s+manager\s+the manager's Employee_ID$`,
		`(?m)^  Job_Profile\s+ignored\s+title is read from column "Business_Title"$`,
		`(?m)^  Location\s+ignored\s+a work site`,
		`(?m)^The display name is composed of "Preferred_First_Name", else "Legal_First_Name", then "Preferred_Last_Name", else "Legal_Last_Name"\.$`,
		`(?m)^  active\s+.*On leave`,
		`(?m)^  deactivated\s+.*Terminated`,
		`(?m)^Fields a column can be mapped to .*manager_name`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("show-mapping lacks %s:\n%s", re, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "Nothing was synced (--show-mapping).") || strings.Contains(r.stderr, "Synced") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if ms := members(t, nil, data, "acme"); len(ms) != 1 {
		t.Fatalf("--show-mapping wrote: %v", ms)
	}

	// As JSON, with mappings: --map wins over the profile, and a file too
	// broken to sync still shows its columns.
	broken := writeFile(t, dir, "broken.csv", "Employee_ID,Primary_Work_Email,Personal_Email,Worker_Status\n1,a@x.test,a@home.test,Active\n1,a@x.test,,Sabbatical,extra\n")
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", broken, "--show-mapping", "--json", "--source", "workday",
		"--map", "Personal_Email=email", "--status-map", "Sabbatical=inactive", data)
	var j mappingJSON
	if err := json.Unmarshal([]byte(r.stdout), &j); r.code != 0 || err != nil {
		t.Fatalf("show-mapping --json: %v\n%s", err, r)
	}
	if j.Source != hrsync.SourceWorkday || j.Detected || j.Delimiter != "," || len(j.Columns) != 4 ||
		j.Columns[2] != (hrsync.ColumnMapping{Column: "Personal_Email", Field: "email", Via: "map"}) ||
		j.Columns[1].Field != "" || !strings.Contains(j.Columns[1].Ignored, `email is read from column "Personal_Email"`) ||
		!slices.Equal(j.Ignored, []string{"Primary_Work_Email"}) || !slices.Contains(j.Statuses["inactive"], "Sabbatical") || !slices.Contains(j.Fields, "manager_name") {
		t.Errorf("show-mapping --json: %+v", j)
	}
}

// TestSyncMappingFlags checks the flags' values before anything is read:
// a file that does not exist is never opened.
func TestSyncMappingFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	nope := filepath.Join(dir, "nope.csv")
	contradicting := writeFile(t, dir, "ours.map", "# our report\nLogin = email\nMail=email\n")
	ok := writeFile(t, dir, "ok.map", "Login=email\n")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--source", "sap"}, `--source "sap": use bamboohr, workday, hibob, personio, rippling or generic`},
		{[]string{"--map", "Pay=salary"}, `--map: "salary" is not a field; the fields are external_id, email, user_name,`},
		{[]string{"--map", "Pay=salary"}, `manager, manager_name, preferred_family_name, role, status, custom.NAME (a custom attribute of the tenant) or ignore`},
		{[]string{"--map", "Login=email,Mail=email"}, `columns "Login" (--map) and "Mail" (--map) are both mapped to email, which takes one column`},
		{[]string{"--map", "Login=email,login=user_name"}, `column "login" is mapped to email (--map) and to user_name (--map); map it once`},
		{[]string{"--map", "Login"}, `--map: "Login" is not Their Column=field`},
		{[]string{"--map-file", contradicting}, `columns "Login" (` + contradicting + `:2) and "Mail" (` + contradicting + `:3) are both mapped to email`},
		{[]string{"--map-file", ok, "--map", "Mail=email"}, `columns "Login" (` + ok + `:1) and "Mail" (--map) are both mapped to email`},
		{[]string{"--status-map", "Sabbatical=maybe"}, `--status-map: status mapping "Sabbatical=maybe": "maybe" is not a meaning; use active, inactive or ignore`},
		{[]string{"--status-map", "Leave=active,leave=inactive"}, `--status-map: status "leave" is mapped to both active and inactive`},
	} {
		r := roster(t, nil, append([]string{"sync", "--tenant", "acme", "--file", nope, data}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.msg) || strings.Contains(r.stderr, "cannot read "+nope) {
			t.Errorf("sync %v: want exit 2 and %q\n%s", tc.args, tc.msg, r)
		}
	}
	r := roster(t, nil, "sync", "--tenant", "acme", "--file", nope, "--map-file", filepath.Join(dir, "missing.map"), data)
	if r.code != 1 || !strings.Contains(r.stderr, "cannot read the mapping file") {
		t.Errorf("missing map file: %s", r)
	}

	// Mappings that need the tenant or the header are checked once they
	// are known, still before any row is read.
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "owner@acme.test", data)
	people := writeFile(t, dir, "people.csv", "Login,Tier\nann@acme.test,3\n")
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", people, "--map", "Login=email,Tier=custom.level", data)
	if r.code != 2 || !strings.Contains(r.stderr, `"level" is not a custom attribute of the tenant (its custom attributes: none)`) {
		t.Errorf("unknown custom attribute: %s", r)
	}
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", people, "--map", "Login=email,Level=title", data)
	if r.code != 1 || !strings.Contains(r.stderr, `line 1: --map names column "Level", which the file does not have; its columns are "Login", "Tier"; nothing was written`) {
		t.Errorf("a mapped column the file lacks: %s", r)
	}
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", people, "--map", "Login=email,Tier=ignore", "--json", data)
	if s := summary(t, r); r.code != 0 || s.Created != 1 || !strings.Contains(r.stderr, `column "Tier" ignored: ignored as --map says`) {
		t.Errorf("mapped: %+v\n%s", s, r)
	}
}

// TestSyncStatusesAndColumns: an unknown status fails its row alone,
// naming the column and --status-map; a file without an email column
// lists its columns and shows --map.
func TestSyncStatusesAndColumns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "owner@acme.test", data)
	people := writeFile(t, dir, "people.csv", "Work Email,Employee Status\nann@acme.test,Active\nbob@acme.test,Sabbatical\ncy@acme.test,Full-Time\ndee@acme.test,Deferred\n,,\n")
	r := roster(t, nil, "sync", "--tenant", "acme", "--file", people, "--json", data)
	s := summary(t, r)
	if r.code != 1 || s.Created != 3 || s.Failed != 1 || s.Failures[0].Line != 5 ||
		s.Failures[0].Message != `column "Employee Status": unknown status "Deferred"; map it with --status-map 'Deferred=active' (or =inactive, or =ignore to leave the status as it is)` {
		t.Fatalf("unknown status: %+v\n%s", s, r)
	}
	if !strings.Contains(r.stderr, "skipped 1 blank row(s)") || !strings.Contains(r.stderr, "1 of 4 record(s) failed") {
		t.Errorf("stderr: %s", r.stderr)
	}
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", people, "--status-map", "Deferred=inactive", "--json", data)
	if s := summary(t, r); r.code != 0 || s.Failed != 0 || s.Unchanged != 4 {
		t.Errorf("with --status-map: %+v\n%s", s, r)
	}
	// Active, Sabbatical and Full-Time people are members; Deferred is not.
	ms := members(t, nil, data, "acme")
	if len(ms) != 4 || ms["bob@acme.test"].Status != sdk.StatusActive || ms["cy@acme.test"].Status != sdk.StatusActive {
		t.Errorf("members: %+v", ms)
	}

	noEmail := writeFile(t, dir, "export.csv", "Person,Full Name,Team\n1,Ann,Eng\n")
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", noEmail, data)
	for _, part := range []string{"line 1 (email): the header has no email column", `the columns found are "Person", "Full Name", "Team"`,
		"say so with --map 'Their Email Column=email'; nothing was written"} {
		if r.code != 1 || !strings.Contains(r.stderr, part) {
			t.Errorf("no email column: want %q\n%s", part, r)
		}
	}
	// The same file, mapped.
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", noEmail, "--map", "Person=external_id", data)
	if r.code != 1 || !strings.Contains(r.stderr, "no email column") {
		t.Errorf("mapped without email: %s", r)
	}
	if err := os.WriteFile(noEmail, []byte("Person,Mail,Team\n1,eve@acme.test,Eng\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", noEmail, "--map", "Mail=email", "--json", data)
	if s := summary(t, r); r.code != 0 || s.Created != 1 {
		t.Errorf("mapped email: %+v\n%s", s, r)
	}
}
