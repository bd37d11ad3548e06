package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

func hrRecords(n int) []sdk.SyncRecord {
	recs := make([]sdk.SyncRecord, n)
	for i := range recs {
		recs[i] = sdk.SyncRecord{
			Line: i + 2, Email: fmt.Sprintf("p%06d@corp.test", i), Status: "active",
			Profile: sdk.Profile{ExternalID: fmt.Sprintf("E%06d", i), GivenName: "Given", FamilyName: fmt.Sprintf("F%d", i),
				Department: []string{"Eng", "Ops", "Sales"}[i%3], Title: "Staff"},
		}
		if i > 0 {
			recs[i].Manager = "E000000"
		}
	}
	return recs
}

func auditCount(t testing.TB, w *world) int {
	t.Helper()
	n := 0
	for cursor := ""; ; {
		p, err := w.c.AuditLog(context.Background(), w.system, w.t.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1000, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Items)
		if p.NextCursor == "" {
			return n
		}
		cursor = p.NextCursor
	}
}

func TestSyncFirstLoadThenUnchangedWritesNothing(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	recs := hrRecords(50)
	rep, err := w.c.Sync(ctx, sdk.SyncActor("run1"), w.t.ID, recs, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Created) != 50 || len(rep.Failed) != 0 || rep.Writes != 50 {
		t.Fatalf("first load: %+v", rep.Summary())
	}
	boss, _ := w.c.MemberByExternalID(ctx, w.t.ID, "E000000")
	p7, _ := w.c.MemberByExternalID(ctx, w.t.ID, "E000007")
	if p7.ManagerID != boss.ID || p7.Department != "Ops" || p7.Role != "standard" || p7.Status != sdk.StatusActive {
		t.Fatalf("member = %+v", p7)
	}
	events := auditCount(t, w)
	rep, err = w.c.Sync(ctx, sdk.SyncActor("run2"), w.t.ID, recs, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Writes != 0 || rep.Unchanged != 50 || len(rep.Created)+len(rep.Updated) != 0 {
		t.Fatalf("re-run: writes %d, %+v", rep.Writes, rep.Summary())
	}
	if after := auditCount(t, w); after != events {
		t.Fatalf("an unchanged re-run wrote %d audit events", after-events)
	}
	ev, _ := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1}})
	if ev.Items[0].Channel != "sync" || ev.Items[0].ActorID != "run1" {
		t.Fatalf("sync audit event = %+v", ev.Items[0])
	}
}

func TestSyncUpdatesStatusAndDeprovisioning(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	actor := sdk.SyncActor("hr")
	recs := hrRecords(10)
	if _, err := w.c.Sync(ctx, actor, w.t.ID, recs, sdk.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	recs[1].Title = "Lead"
	recs[1].Department = "Eng"
	recs[2].Status = "inactive"
	recs[3].Email = "P000003@Corp.test" // case-only change of the address
	recs = slices.Delete(recs, 9, 10)   // a leaver
	rep, err := w.c.Sync(ctx, actor, w.t.ID, recs, sdk.SyncOptions{Deprovision: sdk.DeprovisionDeactivate})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Summary()
	if s.Updated != 2 || s.Deactivated != 6 || s.Unchanged != 6 || s.Failed != 0 || s.Skipped != 1 {
		// deactivated: p2 (inactive), p9 (leaver), and the 4 world members
		// not in the file; skipped: the owner.
		t.Fatalf("summary %+v", s)
	}
	if f := rep.Updated[0].Fields; !slices.Equal(f, []string{"title", "department"}) {
		t.Fatalf("changed fields %v", f)
	}
	if rep.Skipped[0].Reason != sdk.ReasonTargetIsOwner {
		t.Fatalf("skipped %+v", rep.Skipped)
	}
	p2, _ := w.c.MemberByExternalID(ctx, w.t.ID, "E000002")
	if p2.Status != sdk.StatusDeactivated || p2.SessionEpoch != 1 {
		t.Fatalf("inactive record: %+v", p2)
	}
	// Back to active reactivates; deprovision delete removes the leaver.
	recs[2].Status = "active"
	rep, err = w.c.Sync(ctx, actor, w.t.ID, recs, sdk.SyncOptions{Deprovision: sdk.DeprovisionDelete})
	if err != nil {
		t.Fatal(err)
	}
	s = rep.Summary()
	if s.Reactivated != 1 || s.Deleted != 5 || s.Skipped != 1 {
		t.Fatalf("summary %+v", s)
	}
	if _, err := w.c.MemberByExternalID(ctx, w.t.ID, "E000009"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("leaver still present: %v", err)
	}
	if _, err := w.c.Member(ctx, w.t.ID, w.owner.ID); err != nil {
		t.Fatalf("owner deprovisioned: %v", err)
	}
	if used := w.tenant(t).SeatsUsed; used != 10 {
		t.Fatalf("seats used %d, want 10 (owner + 9)", used)
	}
}

func TestSyncSeatLimitFailsRemainingCreates(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 8}) // 5 used
	ctx := t.Context()
	recs := hrRecords(6)
	recs[0].Manager = ""
	for _, dry := range []bool{true, false} {
		rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Summary()
		if s.Created != 3 || s.Failed != 3 || s.DryRun != dry {
			t.Fatalf("dry=%v: %+v", dry, s)
		}
		for _, f := range rep.Failed {
			if f.Reason != sdk.ReasonSeatLimit || f.Line < 5 {
				t.Fatalf("dry=%v: failure %+v", dry, f)
			}
		}
		if n := w.count(t); dry && n != 5 {
			t.Fatalf("dry run wrote: %d members", n)
		}
	}
	if n := w.count(t); n != 8 {
		t.Fatalf("%d members, want 8", n)
	}
}

func TestSyncRefusesUntrustworthyInput(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	dupEmail := hrRecords(3)
	dupEmail[2].Email = "P000000@corp.test"
	dupExt := hrRecords(3)
	dupExt[2].ExternalID = "E000001"
	cycle := hrRecords(4)
	cycle[0].Manager = "p000003@corp.test"
	cycle[3].Manager = "E000002"
	cycle[2].Manager = "E000000"
	for name, c := range map[string]struct {
		recs   []sdk.SyncRecord
		reason sdk.Reason
	}{
		"duplicate email": {dupEmail, sdk.ReasonDuplicateItem},
		"duplicate id":    {dupExt, sdk.ReasonDuplicateItem},
		"manager cycle":   {cycle, sdk.ReasonManagerCycle},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, c.recs, sdk.SyncOptions{})
			wantRefused(t, err, sdk.ErrInvalidArgument, c.reason)
			if n := w.count(t); n != 5 {
				t.Fatalf("refused input wrote members: %d", n)
			}
		})
	}
	_, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, nil, sdk.SyncOptions{Deprovision: "everything"})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	_, err = w.c.Sync(ctx, w.stdA, w.t.ID, hrRecords(1), sdk.SyncOptions{})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
}

func TestSyncBadRowsFailAlone(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	recs := hrRecords(5)
	recs[1].Email = "not-an-email"
	recs[2].Role = "wizard"
	recs[3].Manager = "nobody@corp.test"
	recs[4].Role = "owner"
	rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]sdk.Reason{3: sdk.ReasonInvalid, 4: sdk.ReasonUnknownRole, 5: sdk.ReasonUnknownManager, 6: sdk.ReasonOwnerRole}
	if len(rep.Created) != 1 || len(rep.Failed) != 4 {
		t.Fatalf("%+v", rep.Summary())
	}
	for _, f := range rep.Failed {
		if want[f.Line] != f.Reason || f.Message == "" {
			t.Errorf("line %d: %s (%s), want %s", f.Line, f.Reason, f.Message, want[f.Line])
		}
	}
}

func TestSyncMatchesByEmailAndKeepsOmittedFields(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	dept := "Finance"
	if _, err := w.c.UpdateProfile(ctx, w.system, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, Department: &dept}); err != nil {
		t.Fatal(err)
	}
	rec := sdk.SyncRecord{Line: 2, Email: "STD@acme.test", Profile: sdk.Profile{ExternalID: "E9", Title: "Analyst"},
		Omit: omitAllBut(sdk.FieldExternalID, sdk.FieldTitle)}
	rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Fields, []string{"email", "userName", "title", "externalId", "emails"}) {
		t.Fatalf("%+v", rep.Updated)
	}
	m := w.member(t, w.std.ID)
	if m.ExternalID != "E9" || m.Department != "Finance" || m.Title != "Analyst" || m.Role != "standard" {
		t.Fatalf("member = %+v", m)
	}
}

// customAttrs are the custom attributes of the profile sync tests.
var customAttrs = []sdk.CustomAttribute{{Name: "level", Type: sdk.CustomInteger}, {Name: "remote", Type: sdk.CustomBoolean}}

// fullRecord is a record with every profile field a sync carries.
func fullRecord(i int) sdk.SyncRecord {
	return sdk.SyncRecord{
		Line: i + 2, Email: fmt.Sprintf("p%d@corp.test", i), Manager: "", Role: "standard", Status: "active",
		Profile: sdk.Profile{
			ExternalID: fmt.Sprintf("E%d", i), UserName: fmt.Sprintf("P%d@Login.corp.test", i),
			GivenName: "Given", MiddleName: "Middle", FamilyName: fmt.Sprintf("F%d", i), HonorificPrefix: "Dr.", HonorificSuffix: "III",
			FormattedName: "Dr. Given Middle F III", DisplayName: "Given F", NickName: "Giv", Title: "Staff", UserType: "Employee",
			Department: "Eng", Division: "Platform", Organization: "Corp Ltd", CostCenter: "CC-1", EmployeeNumber: fmt.Sprintf("%05d", i),
			PreferredLanguage: "fr-CA", Locale: "fr_CA", Timezone: "America/Toronto", ProfileURL: "https://corp.test/p",
			PhoneNumbers: []sdk.PhoneNumber{{Value: "+1 555 0100", Type: "work"}, {Value: "+1 555 0199", Type: "mobile"}},
			Addresses: []sdk.Address{{StreetAddress: "1 Main St", Locality: "Toronto", Region: "ON", PostalCode: "M5V 2T6", Country: "CA",
				Formatted: "1 Main St, Toronto", Type: "work"}},
			Custom: map[string]string{"level": " 7 ", "Remote": "True"},
		},
	}
}

func TestSyncWholeProfileFirstLoadUnchangedAndOneChange(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100, Settings: sdk.Settings{CustomAttributes: customAttrs}})
	ctx := t.Context()
	recs := []sdk.SyncRecord{fullRecord(1), fullRecord(2)}
	recs[1].Manager = "E1"
	rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, slices.Clone(recs), sdk.SyncOptions{})
	if err != nil || len(rep.Created) != 2 || len(rep.Failed) != 0 {
		t.Fatalf("first load: %v %+v", err, rep.Summary())
	}
	boss, _ := w.c.MemberByExternalID(ctx, w.t.ID, "E1")
	m, _ := w.c.MemberByExternalID(ctx, w.t.ID, "E2")
	want := recs[1].Profile.Clone()
	want.ManagerID = boss.ID
	want.Emails = []sdk.Email{{Value: "p2@corp.test", Type: "work", Primary: true}}
	want.Custom = map[string]string{"level": "7", "remote": "true"} // canonical, declared spelling
	if !reflect.DeepEqual(m.Profile, want) {
		t.Fatalf("profile\n got %+v\nwant %+v", m.Profile, want)
	}
	if m.Email != "p2@corp.test" || m.UserNameKey != "p2@login.corp.test" {
		t.Fatalf("derived: email %q userNameKey %q", m.Email, m.UserNameKey)
	}

	// Re-running the unchanged input writes nothing: no member, no event.
	events := auditCount(t, w)
	rep, err = w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, slices.Clone(recs), sdk.SyncOptions{})
	if err != nil || rep.Writes != 0 || rep.Unchanged != 2 {
		t.Fatalf("re-run: %v writes %d %+v", err, rep.Writes, rep.Summary())
	}
	if n := auditCount(t, w); n != events {
		t.Fatalf("an unchanged re-run wrote %d audit events", n-events)
	}
	if after := w.member(t, m.ID); after.Version != m.Version {
		t.Fatalf("version %d → %d", m.Version, after.Version)
	}

	// One changed column changes that field alone, and the event says so.
	recs[1].PhoneNumbers = []sdk.PhoneNumber{{Value: "+1 555 0100", Type: "work"}, {Value: "+1 555 0142", Type: "mobile"}}
	recs[1].Custom = map[string]string{"level": "8", "Remote": "True"}
	rep, err = w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, slices.Clone(recs), sdk.SyncOptions{})
	if err != nil || rep.Writes != 1 || len(rep.Updated) != 1 {
		t.Fatalf("one change: %v %+v", err, rep.Summary())
	}
	if f := rep.Updated[0].Fields; !slices.Equal(f, []string{"phoneNumbers", "custom.level"}) {
		t.Fatalf("changed fields %v", f)
	}
	ev, _ := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1}})
	a := ev.Items[0]
	if a.Action != string(sdk.EventMemberUpdated) || a.Channel != "sync" || len(a.After) != 2 ||
		!strings.Contains(a.After["phoneNumbers"], "+1 555 0142") || a.After["custom.level"] != "8" || a.Before["custom.level"] != "7" {
		t.Fatalf("audit event %+v", a)
	}
	if n := auditCount(t, w); n != events+1 {
		t.Fatalf("%d audit events for one change", n-events)
	}
}

func TestSyncMergesWithWhatTheMemberHas(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100, Settings: sdk.Settings{CustomAttributes: customAttrs}})
	ctx := t.Context()
	// What an identity provider set: a UPN userName, two emails, a home
	// phone, a mobile with a display form, a work address with a street,
	// a custom attribute the file does not carry.
	_, err := w.c.UpdateMember(ctx, w.system, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.std.ID,
		Profile: sdk.Profile{
			UserName: "std@upn.acme.test",
			Emails:   []sdk.Email{{Value: "std@acme.test", Type: "Work", Primary: true, Display: "Std"}, {Value: "s@home.test", Type: "home"}},
			PhoneNumbers: []sdk.PhoneNumber{{Value: "+1 555 0001", Type: "home"}, {Value: "+1 555 0002", Type: "mobile", Display: "(555) 0002", Primary: true},
				{Value: "+1 555 0003", Type: "fax"}},
			Addresses: []sdk.Address{{StreetAddress: "9 Elm St", Locality: "Ottawa", Type: "work"}},
			Custom:    map[string]string{"remote": "true"},
		},
		Fields: []sdk.Field{sdk.FieldUserName, sdk.FieldEmails, sdk.FieldPhoneNumbers, sdk.FieldAddresses, sdk.FieldCustom}})
	if err != nil {
		t.Fatal(err)
	}
	before := w.member(t, w.std.ID)
	// A file with email, mobile, fax (empty), city, level columns.
	omit := omitAllBut(sdk.FieldAddressLocality)
	rec := sdk.SyncRecord{Line: 2, Email: "std@acme.test", Omit: omit, Profile: sdk.Profile{
		PhoneNumbers: []sdk.PhoneNumber{{Value: "+1 555 0002", Type: "mobile"}, {Type: "fax"}},
		Addresses:    []sdk.Address{{Locality: "Toronto", Type: "work"}},
		Custom:       map[string]string{"level": "3"},
	}}
	rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{})
	if err != nil || len(rep.Updated) != 1 {
		t.Fatalf("%v %+v", err, rep.Summary())
	}
	if f := rep.Updated[0].Fields; !slices.Equal(f, []string{"phoneNumbers", "addresses", "custom.level"}) {
		t.Fatalf("changed fields %v", f)
	}
	m := w.member(t, w.std.ID)
	if m.UserName != "std@upn.acme.test" || !reflect.DeepEqual(m.Emails, before.Emails) {
		t.Fatalf("userName %q emails %+v: the file's email is already the primary work email", m.UserName, m.Emails)
	}
	wantPhones := []sdk.PhoneNumber{{Value: "+1 555 0001", Type: "home"}, {Value: "+1 555 0002", Type: "mobile", Display: "(555) 0002", Primary: true}}
	if !reflect.DeepEqual(m.PhoneNumbers, wantPhones) {
		t.Fatalf("phones %+v\nwant %+v", m.PhoneNumbers, wantPhones)
	}
	if want := []sdk.Address{{StreetAddress: "9 Elm St", Locality: "Toronto", Type: "work"}}; !reflect.DeepEqual(m.Addresses, want) {
		t.Fatalf("addresses %+v", m.Addresses)
	}
	if want := map[string]string{"remote": "true", "level": "3"}; !reflect.DeepEqual(m.Custom, want) {
		t.Fatalf("custom %v", m.Custom)
	}
	// Unchanged again: nothing written.
	rep, err = w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{})
	if err != nil || rep.Writes != 0 {
		t.Fatalf("re-run: %v %+v", err, rep.Summary())
	}

	// Matched by email alone, a new address is a new person.
	rec.Email = "std.new@acme.test"
	rep, err = w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{})
	if err != nil || len(rep.Updated) != 0 || len(rep.Created) != 1 {
		t.Fatalf("%v %+v", err, rep.Summary())
	}
	// An external id column makes it the same person; an empty custom
	// value (in any spelling of the name) clears the attribute.
	rec.Profile.ExternalID = "X1"
	rec.Omit = omitAllBut(sdk.FieldAddressLocality, sdk.FieldExternalID)
	rec.Email = "std@acme.test"
	rec.Custom = map[string]string{"LEVEL": ""}
	rep, err = w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{})
	if err != nil || len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Fields, []string{"externalId", "custom.level"}) {
		t.Fatalf("%v %+v", err, rep.Updated)
	}
	// A new email becomes the primary work email (keeping the item's
	// spelling of its type); the home one stays. The userName, not the
	// email, stays too.
	rec.Email = "std.renamed@acme.test"
	rep, err = w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{})
	if err != nil || len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Fields, []string{"email", "emails"}) {
		t.Fatalf("%v %+v", err, rep.Updated)
	}
	m = w.member(t, w.std.ID)
	wantEmails := []sdk.Email{{Value: "std.renamed@acme.test", Type: "Work", Primary: true}, {Value: "s@home.test", Type: "home"}}
	if m.Email != "std.renamed@acme.test" || !reflect.DeepEqual(m.Emails, wantEmails) || m.UserName != "std@upn.acme.test" || m.Custom["level"] != "" {
		t.Fatalf("member %+v", m)
	}
}

func TestSyncUserNameFollowsTheEmail(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	rec := sdk.SyncRecord{Email: "a@corp.test", Profile: sdk.Profile{ExternalID: "A"}, Omit: omitAllBut(sdk.FieldExternalID)}
	if _, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.Email = "A.B@corp.test"
	rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{})
	if err != nil || len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Fields, []string{"email", "userName", "emails"}) {
		t.Fatalf("%v %+v", err, rep.Updated)
	}
	m, _ := w.c.MemberByExternalID(ctx, w.t.ID, "A")
	if m.UserName != "A.B@corp.test" || m.UserNameKey != "a.b@corp.test" {
		t.Fatalf("member %+v", m)
	}
}

func TestSyncInvalidValuesFailTheRowNamingTheField(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100, Settings: sdk.Settings{CustomAttributes: customAttrs}})
	ctx := t.Context()
	recs := []sdk.SyncRecord{fullRecord(0), fullRecord(1), fullRecord(2), fullRecord(3), fullRecord(4), fullRecord(5), fullRecord(6)}
	recs[1].Custom = map[string]string{"level": "ten"}
	recs[2].EmployeeNumber = strings.Repeat("9", 65)
	recs[3].PhoneNumbers[1].Value = strings.Repeat("5", 65)
	recs[4].Custom = map[string]string{"shoe": "9"}
	recs[5].UserName = "owner@acme.test" // the owner's
	recs[6].Addresses[0].Locality = strings.Repeat("x", 257)
	if _, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, recs[:1], sdk.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	// Row 0 now exists: an update that goes wrong fails the same way.
	recs[0].Custom = map[string]string{"remote": "maybe"}
	before := w.count(t)
	events := auditCount(t, w)
	rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]struct {
		reason sdk.Reason
		field  string
	}{
		2: {sdk.ReasonInvalid, "custom.remote"},
		3: {sdk.ReasonInvalid, "custom.level"},
		4: {sdk.ReasonInvalid, "employeeNumber"},
		5: {sdk.ReasonInvalid, `phoneNumbers[type eq "mobile"].value`},
		6: {sdk.ReasonInvalid, "custom.shoe"},
		7: {sdk.ReasonUserNameTaken, "userName"},
		8: {sdk.ReasonInvalid, `addresses[type eq "work"].locality`},
	}
	if len(rep.Failed) != len(want) || rep.Writes != 0 {
		t.Fatalf("%+v", rep.Summary())
	}
	for _, f := range rep.Failed {
		wf := want[f.Line]
		if f.Reason != wf.reason || f.Field != wf.field || !strings.HasPrefix(f.Message, wf.field+" ") {
			t.Errorf("line %d: %s %q %q, want %s %q", f.Line, f.Reason, f.Field, f.Message, wf.reason, wf.field)
		}
	}
	if w.count(t) != before || auditCount(t, w) != events {
		t.Fatal("a failed row wrote")
	}
	// Two records with one userName: the input is refused whole.
	recs = []sdk.SyncRecord{fullRecord(8), fullRecord(9)}
	recs[1].UserName = strings.ToUpper(recs[0].UserName)
	_, err = w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonDuplicateItem)
}

// omitAllBut returns the Omit set of a file with only the columns of
// keep (and an email): every text field, address part, role and status
// but those. Phones, addresses and custom attributes are carried by item
// and by key.
func omitAllBut(keep ...sdk.Field) map[sdk.Field]bool {
	omit := map[sdk.Field]bool{sdk.FieldRole: true, sdk.FieldStatus: true, sdk.FieldAddressStreet: true, sdk.FieldAddressLocality: true,
		sdk.FieldAddressRegion: true, sdk.FieldAddressPostalCode: true, sdk.FieldAddressCountry: true, sdk.FieldAddressFormatted: true}
	for _, f := range sdk.ProfileFields() {
		switch f {
		case sdk.FieldEmails, sdk.FieldPhoneNumbers, sdk.FieldAddresses, sdk.FieldCustom:
		default:
			omit[f] = true
		}
	}
	for _, f := range keep {
		delete(omit, f)
	}
	return omit
}

// failingBulk crashes after a number of successful create batches.
type failingBulk struct {
	*memstore.Store
	batches int
}

func (f *failingBulk) CreateMembers(ctx context.Context, ws []sdk.MemberWrite) []error {
	errs := make([]error, len(ws))
	if f.batches == 0 {
		for i := range errs {
			errs[i] = context.Canceled
		}
		return errs
	}
	f.batches--
	for i, w := range ws {
		errs[i] = f.Store.CreateMember(ctx, w)
	}
	return errs
}

func (f *failingBulk) AppendAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	for _, e := range es {
		if err := f.Store.AppendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func TestSyncInterruptedThenRerunConverges(t *testing.T) {
	snapshot := func(w *world) map[string]string {
		out := map[string]string{}
		p, err := w.c.ListMembers(context.Background(), w.t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Items {
			mgr := ""
			if m.ManagerID != "" {
				mm, _ := w.c.Member(context.Background(), w.t.ID, m.ManagerID)
				mgr = mm.Email
			}
			out[m.EmailKey] = fmt.Sprint(m.ExternalID, m.GivenName, m.FamilyName, m.Department, m.Title, m.Role, m.Status, mgr)
		}
		return out
	}
	recs := hrRecords(120)
	clean := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 200})
	if _, err := clean.c.Sync(t.Context(), sdk.SyncActor("hr"), clean.t.ID, recs, sdk.SyncOptions{BatchSize: 25}); err != nil {
		t.Fatal(err)
	}
	crashed := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 200})
	c := sdk.New(&failingBulk{Store: crashed.store, batches: 2})
	rep, err := c.Sync(t.Context(), sdk.SyncActor("hr"), crashed.t.ID, recs, sdk.SyncOptions{BatchSize: 25})
	if err == nil && len(rep.Failed) == 0 {
		t.Fatal("the simulated crash did not interrupt the sync")
	}
	if n := crashed.count(t); n != 55 {
		t.Fatalf("after the crash %d members, want 55 (5 + 2 batches)", n)
	}
	if _, err := crashed.c.Sync(t.Context(), sdk.SyncActor("hr"), crashed.t.ID, recs, sdk.SyncOptions{BatchSize: 25}); err != nil {
		t.Fatal(err)
	}
	a, b := snapshot(clean), snapshot(crashed)
	if len(a) != len(b) {
		t.Fatalf("%d members after a clean run, %d after crash + re-run", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Fatalf("%s: clean %q, re-run %q", k, v, b[k])
		}
	}
	if ct, rt := clean.tenant(t), crashed.tenant(t); ct.SeatsUsed != rt.SeatsUsed {
		t.Fatalf("seats used: clean %d, re-run %d", ct.SeatsUsed, rt.SeatsUsed)
	}
}

// BenchmarkSync100k measures an HR sync of 100,000 rows into memstore: the
// first load and an unchanged re-run (which must write nothing).
func BenchmarkSync100k(b *testing.B) {
	recs := hrRecords(100_000)
	for _, phase := range []string{"first-load", "unchanged-rerun"} {
		b.Run(phase, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				c := sdk.New(memstore.New())
				t, _, err := c.CreateTenant(context.Background(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "big", OwnerEmail: "o@corp.test", IncludedSeats: 200_000})
				if err != nil {
					b.Fatal(err)
				}
				if phase == "unchanged-rerun" {
					if _, err := c.Sync(context.Background(), sdk.SyncActor("hr"), t.ID, slices.Clone(recs), sdk.SyncOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				rep, err := c.Sync(context.Background(), sdk.SyncActor("hr"), t.ID, slices.Clone(recs), sdk.SyncOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if phase == "unchanged-rerun" && rep.Writes != 0 {
					b.Fatalf("re-run wrote %d", rep.Writes)
				}
				if phase == "first-load" && len(rep.Created) != 100_000 {
					b.Fatalf("created %d", len(rep.Created))
				}
			}
		})
	}
}
