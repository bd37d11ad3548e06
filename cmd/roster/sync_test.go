package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// summary decodes the --json report of a sync.
func summary(t *testing.T, r result) sdk.SyncSummary {
	t.Helper()
	var s sdk.SyncSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("sync --json: %v\n%s", err, r)
	}
	// Stable keys, not just the struct's: scripts read them.
	var raw map[string]any
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	for _, k := range []string{"created", "updated", "deactivated", "reactivated", "deleted", "unchanged", "failed", "failures", "ignored"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("sync --json lacks key %q:\n%s", k, r.stdout)
		}
	}
	return s
}

func members(t *testing.T, env map[string]string, data, slug string) map[string]sdk.Member {
	t.Helper()
	r := mustRun(t, env, "member", "list", "--tenant", slug, "--json", data)
	var ms []sdk.Member
	if err := json.Unmarshal([]byte(r.stdout), &ms); err != nil {
		t.Fatal(err)
	}
	out := map[string]sdk.Member{}
	for _, m := range ms {
		out[m.Email] = m
	}
	return out
}

const peopleCSV = `Employee ID,Work Email,First Name,Last Name,Job Title,Dept,Manager Email,Favourite Colour
E1,bob@acme.test,Bob,Baker,Engineer,Eng,,blue
E2,cy@acme.test,Cy,Cole,Engineer,Eng,bob@acme.test,green
E3,dee@acme.test,Dee,Dunn,Designer,Design,E1,
`

func TestSync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "5", data)
	people := writeFile(t, dir, "people.csv", peopleCSV)
	sync := func(args ...string) result {
		return roster(t, nil, append([]string{"sync", "--tenant", "acme", "--file", people, data}, args...)...)
	}

	// A dry run reports and writes nothing.
	r := sync("--dry-run", "--json")
	if r.code != 0 {
		t.Fatalf("dry run: %s", r)
	}
	if s := summary(t, r); !s.DryRun || s.Created != 3 || s.Failed != 0 {
		t.Errorf("dry run summary: %+v", s)
	}
	if !strings.Contains(r.stderr, "ignored columns: Favourite Colour") {
		t.Errorf("unknown column not reported:\n%s", r.stderr)
	}
	if ms := members(t, nil, data, "acme"); len(ms) != 1 {
		t.Fatalf("the dry run wrote: %v", ms)
	}

	// Applying creates the members, with their aliased columns.
	r = sync()
	if r.code != 0 {
		t.Fatalf("apply: %s", r)
	}
	if r.stdout != "" {
		t.Errorf("apply without --json wrote to stdout: %q", r.stdout)
	}
	for _, re := range []string{`Synced .*people.csv into tenant "acme"`, `(?m)^  created\s+3$`, `(?m)^  unchanged\s+0$`, `(?m)^  failed\s+0$`} {
		if !regexp.MustCompile(re).MatchString(r.stderr) {
			t.Errorf("human report lacks %s:\n%s", re, r.stderr)
		}
	}
	ms := members(t, nil, data, "acme")
	if len(ms) != 4 || ms["cy@acme.test"].Title != "Engineer" || ms["cy@acme.test"].ExternalID != "E2" ||
		ms["cy@acme.test"].ManagerID != ms["bob@acme.test"].ID || ms["dee@acme.test"].ManagerID != ms["bob@acme.test"].ID {
		t.Errorf("after apply: %+v", ms)
	}

	// Re-running the unchanged file writes nothing.
	r = sync("--json")
	if s := summary(t, r); r.code != 0 || s.Created != 0 || s.Updated != 0 || s.Unchanged != 3 {
		t.Errorf("unchanged re-run: %+v\n%s", s, r)
	}

	// A malformed file names its line and column and writes nothing.
	bad := writeFile(t, dir, "bad.csv", "email,given_name,status\neve@acme.test,Eve,active\nfay@acme.test,Fay,active,extra\n")
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", bad, data)
	wantFail(t, r, bad+`: line 3, column 26: the row has 4 fields but the header has 3`)
	if r.code != 1 || !strings.Contains(r.stderr, "nothing was written") {
		t.Errorf("malformed file: %s", r)
	}
	quote := writeFile(t, dir, "quote.csv", "email,given_name\neve@acme.test,Eve\nfay@acme.test,\"Fay\"x\n")
	wantFail(t, roster(t, nil, "sync", "--tenant", "acme", "--file", quote, data), "line 3, column ")
	dup := writeFile(t, dir, "dup.jsonl", `{"email":"eve@acme.test"}`+"\n"+`{"email":"EVE@acme.test"}`+"\n")
	wantFail(t, roster(t, nil, "sync", "--tenant", "acme", "--file", dup, data), "line 2, column 2 (email): email EVE@acme.test is already on line 1")
	cycle := writeFile(t, dir, "cycle.csv", "email,manager\neve@acme.test,fay@acme.test\nfay@acme.test,eve@acme.test\n")
	wantFail(t, roster(t, nil, "sync", "--tenant", "acme", "--file", cycle, data), "managers form a cycle: eve@acme.test (line 2)")
	if ms := members(t, nil, data, "acme"); len(ms) != 4 {
		t.Fatalf("a refused file wrote: %v", ms)
	}

	// A failing row fails alone, and the exit status says so.
	rows := writeFile(t, dir, "rows.txt", `{"email":"eve@acme.test","given_name":"Eve","role":"admin"}
{"email":"not-an-email"}
{"email":"gus@acme.test","role":"wizard"}
`)
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", rows, "--format", "jsonl", "--json", data)
	s := summary(t, r)
	if r.code != 1 || s.Created != 1 || s.Failed != 2 || len(s.Failures) != 2 || s.Failures[0].Line != 2 || s.Failures[1].Line != 3 ||
		s.Failures[1].Reason != sdk.ReasonUnknownRole {
		t.Errorf("failing rows: %+v\n%s", s, r)
	}
	if !strings.Contains(r.stderr, "2 of 3 record(s) failed") {
		t.Errorf("failing rows, stderr:\n%s", r.stderr)
	}
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", rows, "--format", "JSONL", data)
	if r.code != 1 || !regexp.MustCompile(`line 3\s+gus@acme.test\s+unknown_role\s+`).MatchString(r.stderr) {
		t.Errorf("human report of failures:\n%s", r)
	}

	// Deprovisioning deactivates the members absent from the file, never
	// the owner.
	leavers := writeFile(t, dir, "leavers.csv", "Employee ID,Work Email\nE1,bob@acme.test\nE2,cy@acme.test\n")
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", leavers, "--deprovision", "deactivate", "--json", data)
	s = summary(t, r)
	if r.code != 0 || s.Deactivated != 2 || s.Skipped != 1 || s.Skips[0].Key != "ann@acme.test" {
		t.Errorf("deprovision: %+v\n%s", s, r)
	}
	ms = members(t, nil, data, "acme")
	if ms["dee@acme.test"].Status != sdk.StatusDeactivated || ms["eve@acme.test"].Status != sdk.StatusDeactivated ||
		ms["ann@acme.test"].Status != sdk.StatusActive || ms["dee@acme.test"].Title != "Designer" {
		t.Errorf("after deprovision: %+v", ms)
	}
}

func TestParseMaxDeprovision(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want sdk.SyncOptions
	}{
		{"", sdk.SyncOptions{}},
		{"200", sdk.SyncOptions{MaxDeprovision: 200}},
		{" 7 ", sdk.SyncOptions{MaxDeprovision: 7}},
		{"0", sdk.SyncOptions{MaxDeprovision: -1}},
		{"5%", sdk.SyncOptions{MaxDeprovisionPercent: 5}},
		{"2.5%", sdk.SyncOptions{MaxDeprovisionPercent: 2.5}},
		{"100%", sdk.SyncOptions{MaxDeprovisionPercent: 100}},
		{"0%", sdk.SyncOptions{MaxDeprovision: -1}},
	} {
		got, err := parseMaxDeprovision(tc.in)
		if err != nil || got.MaxDeprovision != tc.want.MaxDeprovision || got.MaxDeprovisionPercent != tc.want.MaxDeprovisionPercent {
			t.Errorf("parseMaxDeprovision(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"x", "-1", "1.5", "%", "101%", "-1%", "NaN%", "Inf%"} {
		if _, err := parseMaxDeprovision(in); err == nil {
			t.Errorf("parseMaxDeprovision(%q) accepted", in)
		}
	}
}

func TestSyncUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	people := writeFile(t, dir, "people.csv", peopleCSV)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--file", people}, 2, `required flag(s) "tenant" not set`},
		{[]string{"--tenant", "acme"}, 2, `required flag(s) "file" not set`},
		{[]string{"--tenant", "acme", "--file", people, "--format", "xml"}, 2, `--format "xml": use csv or jsonl`},
		{[]string{"--tenant", "acme", "--file", people, "--deprovision", "fire"}, 2, `--deprovision "fire": use none, deactivate or delete`},
		{[]string{"--tenant", "acme", "--file", people, "--max-deprovision", "5x"}, 2, `--max-deprovision "5x": use a number of members (200) or a percentage from 0% to 100% of the tenant's members (5%)`},
		{[]string{"--tenant", "acme", "--file", people, "--max-deprovision", "-1"}, 2, `--max-deprovision "-1": use a number of members`},
		{[]string{"--tenant", "acme", "--file", people, "--max-deprovision", "101%"}, 2, `--max-deprovision "101%": use a number of members`},
		{[]string{"--tenant", "acme", "--file", people, "--max-deprovision", "NaN%"}, 2, `--max-deprovision "NaN%": use a number of members`},
		{[]string{"--tenant", "acme", "--file", people, "--delimiter", "ab"}, 2, `--delimiter "ab": it is not one character; use one character, or comma, semicolon, tab (or \t) or pipe`},
		{[]string{"--tenant", "acme", "--file", people, "--delimiter", `"`}, 2, `--delimiter "\"": it is the quote character; use one character`},
		{[]string{"--tenant", "acme", "--file", filepath.Join(dir, "nope.csv")}, 1, "cannot read " + filepath.Join(dir, "nope.csv") + ": no such file or directory"},
		{[]string{"--tenant", "acme", "--file", people}, 1, "does not exist"},
	} {
		r := roster(t, nil, append(append([]string{"sync"}, tc.args...), data)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("sync %v: want exit %d and %q\n%s", tc.args, tc.code, tc.msg, r)
		}
	}
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", data)
	wantFail(t, roster(t, nil, "sync", "--tenant", "nope", "--file", people, data), `no tenant with slug "nope"`)
}

// TestSyncProgress checks that the progress bar is drawn on a terminal
// and nowhere else.
func TestSyncProgress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", data)
	people := writeFile(t, dir, "people.csv", peopleCSV)
	var out, errb syncBuffer
	a := &app{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, isTerminal: func(io.Writer) bool { return true }}
	if code := run(t.Context(), []string{"sync", "--tenant", "acme", "--file", people, data}, a); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "planning") || !strings.Contains(errb.String(), "(0/3)") || strings.Contains(out.String(), "planning") {
		t.Errorf("no progress bar on a terminal:\nstdout: %q\nstderr: %q", out.String(), errb.String())
	}
	// stdout redirected (a report into a file), stderr on the screen.
	var out2, errb2 syncBuffer
	a = &app{stdout: &out2, stderr: &errb2, getenv: func(string) string { return "" }, isTerminal: func(w io.Writer) bool { return w == &errb2 }}
	if code := run(t.Context(), []string{"sync", "--tenant", "acme", "--file", people, "--json", data}, a); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb2.String())
	}
	if !strings.Contains(errb2.String(), "planning") || strings.Contains(out2.String(), "planning") {
		t.Errorf("no progress bar on stderr with stdout redirected:\nstdout: %q\nstderr: %q", out2.String(), errb2.String())
	}
	r := mustRun(t, nil, "sync", "--tenant", "acme", "--file", people, "--dry-run", data)
	if strings.Contains(r.stderr, "planning") || strings.Contains(r.stderr, "reading members") {
		t.Errorf("progress bar drawn when not on a terminal:\n%s", r.stderr)
	}
}

// TestSyncProfileColumns syncs a file with the profile's columns and a
// custom attribute, on a store shared with the test.
func TestSyncProfileColumns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := memstore.New()
	c := sdk.New(st)
	tn, _, err := c.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 5,
		Settings: sdk.Settings{CustomAttributes: []sdk.CustomAttribute{{Name: "level", Type: sdk.CustomInteger}}}})
	if err != nil {
		t.Fatal(err)
	}
	people := writeFile(t, dir, "people.csv", "Employee ID,Work Email,User Name,Employee Number,Cost Center,Mobile Phone,Work Phone,City,Zip,Country,Time Zone,Level,Favourite Colour\n"+
		"E1,bob@acme.test,bob.b@login.acme.test,0001,CC-9,+1 555 0199,,Springfield,62701,US,America/Chicago,3,blue\n"+
		"E2,cy@acme.test,,0002,CC-9,,+1 555 0102,,,GB,Europe/London,4,green\n")
	audits := func() int {
		p, err := c.AuditLog(t.Context(), sdk.SystemActor(), tn.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Items)
	}

	r := rosterOn(t, st, "sync", "--tenant", "acme", "--file", people, "--json")
	s := summary(t, r)
	var raw struct {
		Ignored []string `json:"ignored"`
	}
	_ = json.Unmarshal([]byte(r.stdout), &raw)
	if r.code != 0 || s.Created != 2 || !slices.Equal(raw.Ignored, []string{"Favourite Colour"}) || !strings.Contains(r.stderr, "ignored columns: Favourite Colour") {
		t.Fatalf("first load: %+v ignored %v\n%s", s, raw.Ignored, r)
	}
	bob, err := c.MemberByEmail(t.Context(), tn.ID, "bob@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	if bob.UserName != "bob.b@login.acme.test" || bob.EmployeeNumber != "0001" || bob.CostCenter != "CC-9" || bob.Timezone != "America/Chicago" ||
		!slices.Equal(bob.PhoneNumbers, []sdk.PhoneNumber{{Value: "+1 555 0199", Type: "mobile"}}) ||
		!slices.Equal(bob.Addresses, []sdk.Address{{Locality: "Springfield", PostalCode: "62701", Country: "US", Type: "work"}}) ||
		bob.Custom["level"] != "3" {
		t.Fatalf("bob = %+v", bob)
	}

	// Unchanged: nothing written, no event.
	events := audits()
	r = rosterOn(t, st, "sync", "--tenant", "acme", "--file", people, "--json")
	if s := summary(t, r); r.code != 0 || s.Unchanged != 2 || s.Created+s.Updated != 0 || audits() != events {
		t.Fatalf("unchanged re-run: %+v, %d events\n%s", s, audits()-events, r)
	}

	// A bad value fails its row, naming the file's column, in both reports.
	bad := writeFile(t, dir, "bad.csv", "Work Email,Level,Cost Centre\nbob@acme.test,ten,CC-9\ncy@acme.test,4,"+strings.Repeat("x", 300)+"\n")
	r = rosterOn(t, st, "sync", "--tenant", "acme", "--file", bad, "--json")
	s = summary(t, r)
	if r.code != 1 || s.Failed != 2 || s.Failures[0].Field != "custom.level" || s.Failures[0].Message != `column "Level": "ten" is not an integer` ||
		s.Failures[1].Field != "costCenter" || !strings.HasPrefix(s.Failures[1].Message, `column "Cost Centre": must be at most 256 bytes`) {
		t.Fatalf("bad values: %+v\n%s", s, r)
	}
	r = rosterOn(t, st, "sync", "--tenant", "acme", "--file", bad)
	if r.code != 1 || !regexp.MustCompile(`line 2\s+bob@acme.test\s+invalid\s+column "Level": "ten" is not an integer`).MatchString(r.stderr) {
		t.Fatalf("human report:\n%s", r)
	}
	jsonl := writeFile(t, dir, "bad.jsonl", `{"email":"bob@acme.test","level":"ten","mobile":"`+strings.Repeat("5", 70)+`"}`+"\n")
	r = rosterOn(t, st, "sync", "--tenant", "acme", "--file", jsonl, "--json")
	if s := summary(t, r); r.code != 1 || s.Failed != 1 || !strings.HasPrefix(s.Failures[0].Message, `key "mobile": must be at most 64 bytes`) {
		t.Fatalf("jsonl: %+v\n%s", s, r)
	}
	if audits() != events {
		t.Fatal("failed rows wrote events")
	}
}

// TestSyncDelimiter reads a semicolon file with the delimiter given, and
// detected.
func TestSyncDelimiter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", data)
	semi := writeFile(t, dir, "semi.csv", "email;given_name\nbob@acme.test;Bob\n")
	for _, d := range []string{";", "semicolon", ""} {
		r := roster(t, nil, "sync", "--tenant", "acme", "--file", semi, "--delimiter", d, "--dry-run", "--json", data)
		if s := summary(t, r); r.code != 0 || s.Created != 1 {
			t.Errorf("--delimiter %q: %+v\n%s", d, s, r)
		}
	}
	// The wrong delimiter given finds no email column.
	if r := roster(t, nil, "sync", "--tenant", "acme", "--file", semi, "--delimiter", "tab", data); r.code != 1 || !strings.Contains(r.stderr, "nothing was written") {
		t.Errorf("--delimiter tab on a semicolon file: %s", r)
	}
}

// TestSyncSaysHowItRead checks that the report says when the reader chose
// the format or the delimiter, and that --delimiter is refused where it
// could not be used.
func TestSyncSaysHowItRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", data)
	semi := writeFile(t, dir, "semi.csv", "email;given_name\nbob@acme.test;Bob\n")
	if r := roster(t, nil, "sync", "--tenant", "acme", "--file", semi, "--dry-run", data); r.code != 0 || !strings.Contains(r.stderr, "read as semicolon-separated") {
		t.Errorf("a detected semicolon: %s", r)
	}
	if r := roster(t, nil, "sync", "--tenant", "acme", "--file", semi, "--delimiter", ";", "--dry-run", data); r.code != 0 || strings.Contains(r.stderr, "read as") {
		t.Errorf("a delimiter given: the report should not say it was detected: %s", r)
	}
	jsonl := writeFile(t, dir, "people.csv", `{"email":"carl@acme.test","given_name":"Carl"}`+"\n")
	if r := roster(t, nil, "sync", "--tenant", "acme", "--file", jsonl, "--dry-run", "--json", data); r.code != 0 || summary(t, r).Created != 1 || !strings.Contains(r.stderr, "read as JSON Lines") {
		t.Errorf("JSON Lines named .csv: %s", r)
	}
	if r := roster(t, nil, "sync", "--tenant", "acme", "--file", jsonl, "--format", "jsonl", "--delimiter", ";", data); r.code != 2 || !strings.Contains(r.stderr, "a JSON Lines file has no delimiter") {
		t.Errorf("--delimiter with --format jsonl: %s", r)
	}
}
