package storetest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// fullMember returns a member of the tenant with every profile field set:
// Unicode and mixed case, several emails, phone numbers and addresses in a
// deliberate order (the primary email is not the first), and custom
// attributes. tag varies the values so that two full members differ in
// every field.
func fullMember(tenantID, tag string) *sdk.Member {
	m := &sdk.Member{
		ID: sdk.NewID(), TenantID: tenantID,
		Profile: sdk.Profile{
			UserName:          "Zoë.Ünal-" + tag + "@Corp.Example",
			FormattedName:     "Dr. Zoë Q. Ünal-Smith III " + tag,
			GivenName:         "Zoë" + tag,
			FamilyName:        "Ünal-Smith" + tag,
			MiddleName:        "Quinn" + tag,
			HonorificPrefix:   "Dr." + tag,
			HonorificSuffix:   "III" + tag,
			DisplayName:       "Zoë Ü. (" + tag + ")",
			NickName:          "Zo" + tag,
			ProfileURL:        "https://example.com/~zoë/" + tag,
			Title:             "Principal Engineer " + tag,
			UserType:          "Employee" + tag,
			PreferredLanguage: "de-CH" + tag,
			Locale:            "de_CH" + tag,
			Timezone:          "Europe/Zurich" + tag,
			Emails: []sdk.Email{
				{Value: "Zoe.Work-" + tag + "@Example.com", Type: "work", Display: "Zoë at work " + tag},
				{Value: "zoë-" + tag + "@Home.Example", Type: "home", Primary: true},
				{Value: "Other-" + tag + "@x.test", Type: "Other"},
			},
			PhoneNumbers: []sdk.PhoneNumber{
				{Value: "+1 555 0100 " + tag, Type: "mobile"},
				{Value: "+49 30 1234 " + tag, Type: "work", Display: "Büro " + tag, Primary: true},
			},
			Addresses: []sdk.Address{
				{Formatted: "Straße 1\n10115 Berlin " + tag, StreetAddress: "Straße 1 " + tag, Locality: "Berlin" + tag,
					Region: "BE" + tag, PostalCode: "10115" + tag, Country: "DE", Type: "work", Primary: true},
				{Locality: "Zürich" + tag, Country: "CH", Type: "home"},
			},
			EmployeeNumber: "E-0042a" + tag,
			CostCenter:     "CC-7" + tag,
			Organization:   "Acme GmbH" + tag,
			Division:       "R&D" + tag,
			Department:     "Platform" + tag,
			ManagerID:      "mgr-" + tag,
			ExternalID:     "ext-Zoë-" + tag,
			Custom:         map[string]string{"badge": "B-" + tag, "startDate": "2026-01-02T03:04:05Z", "remote": "true"},
		},
		Role: "standard", Status: sdk.StatusActive, SessionEpoch: 7, MFAEnrolled: true,
		Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
	}
	derive(m)
	return m
}

// derive sets the member's derived keys as the SDK does.
func derive(m *sdk.Member) {
	m.Email = m.MemberEmail()
	m.EmailKey = sdk.NormalizeEmail(m.Email)
	m.UserNameKey = sdk.NormalizeUserName(m.UserName)
}

// memberDiff describes how got differs from want in anything a store
// keeps ("" when it does not): every profile field, in order, the derived
// keys and the state. Empty and nil lists and maps are the same; times
// compare as instants; Groups is not compared.
func memberDiff(got, want *sdk.Member) string {
	norm := func(m *sdk.Member) *sdk.Member {
		c := m.Clone()
		c.Groups = nil
		if len(c.Emails) == 0 {
			c.Emails = nil
		}
		if len(c.PhoneNumbers) == 0 {
			c.PhoneNumbers = nil
		}
		if len(c.Addresses) == 0 {
			c.Addresses = nil
		}
		if len(c.Custom) == 0 {
			c.Custom = nil
		}
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		return c
	}
	g, w := norm(got), norm(want)
	if reflect.DeepEqual(g, w) {
		return ""
	}
	gv, wv := reflect.ValueOf(g.Profile), reflect.ValueOf(w.Profile)
	for i := range gv.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			return fmt.Sprintf("%s = %#v, want %#v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
	g.Profile, w.Profile = sdk.Profile{}, sdk.Profile{}
	return fmt.Sprintf("got %+v, want %+v", g, w)
}

// checkReads reads m back through every read of the store and fails unless
// each returns it exactly.
func checkReads(t *testing.T, s sdk.Store, m *sdk.Member) {
	t.Helper()
	ctx := t.Context()
	reads := []struct {
		name string
		get  func() (*sdk.Member, error)
	}{
		{"GetMember", func() (*sdk.Member, error) { return s.GetMember(ctx, m.TenantID, m.ID) }},
		{"GetMemberBy(KeyEmail)", func() (*sdk.Member, error) { return s.GetMemberBy(ctx, m.TenantID, sdk.KeyEmail, m.EmailKey) }},
		{"GetMemberBy(KeyUserName)", func() (*sdk.Member, error) { return s.GetMemberBy(ctx, m.TenantID, sdk.KeyUserName, m.UserNameKey) }},
		{"ListMembers", func() (*sdk.Member, error) {
			ms, err := s.ListMembers(ctx, m.TenantID, sdk.MemberQuery{Limit: 1000})
			for _, x := range ms {
				if x.ID == m.ID {
					return x, err
				}
			}
			return nil, errors.Join(err, errors.New("not listed"))
		}},
	}
	if m.ExternalID != "" {
		reads = append(reads, struct {
			name string
			get  func() (*sdk.Member, error)
		}{"GetMemberBy(KeyExternalID)", func() (*sdk.Member, error) { return s.GetMemberBy(ctx, m.TenantID, sdk.KeyExternalID, m.ExternalID) }})
	}
	if r, ok := s.(sdk.PasswordHashReader); ok {
		reads = append(reads, struct {
			name string
			get  func() (*sdk.Member, error)
		}{"GetMemberWithPasswordHash", func() (*sdk.Member, error) {
			got, _, err := r.GetMemberWithPasswordHash(ctx, m.TenantID, m.ID)
			return got, err
		}})
	}
	for _, r := range reads {
		got, err := r.get()
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if d := memberDiff(got, m); d != "" {
			t.Fatalf("%s does not return the member as written: %s", r.name, d)
		}
	}
}

// testProfile checks that a whole profile round-trips exactly through
// create, every read and update (changing every field, then clearing
// every field), and that keys freed by an update resolve no more.
func testProfile(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)

	// The tenant's custom attribute declarations round-trip too.
	decl := mustGetTenant(t, s, tn.ID)
	decl.Settings.CustomAttributes = []sdk.CustomAttribute{
		{Name: "badge", Type: sdk.CustomString, Description: "Badge number"},
		{Name: "startDate", Type: sdk.CustomDateTime},
		{Name: "remote", Type: sdk.CustomBoolean},
	}
	if err := s.UpdateTenant(ctx, decl, decl.Version); err != nil {
		t.Fatal(err)
	}
	if got := mustGetTenant(t, s, tn.ID); !reflect.DeepEqual(got.Settings.CustomAttributes, decl.Settings.CustomAttributes) {
		t.Fatalf("custom attribute declarations = %+v, want %+v", got.Settings.CustomAttributes, decl.Settings.CustomAttributes)
	}

	m := fullMember(tn.ID, "1")
	want := m.Clone()
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	if d := memberDiff(m, want); d != "" {
		t.Fatalf("CreateMember changed its argument: %s", d)
	}
	if m.Email != "zoë-1@Home.Example" || m.EmailKey != "zoë-1@home.example" || m.UserNameKey != "zoë.ünal-1@corp.example" {
		t.Fatalf("fixture keys: email %q key %q userNameKey %q", m.Email, m.EmailKey, m.UserNameKey)
	}
	checkReads(t, s, want)

	// Change every field: other values, other item orders and counts,
	// other custom attributes.
	changed := fullMember(tn.ID, "2")
	changed.ID, changed.CreatedAt = m.ID, m.CreatedAt
	changed.Emails = []sdk.Email{changed.Emails[2], changed.Emails[0]}
	changed.Emails[1].Primary = true
	changed.PhoneNumbers = []sdk.PhoneNumber{changed.PhoneNumbers[1], changed.PhoneNumbers[0], {Value: "+33 1 00", Type: "fax"}}
	changed.Addresses = changed.Addresses[1:]
	changed.Custom = map[string]string{"badge": "B-2"}
	changed.Role, changed.Status, changed.SessionEpoch, changed.MFAEnrolled = "admin", sdk.StatusDeactivated, 8, false
	changed.UpdatedAt = epoch.Add(3600e9)
	derive(changed)
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: changed, ExpectedVersion: 1, Seat: sdk.SeatRelease}); err != nil {
		t.Fatalf("UpdateMember(every field): %v", err)
	}
	if changed.Version != 2 {
		t.Fatalf("UpdateMember left version %d, want 2", changed.Version)
	}
	checkReads(t, s, changed)
	for _, f := range []struct {
		name string
		get  func() (*sdk.Member, error)
	}{
		{"old email", func() (*sdk.Member, error) { return s.GetMemberBy(ctx, tn.ID, sdk.KeyEmail, want.EmailKey) }},
		{"old userName", func() (*sdk.Member, error) { return s.GetMemberBy(ctx, tn.ID, sdk.KeyUserName, want.UserNameKey) }},
		{"old external id", func() (*sdk.Member, error) { return s.GetMemberBy(ctx, tn.ID, sdk.KeyExternalID, want.ExternalID) }},
	} {
		if _, err := f.get(); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("the %s still resolves after an update: %v", f.name, err)
		}
	}

	// Clear every field but the userName, from which the email follows.
	cleared := &sdk.Member{ID: m.ID, TenantID: tn.ID, Profile: sdk.Profile{UserName: "Cleared@X.test"},
		Role: "standard", Status: sdk.StatusActive, Version: changed.Version, CreatedAt: m.CreatedAt, UpdatedAt: epoch.Add(7200e9)}
	derive(cleared)
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: cleared, ExpectedVersion: 2, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("UpdateMember(clear every field): %v", err)
	}
	checkReads(t, s, cleared)
	if got, _ := s.GetMember(ctx, tn.ID, m.ID); len(got.Emails) != 0 || len(got.Custom) != 0 {
		t.Fatalf("cleared lists linger: %+v", got)
	}
	// Writing the full profile again restores it.
	again := fullMember(tn.ID, "3")
	again.ID, again.CreatedAt, again.Version = m.ID, m.CreatedAt, cleared.Version
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: again, ExpectedVersion: cleared.Version}); err != nil {
		t.Fatal(err)
	}
	checkReads(t, s, again)
	if got := mustGetTenant(t, s, tn.ID).SeatsUsed; got != 2 {
		t.Fatalf("seats used %d, want 2", got)
	}
	// The Custom map of a member read back is the reader's own.
	got, _ := s.GetMember(ctx, tn.ID, m.ID)
	saved := maps.Clone(got.Custom)
	got.Custom["badge"] = "changed"
	if again, _ := s.GetMember(ctx, tn.ID, m.ID); !maps.Equal(again.Custom, saved) {
		t.Fatalf("a read's Custom map aliases the store's: %v", again.Custom)
	}
}

// testUserNames checks that UserNameKey is unique per tenant on create and
// update, that a refusal writes nothing and gives the seat back, and that
// a userName may differ from every email.
func testUserNames(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)
	ann := newMember(tn.ID, "ann@example.com")
	ann.UserName, ann.UserNameKey = "Ann.UPN@Corp.example", "ann.upn@corp.example"
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: ann, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyUserName, "ann.upn@corp.example"); err != nil || got.ID != ann.ID {
		t.Fatalf("GetMemberBy(KeyUserName) = %v, %v", got, err)
	}
	// The userName is not an email key, and the email not a userName key.
	if _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyEmail, "ann.upn@corp.example"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("GetMemberBy(KeyEmail, userName) = %v, want not found", err)
	}
	if _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyUserName, "ann@example.com"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("GetMemberBy(KeyUserName, email) = %v, want not found", err)
	}
	_, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyUserName, "")
	wantErr(t, "GetMemberBy(KeyUserName, empty)", err, sdk.ErrNotFound, "")
	_, err = s.GetMemberBy(ctx, tn.ID, sdk.KeyUserName, "nobody")
	wantErr(t, "GetMemberBy(KeyUserName, unknown)", err, sdk.ErrNotFound, "")

	used := mustGetTenant(t, s, tn.ID).SeatsUsed
	// A member whose email is another member's userName is fine.
	bob := newMember(tn.ID, "ann.upn@corp.example")
	bob.UserName, bob.UserNameKey = "bob", "bob"
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: bob, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("an email equal to another member's userName: %v", err)
	}
	used++
	// The same userName, in another case, is refused and writes nothing.
	dup := newMember(tn.ID, "carl@example.com")
	dup.UserName, dup.UserNameKey = "ANN.upn@CORP.example", "ann.upn@corp.example"
	hash := "$argon2id$dup"
	wantErr(t, "CreateMember(taken userName)", s.CreateMember(ctx, sdk.MemberWrite{Member: dup, Seat: sdk.SeatTake, PasswordHash: &hash}),
		sdk.ErrAlreadyExists, sdk.ReasonUserNameTaken)
	if _, err := s.GetMember(ctx, tn.ID, dup.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("a member refused for its userName was stored: %v", err)
	}
	if _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyEmail, "carl@example.com"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("a member refused for its userName resolves by email: %v", err)
	}
	if _, err := s.GetCredentials(ctx, tn.ID, dup.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("a member refused for its userName left a password: %v", err)
	}
	if got := mustGetTenant(t, s, tn.ID).SeatsUsed; got != used {
		t.Fatalf("a refused create kept its seat: %d → %d", used, got)
	}
	// The same userName in another tenant is fine.
	other, _ := fixture(t, s, "other", 5)
	elsewhere := newMember(other.ID, "ann@example.com")
	elsewhere.UserName, elsewhere.UserNameKey = ann.UserName, ann.UserNameKey
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: elsewhere, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("same userName in another tenant: %v", err)
	}

	// Updating into a taken userName is refused, changes nothing and
	// gives back the seat it took.
	carl := newMember(tn.ID, "carl@example.com")
	carl.Status = sdk.StatusDeactivated
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: carl}); err != nil {
		t.Fatal(err)
	}
	c2 := carl.Clone()
	c2.Status = sdk.StatusActive
	c2.Title = "changed"
	c2.UserName, c2.UserNameKey = "Ann.Upn@corp.EXAMPLE", "ann.upn@corp.example"
	wantErr(t, "UpdateMember(into taken userName)", s.UpdateMember(ctx, sdk.MemberWrite{Member: c2, ExpectedVersion: carl.Version, Seat: sdk.SeatTake, PasswordHash: &hash}),
		sdk.ErrAlreadyExists, sdk.ReasonUserNameTaken)
	if got, _ := s.GetMember(ctx, tn.ID, carl.ID); memberDiff(got, carl) != "" {
		t.Fatalf("a refused update changed the member: %s", memberDiff(got, carl))
	}
	if _, err := s.GetCredentials(ctx, tn.ID, carl.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("a refused update wrote the password: %v", err)
	}
	if got := mustGetTenant(t, s, tn.ID).SeatsUsed; got != used {
		t.Fatalf("a refused update kept its seat: %d → %d", used, got)
	}
	if got, _ := s.GetMemberBy(ctx, tn.ID, sdk.KeyUserName, "ann.upn@corp.example"); got == nil || got.ID != ann.ID {
		t.Fatalf("the userName moved: %v", got)
	}

	// A userName freed by an update can be taken.
	a2 := ann.Clone()
	a2.UserName, a2.UserNameKey = "ann@example.com", "ann@example.com"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: a2, ExpectedVersion: ann.Version}); err != nil {
		t.Fatal(err)
	}
	c3 := carl.Clone()
	c3.UserName, c3.UserNameKey = "ann.upn@corp.example", "ann.upn@corp.example"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: c3, ExpectedVersion: carl.Version}); err != nil {
		t.Fatalf("taking a freed userName: %v", err)
	}
	if got, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyUserName, "ann.upn@corp.example"); err != nil || got.ID != carl.ID {
		t.Fatalf("GetMemberBy(KeyUserName) after the move = %v, %v", got, err)
	}
}

// testPasswordWrites checks MemberWrite.PasswordHash: written with the
// member in one write, visible through GetCredentials (and
// GetMemberWithPasswordHash), left alone by writes without one, never
// written by a refused write, and without touching TOTP state.
func testPasswordWrites(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)
	reader, _ := s.(sdk.PasswordHashReader)
	wantHash := func(what string, m *sdk.Member, hash string, totp string) {
		t.Helper()
		cr, err := s.GetCredentials(ctx, tn.ID, m.ID)
		if err != nil {
			t.Fatalf("%s: GetCredentials: %v", what, err)
		}
		if cr.PasswordHash != hash || cr.TOTPSecret != totp || cr.TenantID != tn.ID || cr.MemberID != m.ID {
			t.Fatalf("%s: GetCredentials = %+v, want hash %q, TOTP secret %q", what, cr, hash, totp)
		}
		if reader == nil {
			return
		}
		got, h, err := reader.GetMemberWithPasswordHash(ctx, tn.ID, m.ID)
		if err != nil || h != hash {
			t.Fatalf("%s: GetMemberWithPasswordHash = %q, %v; want %q", what, h, err, hash)
		}
		if d := memberDiff(got, m); d != "" {
			t.Fatalf("%s: GetMemberWithPasswordHash member: %s", what, d)
		}
	}

	// Created with a password.
	h1 := "$argon2id$v=19$m=65536,t=1,p=2$one"
	m := fullMember(tn.ID, "pw")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake, PasswordHash: &h1}); err != nil {
		t.Fatal(err)
	}
	wantHash("after CreateMember", m, h1, "")

	// Created without one: no credentials, an empty hash.
	plain := newMember(tn.ID, "plain@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: plain, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCredentials(ctx, tn.ID, plain.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("GetCredentials of a member created without a password = %v, want not found", err)
	}
	if reader != nil {
		if _, h, err := reader.GetMemberWithPasswordHash(ctx, tn.ID, plain.ID); err != nil || h != "" {
			t.Fatalf("GetMemberWithPasswordHash without a password = %q, %v", h, err)
		}
		_, _, err := reader.GetMemberWithPasswordHash(ctx, tn.ID, "nope")
		wantErr(t, "GetMemberWithPasswordHash(unknown)", err, sdk.ErrNotFound, "")
	}

	// TOTP enrolled through PutCredentials (carrying a stale hash, which
	// it ignores), then the password changed by a member write: the TOTP
	// state survives.
	if err := s.PutCredentials(ctx, &sdk.Credentials{TenantID: tn.ID, MemberID: m.ID, PasswordHash: "stale", TOTPSecret: "SECRET", TOTPLastStep: 5, UpdatedAt: epoch}); err != nil {
		t.Fatal(err)
	}
	wantHash("after PutCredentials", m, h1, "SECRET")
	h2 := "$argon2id$v=19$m=65536,t=1,p=2$two"
	m.Title = "with a new password"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version, PasswordHash: &h2}); err != nil {
		t.Fatal(err)
	}
	wantHash("after UpdateMember with a password", m, h2, "SECRET")
	if cr, _ := s.GetCredentials(ctx, tn.ID, m.ID); cr.TOTPLastStep != 5 {
		t.Fatalf("a password write moved the TOTP step: %+v", cr)
	}
	if ok, err := s.AdvanceTOTPStep(ctx, tn.ID, m.ID, 6); err != nil || !ok {
		t.Fatalf("AdvanceTOTPStep after a password write = %v, %v", ok, err)
	}

	// A write without a password leaves it.
	m.Title = "without a password"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version}); err != nil {
		t.Fatal(err)
	}
	wantHash("after UpdateMember without a password", m, h2, "SECRET")

	// A stale write with a password writes neither.
	stale := m.Clone()
	stale.Title = "stale"
	h3 := "$argon2id$v=19$m=65536,t=1,p=2$three"
	wantErr(t, "UpdateMember(stale, with a password)", s.UpdateMember(ctx, sdk.MemberWrite{Member: stale, ExpectedVersion: m.Version - 1, PasswordHash: &h3}),
		sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	wantHash("after a stale UpdateMember", m, h2, "SECRET")
	// So does a write refused for a taken email.
	taken := m.Clone()
	setEmail(taken, "plain@x.test")
	wantErr(t, "UpdateMember(taken email, with a password)", s.UpdateMember(ctx, sdk.MemberWrite{Member: taken, ExpectedVersion: m.Version, PasswordHash: &h3}),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	wantHash("after a refused UpdateMember", m, h2, "SECRET")

	// An empty hash removes the password and keeps TOTP.
	empty := ""
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version, PasswordHash: &empty}); err != nil {
		t.Fatal(err)
	}
	wantHash("after removing the password", m, "", "SECRET")

	// PutCredentials never sets a password, whatever hash it carries (a
	// TOTP change made from credentials read before a password change must
	// not undo it); a member write does.
	if err := s.PutCredentials(ctx, &sdk.Credentials{TenantID: tn.ID, MemberID: m.ID, PasswordHash: h3, TOTPSecret: "SECRET", UpdatedAt: epoch}); err != nil {
		t.Fatal(err)
	}
	wantHash("after PutCredentials carrying a hash", m, "", "SECRET")
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version, PasswordHash: &h1}); err != nil {
		t.Fatal(err)
	}
	wantHash("after UpdateMember replacing it", m, h1, "SECRET")

	// A member created with a password and removed leaves no password
	// behind once its credentials are deleted.
	if err := s.DeleteCredentials(ctx, tn.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCredentials(ctx, tn.ID, m.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("GetCredentials after DeleteCredentials = %v, want not found", err)
	}
	if reader != nil {
		if _, h, err := reader.GetMemberWithPasswordHash(ctx, tn.ID, m.ID); err != nil || h != "" {
			t.Fatalf("GetMemberWithPasswordHash after DeleteCredentials = %q, %v", h, err)
		}
	}
	// Other tenants see nothing.
	if _, err := s.GetCredentials(ctx, "other-tenant", m.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("credentials leak across tenants: %v", err)
	}
}
