package hrsync_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/hrsync"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// countingStore counts the member writes and audit events that reach the
// store.
type countingStore struct {
	*memstore.Store
	writes, audits atomic.Int64
}

func (s *countingStore) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	s.writes.Add(1)
	return s.Store.CreateMember(ctx, w)
}

func (s *countingStore) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	s.writes.Add(1)
	return s.Store.UpdateMember(ctx, w)
}

func (s *countingStore) DeleteMember(ctx context.Context, d sdk.MemberDelete) error {
	s.writes.Add(1)
	return s.Store.DeleteMember(ctx, d)
}

func (s *countingStore) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error {
	s.audits.Add(1)
	return s.Store.AppendAudit(ctx, e)
}

// syncWorld is a tenant with custom attributes and a counting store.
type syncWorld struct {
	store *countingStore
	c     *sdk.Client
	t     *sdk.Tenant
}

func newSyncWorld(t *testing.T) *syncWorld {
	t.Helper()
	w := &syncWorld{store: &countingStore{Store: memstore.New()}}
	w.c = sdk.New(w.store)
	var err error
	w.t, _, err = w.c.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "corp", OwnerEmail: "owner@corp.test", IncludedSeats: 50,
		Settings: sdk.Settings{CustomAttributes: []sdk.CustomAttribute{
			{Name: "level", Type: sdk.CustomInteger}, {Name: "remote", Type: sdk.CustomBoolean}, {Name: "startDate", Type: sdk.CustomDateTime},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// sync reads a file as the CLI does and syncs it, returning the report,
// the file, and the member writes and audit events it cost.
func (w *syncWorld) sync(t *testing.T, in string, format hrsync.Format) (*sdk.SyncReport, *hrsync.File, int64, int64) {
	t.Helper()
	f, err := hrsync.Read(strings.NewReader(in), format, hrsync.ReadOptions{CustomAttributes: w.t.Settings.CustomAttributes})
	if err != nil {
		t.Fatal(err)
	}
	writes, audits := w.store.writes.Load(), w.store.audits.Load()
	rep, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, f.Records, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep, f, w.store.writes.Load() - writes, w.store.audits.Load() - audits
}

func (w *syncWorld) member(t *testing.T, externalID string) *sdk.Member {
	t.Helper()
	m, err := w.c.MemberByExternalID(t.Context(), w.t.ID, externalID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const peopleCSV = "Employee ID,Work Email,User Name,First Name,Middle Name,Last Name,Preferred Name,Job Title,Department," +
	"Employee Number,Cost Center,Organization,Division,Work Phone,Mobile Phone,Address,City,State,Zip,Country," +
	"Language,Locale,Time Zone,Manager,Level,Remote,StartDate,Favourite Colour\n" +
	"E1,ann@corp.test,ann.a@login.corp.test,Ann,Marie,Ash,Annie,CEO,Exec,00001,CC-1,Corp Ltd,HQ,+1 555 0101,+1 555 0191," +
	"1 Main St,Springfield,IL,62701,US,en-US,en_US,America/Chicago,,9,true,2020-01-02T09:00:00Z,blue\n" +
	"E2,bob@corp.test,,Bob,,Birch,,Engineer,Eng,00002,CC-2,Corp Ltd,Platform,+1 555 0102,," +
	"2 Side St,Springfield,IL,62702,US,fr-CA,fr_CA,America/Toronto,E1, 5 ,no,2021-03-04T10:00:00+01:00,green\n" +
	"E3,cy@corp.test,cy@login.corp.test,Cy,,Cole,Cyd,Designer,Design,00003,CC-3,Corp Ltd,Platform,,+1 555 0193," +
	",,,,GB,en-GB,en_GB,Europe/London,ann@corp.test,3,,,\n"

// peopleJSONL is peopleCSV in JSON Lines, with the keys of the
// documented columns and custom attributes as JSON values.
const peopleJSONL = `{"external_id":"E1","email":"ann@corp.test","user_name":"ann.a@login.corp.test","given_name":"Ann","middle_name":"Marie","family_name":"Ash","nickname":"Annie","title":"CEO","department":"Exec","employee_number":"00001","cost_center":"CC-1","organization":"Corp Ltd","division":"HQ","phone_work":"+1 555 0101","phone_mobile":"+1 555 0191","address_street":"1 Main St","address_locality":"Springfield","address_region":"IL","address_postal_code":"62701","address_country":"US","preferred_language":"en-US","locale":"en_US","timezone":"America/Chicago","manager":null,"level":9,"remote":true,"startDate":"2020-01-02T09:00:00Z"}
{"external_id":"E2","email":"bob@corp.test","user_name":"","given_name":"Bob","middle_name":"","family_name":"Birch","nickname":"","title":"Engineer","department":"Eng","employee_number":"00002","cost_center":"CC-2","organization":"Corp Ltd","division":"Platform","phone_work":"+1 555 0102","phone_mobile":null,"address_street":"2 Side St","address_locality":"Springfield","address_region":"IL","address_postal_code":"62702","address_country":"US","preferred_language":"fr-CA","locale":"fr_CA","timezone":"America/Toronto","manager":"E1","level":"5","remote":false,"startDate":"2021-03-04T09:00:00Z"}
{"external_id":"E3","email":"cy@corp.test","user_name":"cy@login.corp.test","given_name":"Cy","middle_name":"","family_name":"Cole","nickname":"Cyd","title":"Designer","department":"Design","employee_number":"00003","cost_center":"CC-3","organization":"Corp Ltd","division":"Platform","phone_work":"","phone_mobile":"+1 555 0193","address_street":"","address_locality":"","address_region":"","address_postal_code":"","address_country":"GB","preferred_language":"en-GB","locale":"en_GB","timezone":"Europe/London","manager":"ann@corp.test","level":3,"remote":"","startDate":null}
`

func TestSyncEveryColumnCSVThenJSONL(t *testing.T) {
	w := newSyncWorld(t)

	// First load from CSV.
	rep, f, writes, audits := w.sync(t, peopleCSV, hrsync.CSV)
	if len(rep.Created) != 3 || len(rep.Failed) != 0 || writes != 3 || audits != 3 {
		t.Fatalf("first load: %d writes, %d events, %+v", writes, audits, rep.Summary())
	}
	if !slices.Equal(f.Unknown, []string{"Favourite Colour"}) {
		t.Fatalf("ignored columns %v", f.Unknown)
	}
	ann, bob, cy := w.member(t, "E1"), w.member(t, "E2"), w.member(t, "E3")
	want := sdk.Profile{
		UserName: "bob@corp.test", GivenName: "Bob", FamilyName: "Birch", Title: "Engineer", Department: "Eng",
		EmployeeNumber: "00002", CostCenter: "CC-2", Organization: "Corp Ltd", Division: "Platform",
		PreferredLanguage: "fr-CA", Locale: "fr_CA", Timezone: "America/Toronto", ManagerID: ann.ID, ExternalID: "E2",
		Emails:       []sdk.Email{{Value: "bob@corp.test", Type: "work", Primary: true}},
		PhoneNumbers: []sdk.PhoneNumber{{Value: "+1 555 0102", Type: "work"}},
		Addresses:    []sdk.Address{{StreetAddress: "2 Side St", Locality: "Springfield", Region: "IL", PostalCode: "62702", Country: "US", Type: "work"}},
		Custom:       map[string]string{"level": "5", "remote": "false", "startDate": "2021-03-04T09:00:00Z"},
	}
	if got := bob.Profile; !equalProfiles(got, want) {
		t.Fatalf("bob\n got %+v\nwant %+v", got, want)
	}
	if ann.UserName != "ann.a@login.corp.test" || ann.Email != "ann@corp.test" || ann.NickName != "Annie" || ann.MiddleName != "Marie" ||
		len(ann.PhoneNumbers) != 2 || ann.PhoneNumbers[1] != (sdk.PhoneNumber{Value: "+1 555 0191", Type: "mobile"}) {
		t.Fatalf("ann %+v", ann)
	}
	if cy.ManagerID != ann.ID || len(cy.Addresses) != 1 || cy.Addresses[0] != (sdk.Address{Country: "GB", Type: "work"}) || cy.Custom["remote"] != "" {
		t.Fatalf("cy %+v", cy)
	}

	// The unchanged file writes nothing, and so does the same data in
	// JSON Lines.
	for _, in := range []struct {
		data   string
		format hrsync.Format
	}{{peopleCSV, hrsync.CSV}, {peopleJSONL, hrsync.JSONL}} {
		rep, _, writes, audits := w.sync(t, in.data, in.format)
		if writes != 0 || audits != 0 || rep.Writes != 0 || rep.Unchanged != 3 {
			t.Fatalf("unchanged %s: %d writes, %d events, %+v", in.format, writes, audits, rep.Summary())
		}
	}

	// One changed cell changes that field alone, with one write and one
	// event naming it.
	changed := strings.Replace(peopleJSONL, `"phone_mobile":"+1 555 0193"`, `"phone_mobile":"+1 555 0999"`, 1)
	rep, _, writes, audits = w.sync(t, changed, hrsync.JSONL)
	if writes != 1 || audits != 1 || len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Fields, []string{"phoneNumbers"}) {
		t.Fatalf("one change: %d writes, %d events, %+v", writes, audits, rep.Updated)
	}
	ev, err := w.c.AuditLog(t.Context(), sdk.SystemActor(), w.t.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if a := ev.Items[0]; a.TargetID != cy.ID || len(a.After) != 1 || !strings.Contains(a.After["phoneNumbers"], "+1 555 0999") {
		t.Fatalf("audit event %+v", a)
	}
	changedCSV := strings.Replace(peopleCSV, "CC-2", "CC-22", 1)
	rep, _, writes, _ = w.sync(t, changedCSV, hrsync.CSV)
	if writes != 2 || len(rep.Updated) != 2 {
		// Cy's mobile goes back to the CSV's, Bob's cost center changes.
		t.Fatalf("%d writes, %+v", writes, rep.Updated)
	}
	for _, u := range rep.Updated {
		if wantF := map[string]string{bob.ID: "costCenter", cy.ID: "phoneNumbers"}[u.MemberID]; !slices.Equal(u.Fields, []string{wantF}) {
			t.Errorf("%s: fields %v, want %s", u.Email, u.Fields, wantF)
		}
	}
}

func TestSyncAbsentColumnsAndBadValues(t *testing.T) {
	w := newSyncWorld(t)
	if rep, _, _, _ := w.sync(t, peopleCSV, hrsync.CSV); len(rep.Failed) != 0 {
		t.Fatalf("%+v", rep.Failed)
	}
	before := w.member(t, "E1")

	// A file with only some columns changes only those; an empty mobile
	// cell removes the mobile phone and keeps the work one.
	rep, _, writes, _ := w.sync(t, "Work Email,City,Mobile Phone\nann@corp.test,Chicago,\n", hrsync.CSV)
	if writes != 1 || len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Fields, []string{"phoneNumbers", "addresses"}) {
		t.Fatalf("%d writes, %+v", writes, rep.Summary())
	}
	ann := w.member(t, "E1")
	wantAddr := before.Addresses[0]
	wantAddr.Locality = "Chicago"
	if ann.Addresses[0] != wantAddr || !slices.Equal(ann.PhoneNumbers, before.PhoneNumbers[:1]) || ann.Title != "CEO" ||
		ann.ManagerID != "" || ann.Custom["level"] != "9" || ann.UserName != before.UserName {
		t.Fatalf("ann %+v", ann)
	}

	// Bad values fail their row, naming the column, and write nothing for
	// it; the good row applies (HR's "yes" is a boolean).
	in := "Work Email,Level,Cost Center,Mobile,Remote\n" +
		"ann@corp.test,ten,CC-1,,true\n" +
		"bob@corp.test,5," + strings.Repeat("x", 300) + ",,false\n" +
		"cy@corp.test,3,CC-3," + strings.Repeat("5", 70) + ",\n" +
		"dee@corp.test,4,CC-4,,maybe\n" +
		"eve@corp.test,4,CC-4,,yes\n"
	rep, f, writes, audits := w.sync(t, in, hrsync.CSV)
	want := map[int]string{2: "Level", 3: "Cost Center", 4: "Mobile", 5: "Remote"}
	if writes != 1 || audits != 1 || len(rep.Created) != 1 || len(rep.Failed) != len(want) {
		t.Fatalf("%d writes, %d events, %+v", writes, audits, rep.Summary())
	}
	for _, fl := range rep.Failed {
		if col := f.Column(fl.Field); col != want[fl.Line] || fl.Reason != sdk.ReasonInvalid {
			t.Errorf("line %d: field %q is column %q, want %q (%s)", fl.Line, fl.Field, col, want[fl.Line], fl.Message)
		}
	}
	if got := w.member(t, "E1"); got.Version != ann.Version {
		t.Fatal("a failed row was written")
	}
	if eve, err := w.c.MemberByEmail(t.Context(), w.t.ID, "eve@corp.test"); err != nil || eve.Custom["remote"] != "true" {
		t.Fatalf("eve: %v %+v", err, eve)
	}
}

// equalProfiles compares profiles, treating nil and empty alike.
func equalProfiles(a, b sdk.Profile) bool {
	ja, jb := a.Clone(), b.Clone()
	for _, p := range []*sdk.Profile{&ja, &jb} {
		if len(p.Custom) == 0 {
			p.Custom = nil
		}
		if len(p.PhoneNumbers) == 0 {
			p.PhoneNumbers = nil
		}
		if len(p.Addresses) == 0 {
			p.Addresses = nil
		}
		if len(p.Emails) == 0 {
			p.Emails = nil
		}
	}
	return reflect.DeepEqual(ja, jb)
}
