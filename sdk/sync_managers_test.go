package sdk_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// person is a record of the manager tests: line, external id, given and
// family name, employee number; its email follows from the external id.
func person(line int, ext, given, family, empNo string) sdk.SyncRecord {
	return sdk.SyncRecord{Line: line, Email: strings.ToLower(ext) + "@corp.test",
		Profile: sdk.Profile{ExternalID: ext, GivenName: given, FamilyName: family, EmployeeNumber: empNo}}
}

// syncOK runs a sync that must not fail as a whole.
func syncOK(t *testing.T, w *world, recs []sdk.SyncRecord, opts sdk.SyncOptions) *sdk.SyncReport {
	t.Helper()
	rep, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, recs, opts)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return rep
}

// byExt returns the member with external id ext.
func byExt(t *testing.T, w *world, ext string) *sdk.Member {
	t.Helper()
	m, err := w.c.MemberByExternalID(t.Context(), w.t.ID, ext)
	if err != nil {
		t.Fatalf("member %s: %v", ext, err)
	}
	return m
}

func TestSyncManagerByEmployeeNumber(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 50})
	// Members from an earlier sync: Mo has employee number M-7.
	syncOK(t, w, []sdk.SyncRecord{person(2, "MO", "Mo", "Member", "M-7")}, sdk.SyncOptions{})

	recs := []sdk.SyncRecord{
		person(2, "BOSS", "Bo", "Boss", "E-100"),
		person(3, "R1", "Ri", "One", "E-101"),   // reports to a row of the file
		person(4, "R2", "Ro", "Two", "E-102"),   // reports to a member not in the file
		person(5, "T1", "Tw", "In", "E-DUP"),    // two people share E-DUP
		person(6, "T2", "Tw", "Out", "e-dup "),  // (compared trimmed, case-insensitively)
		person(7, "R3", "Ra", "Three", "E-103"), // reports to E-DUP: nobody in particular
	}
	recs[1].Manager = "e-100" // case-insensitive
	recs[2].Manager = "M-7"
	recs[5].Manager = "E-DUP"
	rep := syncOK(t, w, recs, sdk.SyncOptions{})
	if len(rep.Created) != 5 || len(rep.Failed) != 1 {
		t.Fatalf("%+v", rep.Summary())
	}
	boss, mo := byExt(t, w, "BOSS"), byExt(t, w, "MO")
	if got := byExt(t, w, "R1").ManagerID; got != boss.ID {
		t.Errorf("R1's manager = %q, want the boss %q (a row of the file)", got, boss.ID)
	}
	if got := byExt(t, w, "R2").ManagerID; got != mo.ID {
		t.Errorf("R2's manager = %q, want Mo %q (a member)", got, mo.ID)
	}
	f := rep.Failed[0]
	if f.Line != 7 || f.Reason != sdk.ReasonUnknownManager || f.Field != "manager" || !strings.Contains(f.Message, "employee number of 2 people") {
		t.Errorf("shared employee number: %+v", f)
	}
}

func TestSyncManagerPrecedence(t *testing.T) {
	// One reference, three people: external id > employee number > email,
	// whether the people are rows of the file or members.
	const ref = "k1@corp.test"
	ext := func(r sdk.SyncRecord) sdk.SyncRecord { r.ExternalID, r.Email = ref, "x1@corp.test"; return r }
	emp := func(r sdk.SyncRecord) sdk.SyncRecord { r.EmployeeNumber = ref; return r }
	mail := func(r sdk.SyncRecord) sdk.SyncRecord { r.Email = ref; return r }
	byID := person(2, "A", "A", "Ext", "")
	byEmp := person(3, "B", "B", "Emp", "")
	byMail := person(4, "C", "C", "Mail", "")
	for _, tc := range []struct {
		name    string
		members []sdk.SyncRecord // synced first, then absent from the file
		file    []sdk.SyncRecord
		want    string // the email of the manager
	}{
		{"external id over employee number and email", nil, []sdk.SyncRecord{ext(byID), emp(byEmp), mail(byMail)}, "x1@corp.test"},
		{"employee number over email", nil, []sdk.SyncRecord{byID, emp(byEmp), mail(byMail)}, byEmp.Email},
		{"email last", nil, []sdk.SyncRecord{byID, byEmp, mail(byMail)}, ref},
		{"a member's external id over a row's employee number", []sdk.SyncRecord{ext(byID)}, []sdk.SyncRecord{emp(byEmp), mail(byMail)}, "x1@corp.test"},
		{"a member's employee number over a row's email", []sdk.SyncRecord{emp(byEmp)}, []sdk.SyncRecord{mail(byMail)}, byEmp.Email},
		{"a row's employee number over a member's stale one", []sdk.SyncRecord{emp(byEmp)}, []sdk.SyncRecord{byEmp, emp(byMail)}, byMail.Email},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 50})
			if tc.members != nil {
				syncOK(t, w, tc.members, sdk.SyncOptions{})
			}
			d := person(9, "D", "D", "Report", "")
			d.Manager = ref
			rep := syncOK(t, w, append(slices.Clone(tc.file), d), sdk.SyncOptions{})
			if len(rep.Failed) != 0 {
				t.Fatalf("%+v", rep.Failed)
			}
			mgr := w.member(t, byExt(t, w, "D").ManagerID)
			if mgr.Email != tc.want {
				t.Fatalf("manager = %s, want %s", mgr.Email, tc.want)
			}
		})
	}
}

func TestSyncManagerByName(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 50})
	// Members from an earlier sync: Grace, one Alan Turing, and Lee, whose
	// manager is Grace.
	grace := person(2, "GH", "Grace", "Hopper", "")
	grace.DisplayName = "Amazing Grace"
	lee := person(4, "LEE", "Lee", "Lin", "")
	lee.Manager = "GH"
	syncOK(t, w, []sdk.SyncRecord{grace, person(3, "AT1", "Alan", "Turing", ""), lee}, sdk.SyncOptions{})
	graceID, leeID := byExt(t, w, "GH").ID, byExt(t, w, "LEE").ID

	ada := person(2, "ADA", "Ada", "Lovelace", "")
	ada.MiddleName = "King"
	withName := func(r sdk.SyncRecord, name string) sdk.SyncRecord { r.ManagerName = name; return r }
	recs := []sdk.SyncRecord{
		ada,
		withName(person(3, "R1", "R", "One", ""), "Lovelace, Ada"),                                           // BambooHR: "Last, First", a row of the file
		withName(person(4, "R2", "R", "Two", ""), "  ada   LOVELACE "),                                       // HiBob: "First Last"
		withName(person(5, "R3", "R", "Three", ""), "Ada King Lovelace"),                                     // with the middle name
		withName(person(6, "R4", "R", "Four", ""), "Hopper,Grace"),                                           // a member absent from the file
		withName(person(7, "R5", "R", "Five", ""), "amazing grace"),                                          // her display name
		person(8, "AT2", "Alan", "Turing", ""),                                                               // a second Alan Turing
		withName(person(9, "R6", "R", "Six", ""), "Turing, Alan"),                                            // ambiguous
		withName(person(10, "R7", "R", "Seven", ""), "Ada Lovelàce"),                                         // accents count: unknown
		func() sdk.SyncRecord { r := withName(lee, "Turing, Alan"); r.Line, r.Manager = 11, ""; return r }(), // ambiguous: Lee keeps Grace
		withName(person(12, "R8", "R", "Eight", ""), "Nobody Atall"),                                         // unknown
		func() sdk.SyncRecord {
			r := withName(person(13, "R9", "R", "Nine", ""), "Lovelace, Ada")
			r.Manager = "gone@corp.test"
			return r
		}(),
	}
	lee = recs[9]
	rep := syncOK(t, w, recs, sdk.SyncOptions{})
	if len(rep.Failed) != 0 || len(rep.Created) != 11 || len(rep.Notes) != 4 {
		t.Fatalf("%+v", rep.Summary())
	}
	adaID := byExt(t, w, "ADA").ID
	for ext, want := range map[string]string{"R1": adaID, "R2": adaID, "R3": adaID, "R4": graceID, "R5": graceID,
		"R6": "", "R7": "", "R8": "", "R9": adaID, "LEE": graceID} {
		if got := byExt(t, w, ext).ManagerID; got != want {
			t.Errorf("%s's manager = %q, want %q", ext, got, want)
		}
	}
	notes := map[int]sdk.SyncFailure{}
	for _, n := range rep.Notes {
		notes[n.Line] = n
	}
	for line, want := range map[int]struct {
		reason sdk.Reason
		says   string
	}{
		9:  {sdk.ReasonManagerNameAmbiguous, "matches 2 people: at1@corp.test, at2@corp.test (line 8); the member was created without a manager"},
		10: {sdk.ReasonManagerNameUnknown, `"Ada Lovelàce" matches nobody`},
		11: {sdk.ReasonManagerNameAmbiguous, "matches 2 people: at1@corp.test, at2@corp.test (line 8); the member's manager was left as it was"},
		12: {sdk.ReasonManagerNameUnknown, "matches nobody in the file or the tenant"},
	} {
		n := notes[line]
		if n.Reason != want.reason || n.Field != "managerName" || n.Key == "" || !strings.HasPrefix(n.Message, "managerName ") || !strings.Contains(n.Message, want.says) {
			t.Errorf("line %d: note %+v, want %s saying %q", line, n, want.reason, want.says)
		}
	}
	if got := w.member(t, leeID).ManagerID; got != graceID {
		t.Errorf("Lee's manager = %q, want Grace's %q kept", got, graceID)
	}

	// Unchanged re-runs resolve every name to the same member and write
	// nothing, dry or not; the notes come back each time.
	events := auditCount(t, w)
	for _, dry := range []bool{true, false} {
		rep = syncOK(t, w, recs, sdk.SyncOptions{DryRun: dry})
		if rep.Writes != 0 || rep.Unchanged != len(recs) || len(rep.Created)+len(rep.Updated) != 0 || len(rep.Notes) != 4 {
			t.Fatalf("re-run (dry %v): writes %d, %+v", dry, rep.Writes, rep.Summary())
		}
	}
	if n := auditCount(t, w) - events; n != 0 {
		t.Fatalf("unchanged re-runs wrote %d audit events", n)
	}
	if s := rep.Summary(); len(s.Notes) != 4 {
		t.Fatalf("summary notes: %+v", s.Notes)
	}
}

func TestSyncManagerNameCycleRefused(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 50})
	a, b := person(2, "A", "Al", "Ay", "N-1"), person(3, "B", "Bo", "Bee", "N-2")
	a.ManagerName, b.Manager = "Bee, Bo", "n-1"
	_, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{a, b}, sdk.SyncOptions{})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonManagerCycle)
	if n := w.count(t); n != 5 {
		t.Fatalf("a refused input wrote members: %d", n)
	}
}

func TestSyncInvalidRecordFailsAlone(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 50})
	recs := make([]sdk.SyncRecord, 5)
	for i := range recs {
		recs[i] = person(i+2, "P"+string(rune('0'+i)), "P", "Person", "")
	}
	syncOK(t, w, recs, sdk.SyncOptions{})
	p1, p2 := byExt(t, w, "P1"), byExt(t, w, "P2")

	// P1's status is one the reader does not know; P2's row has a bad
	// email too, but its external id still names the member. P3 changes.
	recs[1].Status = "on leave"
	recs[1].Invalid = &sdk.Error{Field: "status", Message: `"on leave" is not a known status; map it to active or inactive`}
	recs[2].Email = "not-an-email"
	recs[2].Invalid = &sdk.Error{Field: "startDate", Message: `"31/02" is not a date`}
	recs[3].Title = "Lead"
	opts := sdk.SyncOptions{Deprovision: sdk.DeprovisionDeactivate}
	for _, dry := range []bool{true, false} {
		opts.DryRun = dry
		rep := syncOK(t, w, recs, opts)
		s := rep.Summary()
		// Deactivated: the 4 world members absent from the file, not P1
		// or P2; the owner is skipped.
		if s.Failed != 2 || s.Updated != 1 || s.Deactivated != 4 || s.Skipped != 1 || s.Unchanged != 2 {
			t.Fatalf("dry %v: %+v", dry, s)
		}
		for _, d := range rep.Deactivated {
			if d.MemberID == p1.ID || d.MemberID == p2.ID {
				t.Fatalf("dry %v: the member of an invalid row was deprovisioned: %+v", dry, d)
			}
		}
		want := []sdk.SyncFailure{
			{Line: 3, Key: "p1@corp.test", Reason: sdk.ReasonInvalid, Field: "status", Message: `status "on leave" is not a known status; map it to active or inactive`},
			{Line: 4, Key: "not-an-email", Reason: sdk.ReasonInvalid, Field: "startDate", Message: `startDate "31/02" is not a date`},
		}
		if !slices.Equal(rep.Failed, want) {
			t.Fatalf("dry %v: failed %+v, want %+v", dry, rep.Failed, want)
		}
	}
	if m := w.member(t, p1.ID); m.Status != sdk.StatusActive || m.Version != p1.Version {
		t.Fatalf("invalid row's member changed: %+v", m)
	}
	if m := w.member(t, p2.ID); m.Status != sdk.StatusActive || m.Version != p2.Version {
		t.Fatalf("invalid row's member changed: %+v", m)
	}
	if m := byExt(t, w, "P3"); m.Title != "Lead" {
		t.Fatalf("the valid row did not apply: %+v", m)
	}
	if m := w.member(t, w.std.ID); m.Status != sdk.StatusDeactivated {
		t.Fatalf("an absent member stayed %s", m.Status)
	}
}

func TestSyncManagerOnFailedRow(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 50})
	x := person(2, "X", "Xi", "Failed", "")
	x.Invalid = &sdk.Error{Field: "status", Message: `"sabbatical" is not a known status`}
	y, z := person(3, "Y", "Yo", "Why", ""), person(4, "Z", "Zed", "Zee", "")
	y.Manager, z.ManagerName = "X", "Xi Failed"
	rep := syncOK(t, w, []sdk.SyncRecord{x, y, z}, sdk.SyncOptions{})
	if len(rep.Created) != 1 || len(rep.Failed) != 2 || len(rep.Notes) != 1 {
		t.Fatalf("%+v", rep.Summary())
	}
	// A row that failed is nobody's manager: a reference to it says so.
	if f := rep.Failed[1]; f.Line != 3 || f.Reason != sdk.ReasonUnknownManager || !strings.Contains(f.Message, `"X" is on line 2, which failed`) {
		t.Errorf("reference to a failed row: %+v", f)
	}
	if n := rep.Notes[0]; n.Line != 4 || n.Reason != sdk.ReasonManagerNameUnknown {
		t.Errorf("name of a failed row: %+v", n)
	}
}
