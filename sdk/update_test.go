package sdk_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// fullProfile sets every field of the profile, with Unicode and mixed case.
func fullProfile() sdk.Profile {
	return sdk.Profile{
		UserName:      "Zoë.Ångström@Contoso.onmicrosoft.com",
		FormattedName: "Dr. Zoë Ä. Ångström III", GivenName: "Zoë", FamilyName: "Ångström", MiddleName: "Ä",
		HonorificPrefix: "Dr.", HonorificSuffix: "III", DisplayName: "Zoë Å", NickName: "Zo",
		ProfileURL: "https://example.test/~zoe", Title: "Staff Engineer", UserType: "Employee",
		PreferredLanguage: "sv-SE", Locale: "sv_SE", Timezone: "Europe/Stockholm",
		Emails: []sdk.Email{
			{Value: "zoe@home.test", Type: "home"},
			{Value: "Zoe.Angstrom@Contoso.test", Type: "work", Primary: true, Display: "Zoë (work)"},
		},
		PhoneNumbers: []sdk.PhoneNumber{{Value: "+46 70 123 45 67", Type: "mobile"}, {Value: "+46 8 123 456", Type: "work", Primary: true}},
		Addresses: []sdk.Address{{StreetAddress: "Drottninggatan 1", Locality: "Stockholm", Region: "AB", PostalCode: "111 51",
			Country: "SE", Formatted: "Drottninggatan 1\n111 51 Stockholm", Type: "work", Primary: true}},
		EmployeeNumber: "E-0042", CostCenter: "CC-7", Organization: "Contoso AB", Division: "R&D", Department: "Platform",
		ExternalID: "00u1ab2C3d",
		Custom:     map[string]string{"badge": "17", "contractor": "false"},
	}
}

func customTenant() sdk.CreateTenantRequest {
	return sdk.CreateTenantRequest{Settings: sdk.Settings{CustomAttributes: []sdk.CustomAttribute{
		{Name: "badge", Type: sdk.CustomInteger}, {Name: "contractor", Type: sdk.CustomBoolean}, {Name: "hired", Type: sdk.CustomDateTime},
	}}}
}

func TestAddMemberKeepsTheWholeProfile(t *testing.T) {
	w := newWorld(t, customTenant())
	ctx := t.Context()
	p := fullProfile()
	m, err := w.c.AddMember(ctx, w.scimToken, sdk.AddMemberRequest{TenantID: w.t.ID, Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Profile, p) {
		t.Fatalf("profile changed on the way in:\n got %+v\nwant %+v", m.Profile, p)
	}
	got := w.member(t, m.ID)
	if !reflect.DeepEqual(got.Profile, p) {
		t.Fatalf("stored profile:\n got %+v\nwant %+v", got.Profile, p)
	}
	// The member's email is the primary email, not the userName (a UPN).
	if got.Email != "Zoe.Angstrom@Contoso.test" || got.EmailKey != "zoe.angstrom@contoso.test" {
		t.Fatalf("email = %q / %q", got.Email, got.EmailKey)
	}
	if got.UserNameKey != "zoë.ångström@contoso.onmicrosoft.com" {
		t.Fatalf("userNameKey = %q", got.UserNameKey)
	}
	byUser, err := w.c.MemberByUserName(ctx, w.t.ID, "ZOË.ÅNGSTRÖM@contoso.onmicrosoft.com")
	if err != nil || byUser.ID != m.ID {
		t.Fatalf("MemberByUserName = %v, %v", byUser, err)
	}
	// The userName is unique per tenant, whatever the email.
	_, err = w.c.AddMember(ctx, w.scimToken, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "other@contoso.test",
		Profile: sdk.Profile{UserName: "zoë.ångström@contoso.onmicrosoft.com"}})
	wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonUserNameTaken)
}

func TestAddMemberRefusesBadProfiles(t *testing.T) {
	w := newWorld(t, customTenant())
	ctx := t.Context()
	long := string(make([]byte, 300))
	for _, tc := range []struct {
		name  string
		p     sdk.Profile
		field string
	}{
		{"no email at all", sdk.Profile{UserName: "not-an-email", GivenName: "A"}, "emails"},
		{"two primaries", sdk.Profile{Emails: []sdk.Email{{Value: "a@x.test", Primary: true}, {Value: "b@x.test", Primary: true}}}, "emails"},
		{"email without value", sdk.Profile{UserName: "u@x.test", Emails: []sdk.Email{{Type: "work"}}}, "emails[0]"},
		{"malformed email", sdk.Profile{Emails: []sdk.Email{{Value: "nope", Primary: true}}}, "emails[0].value"},
		{"phone without value", sdk.Profile{UserName: "u@x.test", PhoneNumbers: []sdk.PhoneNumber{{Type: "mobile"}}}, "phoneNumbers[0]"},
		{"empty address", sdk.Profile{UserName: "u@x.test", Addresses: []sdk.Address{{Type: "work", Primary: true}}}, "addresses[0]"},
		{"over-long title", sdk.Profile{UserName: "u@x.test", Title: long}, "title"},
		{"undeclared custom attribute", sdk.Profile{UserName: "u@x.test", Custom: map[string]string{"shoeSize": "42"}}, "custom.shoeSize"},
		{"custom value of the wrong type", sdk.Profile{UserName: "u@x.test", Custom: map[string]string{"badge": "ten"}}, "custom.badge"},
		{"invalid UTF-8", sdk.Profile{UserName: "u@x.test", NickName: "\xff"}, "nickName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := w.count(t)
			_, err := w.c.AddMember(ctx, w.scimToken, sdk.AddMemberRequest{TenantID: w.t.ID, Profile: tc.p})
			wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
			var se *sdk.Error
			if errors.As(err, &se); se.Field != tc.field {
				t.Fatalf("field = %q, want %q (%v)", se.Field, tc.field, err)
			}
			if w.count(t) != before {
				t.Fatal("a refused member was written")
			}
		})
	}
	// Custom values are stored in their canonical form.
	m, err := w.c.AddMember(ctx, w.scimToken, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "c@x.test",
		Profile: sdk.Profile{Custom: map[string]string{"BADGE": " 007 ", "contractor": "True", "hired": "2026-01-02T10:00:00+01:00"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"badge": "7", "contractor": "true", "hired": "2026-01-02T09:00:00Z"}
	if !reflect.DeepEqual(m.Custom, want) {
		t.Fatalf("custom = %v, want %v", m.Custom, want)
	}
}

func TestUpdateMemberAppliesTheMaskInOneWrite(t *testing.T) {
	w := newWorld(t, customTenant())
	ctx := t.Context()
	m, err := w.c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Profile: fullProfile()})
	if err != nil {
		t.Fatal(err)
	}
	events := auditCount(t, w)
	next := sdk.Profile{Title: "Principal", PhoneNumbers: []sdk.PhoneNumber{{Value: "+1 555 0100", Type: "work"}}, NickName: "ignored: not in mask"}
	up, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: m.ID,
		Profile: next, Fields: []sdk.Field{sdk.FieldTitle, sdk.FieldPhoneNumbers, sdk.FieldDepartment}})
	if err != nil {
		t.Fatal(err)
	}
	want := m.Profile.Clone()
	want.Title, want.PhoneNumbers, want.Department = next.Title, next.PhoneNumbers, ""
	if !reflect.DeepEqual(up.Profile, want) {
		t.Fatalf("profile:\n got %+v\nwant %+v", up.Profile, want)
	}
	if up.Version != m.Version+1 {
		t.Fatalf("version %d → %d: want one write", m.Version, up.Version)
	}
	if got := auditCount(t, w); got != events+1 {
		t.Fatalf("%d audit events, want one", got-events)
	}
	ev := lastAudit(t, w)
	if ev.Action != string(sdk.EventMemberUpdated) {
		t.Fatalf("action %q", ev.Action)
	}
	// The cleared department has no value after: it is named in before.
	if keys := slices.Sorted(maps.Keys(ev.After)); !slices.Equal(keys, []string{"phoneNumbers", "title"}) {
		t.Fatalf("audit after names %v", keys)
	}
	if _, ok := ev.Before["department"]; !ok {
		t.Fatalf("audit before lacks the cleared department: %v", ev.Before)
	}
	// The same change again writes nothing.
	again, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: m.ID,
		Profile: next, Fields: []sdk.Field{sdk.FieldTitle, sdk.FieldPhoneNumbers, sdk.FieldDepartment}})
	if err != nil || again.Version != up.Version || auditCount(t, w) != events+1 {
		t.Fatalf("a no-op update wrote: %v, version %d", err, again.Version)
	}
	// Clearing the userName is refused.
	_, err = w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: m.ID, Fields: []sdk.Field{sdk.FieldUserName}})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	_, err = w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: m.ID, Fields: []sdk.Field{"shoeSize"}})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
}

// A change that reactivates a member and takes another member's userName
// is refused whole: the member stays deactivated.
func TestUpdateMemberIsAllOrNothing(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	if _, err := w.c.Deactivate(ctx, w.system, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	before := w.member(t, w.std.ID)
	active := sdk.StatusActive
	_, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.std.ID,
		Profile: sdk.Profile{UserName: "STD2@acme.test"}, Fields: []sdk.Field{sdk.FieldUserName}, Status: &active})
	wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonUserNameTaken)
	after := w.member(t, w.std.ID)
	if after.Status != sdk.StatusDeactivated || after.Version != before.Version {
		t.Fatalf("the refused change left status %s, version %d → %d", after.Status, before.Version, after.Version)
	}
	// Status and profile together: one write, one event.
	events := auditCount(t, w)
	up, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.std.ID,
		Profile: sdk.Profile{Title: "Back"}, Fields: []sdk.Field{sdk.FieldTitle}, Status: &active})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status != sdk.StatusActive || up.Title != "Back" || up.Version != before.Version+1 || auditCount(t, w) != events+1 {
		t.Fatalf("got %s %q v%d, %d events", up.Status, up.Title, up.Version, auditCount(t, w)-events)
	}
	if ev := lastAudit(t, w); ev.Action != string(sdk.EventMemberReactivated) || ev.After["title"] != "Back" {
		t.Fatalf("event %s %v", ev.Action, ev.After)
	}
	// The owner cannot be deactivated this way either.
	off := sdk.StatusDeactivated
	_, err = w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.owner.ID, Status: &off})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
}

func TestUpdateMemberPasswords(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{}, sdk.WithPasswordParams(64, 1, 1))
	ctx := t.Context()
	okta := "Secr3t!pass" // Okta's sample: 11 characters
	m, err := w.c.AddMember(ctx, w.scimToken, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "idp@acme.test", Password: okta})
	if err != nil {
		t.Fatalf("an identity provider's 11-character password: %v", err)
	}
	if _, err := w.c.VerifyPassword(ctx, w.t.ID, "idp@acme.test", okta); err != nil {
		t.Fatalf("the password was not stored with the member: %v", err)
	}
	// Set in Roster, the tenant's own minimum holds.
	_, err = w.c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "short@acme.test", Password: okta})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonWeakPassword)
	_, err = w.c.AddMember(ctx, w.scimToken, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "short@acme.test", Password: "seven77"})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonWeakPassword)

	// The same password again changes nothing: no write, no logout.
	same, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: m.ID, Password: &okta})
	if err != nil || same.Version != m.Version || same.SessionEpoch != m.SessionEpoch {
		t.Fatalf("repeating the password: %v, version %d → %d, epoch %d → %d", err, m.Version, same.Version, m.SessionEpoch, same.SessionEpoch)
	}
	// A new one, with a profile change: one write, one logout, one event.
	events := auditCount(t, w)
	pw := "an0ther-Secret"
	up, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: m.ID,
		Password: &pw, Profile: sdk.Profile{Title: "X"}, Fields: []sdk.Field{sdk.FieldTitle}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != m.Version+1 || up.SessionEpoch != m.SessionEpoch+1 || auditCount(t, w) != events+1 {
		t.Fatalf("version %d, epoch %d, %d events", up.Version, up.SessionEpoch, auditCount(t, w)-events)
	}
	if ev := lastAudit(t, w); ev.After["password"] != "changed" || ev.After["title"] != "X" {
		t.Fatalf("audit after %v", ev.After)
	}
	if _, err := w.c.VerifyPassword(ctx, w.t.ID, "idp@acme.test", pw); err != nil {
		t.Fatalf("new password: %v", err)
	}
	// A refused change writes no password either.
	bad := "yet-another-pw"
	_, err = w.c.UpdateMember(ctx, w.stdA, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: m.ID, Password: &bad})
	if err == nil {
		t.Fatal("a standard member set someone else's password")
	}
	if _, err := w.c.VerifyPassword(ctx, w.t.ID, "idp@acme.test", pw); err != nil {
		t.Fatalf("a refused change replaced the password: %v", err)
	}
}

// pausingStore pauses the first GetMember of the member it watches until
// released, so that a test can race another write into the gap between an
// update's read and its conditional write.
type pausingStore struct {
	*memstore.Store
	member  string
	once    sync.Once
	paused  chan struct{}
	release chan struct{}
}

func (s *pausingStore) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	m, err := s.Store.GetMember(ctx, tenantID, id)
	if id == s.member {
		s.once.Do(func() {
			close(s.paused)
			<-s.release
		})
	}
	return m, err
}

func (s *pausingStore) GetMemberWithPasswordHash(ctx context.Context, tenantID, id string) (*sdk.Member, string, error) {
	m, err := s.GetMember(ctx, tenantID, id)
	if err != nil {
		return nil, "", err
	}
	_, h, err := s.Store.GetMemberWithPasswordHash(ctx, tenantID, id)
	return m, h, err
}

// Two updates of different fields interleaved between read and write: both
// land (the loser decides again on fresh data), and with an expected
// version the loser is refused and writes nothing.
func TestUpdateMemberUnderInterleaving(t *testing.T) {
	for _, expected := range []bool{false, true} {
		t.Run(map[bool]string{false: "retry", true: "if-match"}[expected], func(t *testing.T) {
			w := newWorld(t, sdk.CreateTenantRequest{})
			ctx := t.Context()
			ps := &pausingStore{Store: w.store, member: w.std.ID, paused: make(chan struct{}), release: make(chan struct{})}
			slow := sdk.New(ps, sdk.WithClock(w.clock.Now))
			req := sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.std.ID, Profile: sdk.Profile{Title: "from the slow server"}, Fields: []sdk.Field{sdk.FieldTitle}}
			if expected {
				req.ExpectedVersion = w.std.Version
			}
			done := make(chan error, 1)
			go func() {
				_, err := slow.UpdateMember(ctx, w.scimToken, req)
				done <- err
			}()
			select {
			case <-ps.paused:
			case <-time.After(5 * time.Second):
				t.Fatal("the update never read the member")
			}
			if _, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.std.ID,
				Profile: sdk.Profile{Department: "raced in"}, Fields: []sdk.Field{sdk.FieldDepartment}}); err != nil {
				t.Fatal(err)
			}
			close(ps.release)
			err := <-done
			m := w.member(t, w.std.ID)
			if expected {
				wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
				if m.Title != "" || m.Department != "raced in" {
					t.Fatalf("title %q department %q", m.Title, m.Department)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Title != "from the slow server" || m.Department != "raced in" {
				t.Fatalf("a write was lost: title %q department %q", m.Title, m.Department)
			}
		})
	}
}

// A deleted member's groups get a new version: an identity provider that
// cached the group sees it changed.
func TestRemovingAMemberChangesItsGroupsVersions(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	g, err := w.c.CreateGroup(ctx, w.scimToken, sdk.CreateGroupRequest{TenantID: w.t.ID, DisplayName: "Eng", Members: []string{w.std.ID, w.std2.ID}})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Minute)
	if err := w.c.RemoveMember(ctx, w.scimToken, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	after, err := w.c.Group(ctx, w.t.ID, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version <= g.Version || !after.UpdatedAt.After(g.UpdatedAt) {
		t.Fatalf("group version %d → %d, updated %v → %v", g.Version, after.Version, g.UpdatedAt, after.UpdatedAt)
	}
}

func lastAudit(t *testing.T, w *world) *sdk.AuditEvent {
	t.Helper()
	p, err := w.c.AuditLog(t.Context(), w.system, w.t.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1}})
	if err != nil || len(p.Items) == 0 {
		t.Fatalf("audit log: %v", err)
	}
	return p.Items[0]
}

func TestMemberEmailDerivation(t *testing.T) {
	for _, tc := range []struct {
		p    sdk.Profile
		want string
	}{
		{sdk.Profile{UserName: "upn@corp.onmicrosoft.com", Emails: []sdk.Email{{Value: "Mail@Corp.test", Type: "work"}}}, "Mail@Corp.test"},
		{sdk.Profile{Emails: []sdk.Email{{Value: "home@x.test", Type: "home"}, {Value: "p@x.test", Primary: true}}}, "p@x.test"},
		{sdk.Profile{UserName: "ann@x.test", Emails: []sdk.Email{{Value: "home@x.test", Type: "home"}}}, "ann@x.test"},
		{sdk.Profile{UserName: "ann"}, ""},
		{sdk.Profile{UserName: "ann.lee+tag@ex-ample.co.uk"}, "ann.lee+tag@ex-ample.co.uk"},
		{sdk.Profile{UserName: "jörg@bücher.test"}, "jörg@bücher.test"},
		{sdk.Profile{UserName: "a b@x.test"}, ""},
		{sdk.Profile{UserName: "a..b@x.test"}, ""},
		{sdk.Profile{UserName: ".a@x.test"}, ""},
		{sdk.Profile{UserName: "a@x..test"}, ""},
		{sdk.Profile{UserName: "a@"}, ""},
		{sdk.Profile{UserName: "@x.test"}, ""},
		{sdk.Profile{UserName: "Ann <ann@x.test>"}, ""},
		{sdk.Profile{UserName: "a@b@x.test"}, ""},
	} {
		if got := tc.p.MemberEmail(); got != tc.want {
			t.Errorf("MemberEmail(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// An Edit runs on the member as read on every attempt: an item added to a
// list by a write that raced into the gap survives the edit's own.
func TestUpdateMemberEditReappliesOnFreshData(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	ps := &pausingStore{Store: w.store, member: w.std.ID, paused: make(chan struct{}), release: make(chan struct{})}
	slow := sdk.New(ps, sdk.WithClock(w.clock.Now))
	calls := 0
	done := make(chan error, 1)
	go func() {
		_, err := slow.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.std.ID,
			Edit: func(e *sdk.MemberEdit) error {
				calls++
				e.Member.PhoneNumbers = append(e.Member.PhoneNumbers, sdk.PhoneNumber{Value: "+1 555 0101", Type: "mobile"})
				e.Member.Status = sdk.StatusDeactivated
				return nil
			}})
		done <- err
	}()
	<-ps.paused
	if _, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.std.ID,
		Profile: sdk.Profile{PhoneNumbers: []sdk.PhoneNumber{{Value: "+1 555 0100", Type: "work"}}}, Fields: []sdk.Field{sdk.FieldPhoneNumbers}}); err != nil {
		t.Fatal(err)
	}
	close(ps.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m := w.member(t, w.std.ID)
	if len(m.PhoneNumbers) != 2 || m.PhoneNumbers[0].Type != "work" || m.PhoneNumbers[1].Type != "mobile" || m.Status != sdk.StatusDeactivated {
		t.Fatalf("phones %+v status %s: the raced write was overwritten", m.PhoneNumbers, m.Status)
	}
	if calls != 2 {
		t.Fatalf("Edit ran %d times, want 2 (once per read)", calls)
	}
	// An error from Edit is returned as is, with nothing written.
	sentinel := errors.New("bad patch")
	_, err := w.c.UpdateMember(ctx, w.scimToken, sdk.UpdateMemberRequest{TenantID: w.t.ID, MemberID: w.std.ID,
		Edit: func(*sdk.MemberEdit) error { return sentinel }})
	if err != sentinel {
		t.Fatalf("err = %v", err)
	}
}

func TestRemoveWithExpectedVersion(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	_, err := w.c.Remove(ctx, w.scimToken, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.std.ID, ExpectedVersion: w.std.Version + 1})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	w.member(t, w.std.ID) // still there
	if _, err := w.c.Remove(ctx, w.scimToken, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.std.ID, ExpectedVersion: w.std.Version}); err != nil {
		t.Fatal(err)
	}
}

func TestAddMemberEmailShorthandNeverDropped(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	_, err := w.c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "one@acme.test",
		Profile: sdk.Profile{Emails: []sdk.Email{{Value: "two@acme.test", Type: "work"}}}})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	m, err := w.c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "TWO@acme.test",
		Profile: sdk.Profile{Emails: []sdk.Email{{Value: "two@acme.test", Type: "work"}}}})
	if err != nil || m.Email != "two@acme.test" || len(m.Emails) != 1 {
		t.Fatalf("%+v, %v", m, err)
	}
}

// noPutCredentials fails every PutCredentials, as a store that crashed
// after a member write would never have reached a second step.
type noPutCredentials struct{ *memstore.Store }

func (noPutCredentials) PutCredentials(context.Context, *sdk.Credentials) error {
	return errors.New("second write reached")
}

// Accepting an invitation with a password and setting a password are each
// one member write: the hash travels with it, and no second credentials
// write exists for a crash to fall between.
func TestPasswordsTravelWithTheMemberWrite(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{}, sdk.WithPasswordParams(64, 1, 1))
	ctx := t.Context()
	c := sdk.New(noPutCredentials{w.store}, sdk.WithClock(w.clock.Now), sdk.WithPasswordParams(64, 1, 1))
	res, err := c.Invite(ctx, w.system, sdk.InviteRequest{TenantID: w.t.ID, Email: "nia@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Accept(ctx, sdk.AcceptRequest{Secret: res.Secret, Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if _, err := c.VerifyPassword(ctx, w.t.ID, "nia@acme.test", "correct horse battery"); err != nil {
		t.Fatalf("the accepted password was not stored with the activation: %v", err)
	}
	if _, err := c.SetPassword(ctx, sdk.MemberActor(m.ID), w.t.ID, m.ID, "another long secret"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	after := w.member(t, m.ID)
	if after.SessionEpoch != m.SessionEpoch+1 || after.Version != m.Version+1 {
		t.Fatalf("epoch %d → %d, version %d → %d: want one write that logs out", m.SessionEpoch, after.SessionEpoch, m.Version, after.Version)
	}
	if _, err := c.VerifyPassword(ctx, w.t.ID, "nia@acme.test", "another long secret"); err != nil {
		t.Fatalf("SetPassword did not store the hash with the member: %v", err)
	}
}

// credsPause pauses the first GetCredentials until released.
type credsPause struct {
	*memstore.Store
	once            sync.Once
	paused, release chan struct{}
}

func (s *credsPause) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	cr, err := s.Store.GetCredentials(ctx, tenantID, memberID)
	s.once.Do(func() {
		close(s.paused)
		<-s.release
	})
	return cr, err
}

// A TOTP enrolment reads the member's credentials and writes them back;
// a password change that lands between the two survives it.
func TestTOTPEnrolmentNeverUndoesAPasswordChange(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{}, sdk.WithPasswordParams(64, 1, 1))
	ctx := t.Context()
	if _, err := w.c.SetPassword(ctx, w.stdA, w.t.ID, w.std.ID, "the first long password"); err != nil {
		t.Fatal(err)
	}
	ps := &credsPause{Store: w.store, paused: make(chan struct{}), release: make(chan struct{})}
	slow := sdk.New(ps, sdk.WithClock(w.clock.Now), sdk.WithPasswordParams(64, 1, 1))
	done := make(chan error, 1)
	go func() {
		_, err := slow.EnrollTOTP(ctx, w.stdA, w.t.ID)
		done <- err
	}()
	<-ps.paused
	if _, err := w.c.SetPassword(ctx, w.stdA, w.t.ID, w.std.ID, "the second long password"); err != nil {
		t.Fatal(err)
	}
	close(ps.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.VerifyPassword(ctx, w.t.ID, w.std.Email, "the second long password"); err != nil {
		t.Fatalf("the enrolment wrote back the old password: %v", err)
	}
	cr, err := w.store.GetCredentials(ctx, w.t.ID, w.std.ID)
	if err != nil || cr.TOTPPending == "" {
		t.Fatalf("the enrolment was lost: %+v, %v", cr, err)
	}
}
