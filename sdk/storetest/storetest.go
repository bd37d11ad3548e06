// Package storetest is the conformance suite of the [sdk.Store] contract.
// Every store runs it with one call from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) sdk.Store { return memstore.New() })
//	}
//
// newStore must return a store that shares no tenants, and no addresses
// written with [sdk.MemberWrite.GlobalEmail], with any other store it
// returned (a fresh database, for example), and may be called from
// several goroutines at once: the suite's groups run in parallel
// ([testing.T.Parallel]), each on stores of its own. The suite checks the
// contract method by method (outcomes and error codes, case-insensitive uniqueness,
// addresses unique across tenants, atomic seat accounting, versions,
// paging order and cost, paging by position). Then it drives two
// [sdk.Client] values on the store (two servers) through races whose store
// calls it orders one by one
// — every gap between two store steps of one operation sees the whole
// other operation, and two operations alternate call by call — for
// ownership against removal and deactivation, for one address across
// tenants, for the last seat against a recount; and it races many
// goroutines — for the last seat, for one email, for ownership, for seats
// under churn — and checks the invariants afterwards.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// Option changes what [Run] runs.
type Option func(*config)

type config struct{ skip, only map[string]bool }

// Skip leaves out the named top-level groups of the suite (such as
// "Interleaving"), for a store whose identical stack another package's
// tests already put through them, when running them twice would only
// double a slow store's time. Say where they run in a comment.
func Skip(groups ...string) Option {
	return func(c *config) {
		for _, g := range groups {
			c.skip[g] = true
		}
	}
}

// Only runs just the named top-level groups of the suite, for a store
// whose identical stack another package's tests put through the rest.
// Say where they run in a comment.
func Only(groups ...string) Option {
	return func(c *config) {
		for _, g := range groups {
			c.only[g] = true
		}
	}
}

// Run runs the whole suite against stores made by newStore, less what
// the options leave out.
func Run(t *testing.T, newStore func(t *testing.T) sdk.Store, opts ...Option) {
	cfg := config{skip: map[string]bool{}, only: map[string]bool{}}
	for _, o := range opts {
		o(&cfg)
	}
	group := func(name string, f func(t *testing.T)) {
		if !cfg.skip[name] && (len(cfg.only) == 0 || cfg.only[name]) {
			parallel(t, name, f)
		}
	}
	group("Tenants", func(t *testing.T) { testTenants(t, newStore(t)) })
	group("Members", func(t *testing.T) { testMembers(t, newStore(t)) })
	group("MemberKeys", func(t *testing.T) { testMemberKeys(t, newStore(t)) })
	group("Uniqueness", func(t *testing.T) { testUniqueness(t, newStore(t)) })
	group("GlobalEmail", func(t *testing.T) { testGlobalEmail(t, newStore(t)) })
	group("Profile", func(t *testing.T) { testProfile(t, newStore(t)) })
	group("UserNames", func(t *testing.T) { testUserNames(t, newStore(t)) })
	group("PasswordWrites", func(t *testing.T) { testPasswordWrites(t, newStore(t)) })
	group("Seats", func(t *testing.T) { testSeats(t, newStore(t)) })
	group("Versions", func(t *testing.T) { testVersions(t, newStore(t)) })
	group("Owner", func(t *testing.T) { testOwner(t, newStore(t)) })
	group("Pagination", func(t *testing.T) { testPagination(t, newStore(t)) })
	group("Filters", func(t *testing.T) { testFilters(t, newStore(t)) })
	group("Offset", func(t *testing.T) { testOffset(t, newStore(t)) })
	group("Audit", func(t *testing.T) { testAudit(t, newStore(t)) })
	group("AuditedWrites", func(t *testing.T) { testAuditedWrites(t, newStore(t)) })
	group("Reconcile", func(t *testing.T) { testReconcile(t, newStore(t)) })
	group("Where", func(t *testing.T) { testWhere(t, newStore(t)) })
	group("WhereProfile", func(t *testing.T) { testWhereProfile(t, newStore(t)) })
	group("Groups", func(t *testing.T) { testGroups(t, newStore(t)) })
	group("GroupEdges", func(t *testing.T) { testGroupEdgesAtScale(t, newStore(t)) })
	group("Tokens", func(t *testing.T) { testTokens(t, newStore(t)) })
	group("Invitations", func(t *testing.T) { testInvitations(t, newStore(t)) })
	group("Credentials", func(t *testing.T) { testCredentials(t, newStore(t)) })
	group("Bulk", func(t *testing.T) { testBulk(t, newStore(t)) })
	group("OverLimit", func(t *testing.T) { testOverLimit(t, newStore(t)) })
	group("Scan", func(t *testing.T) { testScan(t, newStore(t)) })
	group("DeleteTenant", func(t *testing.T) { testDeleteTenant(t, newStore(t)) })
	group("Interleaving", func(t *testing.T) { testInterleaving(t, newStore) })
	group("Concurrency", func(t *testing.T) {
		parallel(t, "LastSeat", func(t *testing.T) { testRaceLastSeat(t, newStore(t)) })
		parallel(t, "OneEmail", func(t *testing.T) { testRaceOneEmail(t, newStore(t)) })
		parallel(t, "Ownership", func(t *testing.T) { testRaceOwnership(t, newStore(t)) })
		parallel(t, "SeatChurn", func(t *testing.T) { testRaceSeatChurn(t, newStore(t)) })
		parallel(t, "GroupAdds", func(t *testing.T) { testRaceGroupAdds(t, newStore(t)) })
	})
}

// parallel runs f as a subtest in parallel with its siblings. The suite's
// tests share nothing but newStore, and a slow store's tests (FerretDB
// under -race) leave a processor idle between their calls.
func parallel(t *testing.T, name string, f func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		f(t)
	})
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture creates a tenant with an owner directly through the store.
func fixture(t *testing.T, s sdk.Store, slug string, seats int) (*sdk.Tenant, *sdk.Member) {
	t.Helper()
	roles, _ := sdk.PresetRoles(sdk.PresetStandard)
	tn := &sdk.Tenant{
		ID: sdk.NewID(), Slug: slug, Name: slug, IncludedSeats: seats, SeatsUsed: 1,
		Roles: roles, Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
	}
	owner := newMember(tn.ID, "owner@"+slug+".test")
	owner.Role = "owner"
	tn.OwnerID = owner.ID
	if err := s.CreateTenant(t.Context(), tn, sdk.MemberWrite{Member: owner}); err != nil {
		t.Fatalf("CreateTenant(%s): %v", slug, err)
	}
	return tn, owner
}

// newMember returns a member of the tenant with the profile the SDK gives
// a member added by email alone (see setEmail).
func newMember(tenantID, email string) *sdk.Member {
	m := &sdk.Member{
		ID: sdk.NewID(), TenantID: tenantID,
		Role: "standard", Status: sdk.StatusActive, Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
	}
	setEmail(m, email)
	return m
}

// setEmail sets m's email the way the SDK does for a member known by
// email alone: the address is its userName and its one, primary, work
// email, and the keys are derived from them.
func setEmail(m *sdk.Member, email string) {
	m.UserName = email
	m.Emails = []sdk.Email{{Value: email, Type: "work", Primary: true}}
	m.Email = m.MemberEmail()
	m.EmailKey = sdk.NormalizeEmail(m.Email)
	m.UserNameKey = sdk.NormalizeUserName(m.UserName)
}

func mustGetTenant(t *testing.T, s sdk.Store, id string) *sdk.Tenant {
	t.Helper()
	tn, err := s.GetTenant(t.Context(), id)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	return tn
}

// wantErr fails unless err matches the code sentinel and, when given, the
// reason.
func wantErr(t *testing.T, what string, err error, code error, reason sdk.Reason) {
	t.Helper()
	if !errors.Is(err, code) {
		t.Fatalf("%s: err = %v, want %v", what, err, code)
	}
	if reason != "" && sdk.ReasonOf(err) != reason {
		t.Fatalf("%s: reason = %q, want %q (err %v)", what, sdk.ReasonOf(err), reason, err)
	}
}

func testTenants(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, owner := fixture(t, s, "acme", 5)

	got := mustGetTenant(t, s, tn.ID)
	if got.Slug != "acme" || got.OwnerID != owner.ID || got.IncludedSeats != 5 || got.SeatsUsed != 1 || got.Version != 1 {
		t.Fatalf("GetTenant = %+v", got)
	}
	if len(got.Roles) != 3 || got.Roles[0].Name != "owner" || !slices.Contains(got.Roles[1].Permissions, sdk.PermTeamManage) {
		t.Fatalf("roles not round-tripped: %+v", got.Roles)
	}
	if !got.CreatedAt.Equal(epoch) {
		t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, epoch)
	}
	bySlug, err := s.GetTenantBySlug(ctx, "acme")
	if err != nil || bySlug.ID != tn.ID {
		t.Fatalf("GetTenantBySlug = %v, %v", bySlug, err)
	}
	om, err := s.GetMember(ctx, tn.ID, owner.ID)
	if err != nil || om.Email != owner.Email {
		t.Fatalf("owner member = %v, %v", om, err)
	}

	_, err = s.GetTenant(ctx, "nope")
	wantErr(t, "GetTenant(unknown)", err, sdk.ErrNotFound, "")
	_, err = s.GetTenantBySlug(ctx, "nope")
	wantErr(t, "GetTenantBySlug(unknown)", err, sdk.ErrNotFound, "")

	dup := tn.Clone()
	dup.ID = sdk.NewID()
	err = s.CreateTenant(ctx, dup, sdk.MemberWrite{Member: newMember(dup.ID, "x@acme.test")})
	wantErr(t, "CreateTenant(same slug)", err, sdk.ErrAlreadyExists, sdk.ReasonSlugTaken)

	// Update: name/settings/roles change, owner and seats don't.
	upd := got.Clone()
	upd.Name = "Acme Inc"
	upd.Settings.InvitePolicy = sdk.InviteOwnerOnly
	upd.OwnerID = "someone-else"
	upd.SeatsUsed = 99
	upd.UpdatedAt = epoch.Add(time.Hour)
	if err := s.UpdateTenant(ctx, upd, got.Version); err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	if upd.Version != got.Version+1 {
		t.Fatalf("UpdateTenant left Version %d, want %d", upd.Version, got.Version+1)
	}
	got2 := mustGetTenant(t, s, tn.ID)
	if got2.Name != "Acme Inc" || got2.Settings.InvitePolicy != sdk.InviteOwnerOnly || got2.OwnerID != owner.ID || got2.SeatsUsed != 1 {
		t.Fatalf("after UpdateTenant: %+v", got2)
	}
	err = s.UpdateTenant(ctx, upd, got.Version)
	wantErr(t, "UpdateTenant(stale)", err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)

	// Every setting survives a round trip. The check below fails on a
	// setting added to sdk.Settings but not to this value, so a new one
	// cannot be forgotten by a store.
	every := sdk.Settings{
		SeatStates:               []sdk.Status{sdk.StatusActive, sdk.StatusInvited},
		InvitePolicy:             sdk.InviteOwnerOnly,
		DefaultRole:              "standard",
		SuccessorRole:            "admin",
		UniqueEmailAcrossTenants: true,
		ActOnEqualRank:           true,
		InvitationTTL:            48 * time.Hour,
		RequireMFA:               true,
		CustomAttributes:         []sdk.CustomAttribute{{Name: "badge", Type: sdk.CustomString, Description: "door badge"}},
	}
	sv := reflect.ValueOf(every)
	for i := range sv.NumField() {
		if sv.Field(i).IsZero() {
			t.Fatalf("storetest: set Settings.%s in the round trip", sv.Type().Field(i).Name)
		}
	}
	upd = got2.Clone()
	upd.Settings = every
	if err := s.UpdateTenant(ctx, upd, got2.Version); err != nil {
		t.Fatalf("UpdateTenant(every setting): %v", err)
	}
	if got3 := mustGetTenant(t, s, tn.ID); !reflect.DeepEqual(got3.Settings, every) {
		t.Fatalf("settings after a round trip:\n got %+v\nwant %+v", got3.Settings, every)
	}
	ghost := got2.Clone()
	ghost.ID = "ghost"
	wantErr(t, "UpdateTenant(unknown)", s.UpdateTenant(ctx, ghost, 1), sdk.ErrNotFound, "")

	// List in id order with a lower bound.
	var ids []string
	ids = append(ids, tn.ID)
	for i := range 4 {
		x, _ := fixture(t, s, fmt.Sprintf("t%d", i), 1)
		ids = append(ids, x.ID)
	}
	slices.Sort(ids)
	all, err := s.ListTenants(ctx, sdk.TenantQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if gotIDs := tenantIDs(all); !slices.Equal(gotIDs, ids) {
		t.Fatalf("ListTenants = %v, want %v", gotIDs, ids)
	}
	page, err := s.ListTenants(ctx, sdk.TenantQuery{After: ids[1], Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if gotIDs := tenantIDs(page); !slices.Equal(gotIDs, ids[2:4]) {
		t.Fatalf("ListTenants(after, 2) = %v, want %v", gotIDs, ids[2:4])
	}
}

func tenantIDs(ts []*sdk.Tenant) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func memberIDs(ms []*sdk.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func testMembers(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)
	m := newMember(tn.ID, "Bob.Smith@Example.com")
	m.ExternalID = "E-1"
	m.GivenName, m.FamilyName, m.DisplayName = "Bob", "Smith", "Bobby"
	m.Department, m.Title, m.ManagerID = "Eng", "Dev", "mgr"
	m.SessionEpoch = 3
	m.MFAEnrolled = true
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("CreateMember: %v", err)
	}
	got, err := s.GetMember(ctx, tn.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != m.Email || got.EmailKey != "bob.smith@example.com" || got.ExternalID != "E-1" ||
		got.GivenName != "Bob" || got.FamilyName != "Smith" || got.DisplayName != "Bobby" ||
		got.Department != "Eng" || got.Title != "Dev" || got.ManagerID != "mgr" ||
		got.SessionEpoch != 3 || !got.MFAEnrolled || got.Version != 1 || got.Status != sdk.StatusActive {
		t.Fatalf("GetMember round trip = %+v", got)
	}
	if byEmail, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyEmail, "bob.smith@example.com"); err != nil || byEmail.ID != m.ID {
		t.Fatalf("GetMemberBy(KeyEmail) = %v, %v", byEmail, err)
	}
	if byExt, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyExternalID, "E-1"); err != nil || byExt.ID != m.ID {
		t.Fatalf("GetMemberBy(KeyExternalID) = %v, %v", byExt, err)
	}
	_, err = s.GetMemberBy(ctx, tn.ID, sdk.KeyExternalID, "")
	wantErr(t, "GetMemberBy(KeyExternalID, empty)", err, sdk.ErrNotFound, "")
	_, err = s.GetMember(ctx, tn.ID, "nope")
	wantErr(t, "GetMember(unknown)", err, sdk.ErrNotFound, "")

	// Tenant isolation: another tenant cannot see the member.
	other, _ := fixture(t, s, "other", 10)
	_, err = s.GetMember(ctx, other.ID, m.ID)
	wantErr(t, "GetMember(other tenant)", err, sdk.ErrNotFound, "")
	_, err = s.GetMemberBy(ctx, other.ID, sdk.KeyEmail, "bob.smith@example.com")
	wantErr(t, "GetMemberBy(KeyEmail, other tenant)", err, sdk.ErrNotFound, "")
	if in, err := s.EmailInOtherTenant(ctx, other.ID, "bob.smith@example.com"); err != nil || !in {
		t.Fatalf("EmailInOtherTenant(other) = %v, %v; want true", in, err)
	}
	if in, err := s.EmailInOtherTenant(ctx, tn.ID, "bob.smith@example.com"); err != nil || in {
		t.Fatalf("EmailInOtherTenant(own tenant) = %v, %v; want false", in, err)
	}

	err = s.CreateMember(ctx, sdk.MemberWrite{Member: newMember("no-such-tenant", "x@example.com"), Seat: sdk.SeatTake})
	wantErr(t, "CreateMember(unknown tenant)", err, sdk.ErrNotFound, "")

	// Update replaces the document and bumps the version.
	got.Title = "Lead"
	setEmail(got, "robert@example.com")
	got.ExternalID = ""
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: got, ExpectedVersion: 1}); err != nil {
		t.Fatalf("UpdateMember: %v", err)
	}
	if got.Version != 2 {
		t.Fatalf("UpdateMember left version %d, want 2", got.Version)
	}
	again, _ := s.GetMember(ctx, tn.ID, m.ID)
	if again.Title != "Lead" || again.Version != 2 || again.EmailKey != "robert@example.com" || again.ExternalID != "" {
		t.Fatalf("after UpdateMember: %+v", again)
	}
	if _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyEmail, "bob.smith@example.com"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("old email still resolves: %v", err)
	}
	if _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyExternalID, "E-1"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("cleared external id still resolves: %v", err)
	}
	// The freed email and external id can be reused.
	reuse := newMember(tn.ID, "BOB.SMITH@example.com")
	reuse.ExternalID = "E-1"
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: reuse, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("reusing a freed email and external id: %v", err)
	}

	wantErr(t, "DeleteMember(stale)", s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m.ID, ExpectedVersion: 1, Seat: sdk.SeatRelease}), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m.ID, ExpectedVersion: 2, Seat: sdk.SeatRelease}); err != nil {
		t.Fatalf("DeleteMember: %v", err)
	}
	_, err = s.GetMember(ctx, tn.ID, m.ID)
	wantErr(t, "GetMember(deleted)", err, sdk.ErrNotFound, "")
	wantErr(t, "DeleteMember(deleted)", s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m.ID, ExpectedVersion: 2, Seat: sdk.SeatRelease}), sdk.ErrNotFound, "")
	wantErr(t, "UpdateMember(deleted)", s.UpdateMember(ctx, sdk.MemberWrite{Member: again, ExpectedVersion: 2}), sdk.ErrNotFound, "")
	if n, err := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{}); err != nil || n != 2 {
		t.Fatalf("CountMembers = %d, %v; want 2 (owner and reuse)", n, err)
	}
}

func testUniqueness(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 100)
	a := newMember(tn.ID, "ann@example.com")
	a.ExternalID = "X1"
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: a, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	before := mustGetTenant(t, s, tn.ID).SeatsUsed

	dupEmail := newMember(tn.ID, "ANN@Example.COM")
	wantErr(t, "CreateMember(same email, other case)", s.CreateMember(ctx, sdk.MemberWrite{Member: dupEmail, Seat: sdk.SeatTake}), sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	dupExt := newMember(tn.ID, "other@example.com")
	dupExt.ExternalID = "X1"
	wantErr(t, "CreateMember(same external id)", s.CreateMember(ctx, sdk.MemberWrite{Member: dupExt, Seat: sdk.SeatTake}), sdk.ErrAlreadyExists, sdk.ReasonExternalIDTaken)
	if after := mustGetTenant(t, s, tn.ID).SeatsUsed; after != before {
		t.Fatalf("a refused create kept a seat: SeatsUsed %d → %d", before, after)
	}

	// Plus-addressing is a different address; members without an external
	// id don't collide with each other.
	for _, e := range []string{"ann+sales@example.com", "bob@example.com", "carl@example.com"} {
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, e), Seat: sdk.SeatTake}); err != nil {
			t.Fatalf("CreateMember(%s): %v", e, err)
		}
	}
	// The same address in another tenant is fine at the store level.
	other, _ := fixture(t, s, "other", 5)
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(other.ID, "ann@example.com"), Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("same email in another tenant: %v", err)
	}
	// Updating into a taken email is refused and changes nothing.
	b, _ := s.GetMemberBy(ctx, tn.ID, sdk.KeyEmail, "bob@example.com")
	b2 := b.Clone()
	setEmail(b2, "Ann@example.com")
	wantErr(t, "UpdateMember(into taken email)", s.UpdateMember(ctx, sdk.MemberWrite{Member: b2, ExpectedVersion: b.Version}), sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	b3 := b.Clone()
	b3.ExternalID = "X1"
	wantErr(t, "UpdateMember(into taken external id)", s.UpdateMember(ctx, sdk.MemberWrite{Member: b3, ExpectedVersion: b.Version}), sdk.ErrAlreadyExists, sdk.ReasonExternalIDTaken)
	if got, _ := s.GetMember(ctx, tn.ID, b.ID); got.EmailKey != "bob@example.com" || got.Version != b.Version {
		t.Fatalf("refused update changed the member: %+v", got)
	}
}

func testVersions(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)
	m := newMember(tn.ID, "a@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	a, _ := s.GetMember(ctx, tn.ID, m.ID)
	b, _ := s.GetMember(ctx, tn.ID, m.ID)
	a.Title = "first"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: a, ExpectedVersion: 1}); err != nil {
		t.Fatal(err)
	}
	b.Title = "second"
	wantErr(t, "UpdateMember(lost update)", s.UpdateMember(ctx, sdk.MemberWrite{Member: b, ExpectedVersion: 1}), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	if got, _ := s.GetMember(ctx, tn.ID, m.ID); got.Title != "first" || got.Version != 2 {
		t.Fatalf("stale write landed: %+v", got)
	}
	// A stale write that would take a seat takes none.
	used := mustGetTenant(t, s, tn.ID).SeatsUsed
	b.Status = sdk.StatusActive
	wantErr(t, "UpdateMember(stale, +1 seat)", s.UpdateMember(ctx, sdk.MemberWrite{Member: b, ExpectedVersion: 1, Seat: sdk.SeatTake}), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	if got := mustGetTenant(t, s, tn.ID).SeatsUsed; got != used {
		t.Fatalf("stale update kept a seat: %d → %d", used, got)
	}
	// Tenant versions: seats and owner changes bump, seat usage does not.
	v := mustGetTenant(t, s, tn.ID).Version
	if _, err := s.AdjustExtraSeats(ctx, tn.ID, 1, epoch); err != nil {
		t.Fatal(err)
	}
	if got := mustGetTenant(t, s, tn.ID).Version; got != v+1 {
		t.Fatalf("AdjustExtraSeats: version %d, want %d", got, v+1)
	}
	// A create decided on an older tenant version writes nothing and takes
	// no seat, with or without one; on the current version it lands.
	for _, seat := range []sdk.SeatChange{sdk.SeatTake, sdk.SeatKeep} {
		used := mustGetTenant(t, s, tn.ID).SeatsUsed
		late := newMember(tn.ID, fmt.Sprintf("late%d@x.test", seat))
		wantErr(t, fmt.Sprintf("CreateMember(stale tenant version, seat %d)", seat),
			s.CreateMember(ctx, sdk.MemberWrite{Member: late, Seat: seat, TenantVersion: v}), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
		if _, err := s.GetMember(ctx, tn.ID, late.ID); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("a create on a stale tenant version was stored: %v", err)
		}
		if got := mustGetTenant(t, s, tn.ID).SeatsUsed; got != used {
			t.Fatalf("a create on a stale tenant version kept a seat: %d → %d", used, got)
		}
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: late, Seat: seat, TenantVersion: v + 1}); err != nil {
			t.Fatalf("CreateMember(current tenant version, seat %d): %v", seat, err)
		}
	}
	wantErr(t, "CreateMember(missing tenant, with a version)", s.CreateMember(ctx, sdk.MemberWrite{Member: newMember("no-such-tenant", "z@x.test"), Seat: sdk.SeatTake, TenantVersion: 1}), sdk.ErrNotFound, "")
}

func testOwner(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, owner := fixture(t, s, "acme", 10)
	m := newMember(tn.ID, "a@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	nt, err := s.SetOwner(ctx, tn.ID, owner.ID, m.ID, epoch)
	if err != nil || nt.OwnerID != m.ID {
		t.Fatalf("SetOwner = %+v, %v", nt, err)
	}
	// A second transfer from the old owner loses: exactly one owner.
	_, err = s.SetOwner(ctx, tn.ID, owner.ID, owner.ID, epoch)
	wantErr(t, "SetOwner(stale from)", err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	if got := mustGetTenant(t, s, tn.ID); got.OwnerID != m.ID || got.Version != tn.Version+1 {
		t.Fatalf("owner %s version %d, want %s and %d", got.OwnerID, got.Version, m.ID, tn.Version+1)
	}
	_, err = s.SetOwner(ctx, "nope", "a", "b", epoch)
	wantErr(t, "SetOwner(unknown tenant)", err, sdk.ErrNotFound, "")
}

func testPagination(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, owner := fixture(t, s, "acme", 1000)
	want := []string{owner.ID}
	var ws []sdk.MemberWrite
	for i := range 120 {
		m := newMember(tn.ID, fmt.Sprintf("user%03d@x.test", i))
		ws = append(ws, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake})
		want = append(want, m.ID)
	}
	writeMembers(t, s, ws)
	slices.Sort(want)
	var got []string
	after := ""
	for {
		page, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{After: after, Limit: 25})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 25 {
			t.Fatalf("page of %d, limit 25", len(page))
		}
		got = append(got, memberIDs(page)...)
		if len(page) < 25 {
			break
		}
		after = page[len(page)-1].ID
		// Writes between pages neither repeat nor skip members already
		// listed: delete one already seen.
		if len(got) == 50 {
			first, _ := s.GetMember(ctx, tn.ID, got[0])
			if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: first.ID, ExpectedVersion: first.Version, Seat: sdk.SeatRelease}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paging returned %d ids (sorted %v), want %d in id order", len(got), slices.IsSorted(got), len(want))
	}
	// An `After` that is not a member id still works as a bound.
	page, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{After: want[10] + "\x00", Limit: 3})
	if err != nil || !slices.Equal(memberIDs(page), want[11:14]) {
		t.Fatalf("ListMembers(after non-id) = %v, %v", memberIDs(page), err)
	}
	// Empty tenant: an empty, non-nil slice.
	empty, err := s.ListMembers(ctx, "no-such-tenant", sdk.MemberQuery{Limit: 10})
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("ListMembers(unknown tenant) = %v, %v; want empty non-nil", empty, err)
	}
}

func testFilters(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 100)
	add := func(email, given, family, display, role string, st sdk.Status) {
		m := newMember(tn.ID, email)
		m.GivenName, m.FamilyName, m.DisplayName, m.Role, m.Status = given, family, display, role, st
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
			t.Fatal(err)
		}
	}
	add("alice@x.test", "Alice", "Zeta", "", "admin", sdk.StatusActive)
	add("bob@x.test", "Bob", "Alpha", "", "standard", sdk.StatusDeactivated)
	add("carol@x.test", "Carol", "Young", "Al (Carol)", "standard", sdk.StatusActive)
	add("dan.a+x@x.test", "Dan", "Brown", "", "standard", sdk.StatusActive)
	add("al.x@x.test", "Xavier", "Q", "", "admin", sdk.StatusActive)
	cases := []struct {
		f    sdk.MemberFilter
		want []string
	}{
		{sdk.MemberFilter{Status: sdk.StatusDeactivated}, []string{"bob@x.test"}},
		{sdk.MemberFilter{Role: "admin"}, []string{"al.x@x.test", "alice@x.test"}},
		{sdk.MemberFilter{Prefix: "al"}, []string{"al.x@x.test", "alice@x.test", "bob@x.test", "carol@x.test"}},
		{sdk.MemberFilter{Prefix: "al", Status: sdk.StatusActive, Role: "standard"}, []string{"carol@x.test"}},
		{sdk.MemberFilter{Prefix: "dan.a+"}, []string{"dan.a+x@x.test"}},
		{sdk.MemberFilter{Prefix: ".*"}, nil},
		{sdk.MemberFilter{Prefix: "zz"}, nil},
	}
	for _, c := range cases {
		ms, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Filter: c.f, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.EmailKey)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("ListMembers(%+v) = %v, want %v", c.f, got, c.want)
		}
		n, err := s.CountMembers(ctx, tn.ID, c.f)
		if err != nil || n != len(c.want) {
			t.Errorf("CountMembers(%+v) = %d, %v; want %d", c.f, n, err, len(c.want))
		}
	}
}

func testAudit(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)
	other, _ := fixture(t, s, "other", 10)
	var ids []string
	for i := range 30 {
		e := &sdk.AuditEvent{
			ID: sdk.NewID(), TenantID: tn.ID, Time: epoch.Add(time.Duration(i) * time.Minute),
			ActorKind: sdk.ActorMember, ActorID: fmt.Sprintf("actor%d", i%3), Channel: sdk.AuditChannels[i%3],
			Action: []string{"member.added", "member.removed"}[i%2], TargetID: fmt.Sprintf("m%d", i%5),
			Before: map[string]string{"role": "standard"}, After: map[string]string{"role": "admin"},
		}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
		if i == 0 {
			// Appending the same event twice logs it once.
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.AppendAudit(ctx, &sdk.AuditEvent{ID: sdk.NewID(), TenantID: other.ID, Time: epoch, Action: "x"}); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(ids)
	all, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("ListAudit returned %d events, want %d newest first", len(got), len(ids))
	}
	if all[0].Before["role"] != "standard" || all[0].After["role"] != "admin" || all[0].Channel != sdk.AuditChannels[29%3] {
		t.Fatalf("event fields not round-tripped: %+v", all[0])
	}
	page, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{Before: ids[9], Limit: 5})
	if err != nil || len(page) != 5 || page[0].ID != ids[10] {
		t.Fatalf("ListAudit(before) = %d events, %v", len(page), err)
	}
	f, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{ActorID: "actor1", Action: "member.added", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range f {
		if e.ActorID != "actor1" || e.Action != "member.added" {
			t.Fatalf("filter let through %+v", e)
		}
	}
	if len(f) != 5 { // i%3==1 and i%2==0 → i in {4,10,16,22,28}
		t.Fatalf("filtered %d events, want 5", len(f))
	}
	// The channel filter: "scim" is the channel of actor1's events.
	ch, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{Channel: "scim", Action: "member.added", Limit: 100})
	if err != nil || len(ch) != 5 {
		t.Fatalf("channel filter = %d events, %v; want 5", len(ch), err)
	}
	for _, e := range ch {
		if e.Channel != "scim" || e.ActorID != "actor1" {
			t.Fatalf("channel filter let through %+v", e)
		}
	}
	if none, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{Channel: "system", Limit: 100}); err != nil || len(none) != 0 {
		t.Fatalf("channel filter (system) = %d events, %v; want 0", len(none), err)
	}
	tr, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{TargetID: "m0", Since: epoch.Add(10 * time.Minute), Until: epoch.Add(25 * time.Minute), Limit: 100})
	if err != nil || len(tr) != 3 { // i in {10,15,20}
		t.Fatalf("target+time filter = %d events, %v; want 3", len(tr), err)
	}
}
