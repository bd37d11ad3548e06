package sdk_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// tenantReads counts GetTenant calls.
type tenantReads struct {
	sdk.Store
	n atomic.Int64
}

func (s *tenantReads) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	s.n.Add(1)
	return s.Store.GetTenant(ctx, id)
}

// Two clients on one store, as two servers on one database: each decides
// on its own snapshot of the tenant, and the store's version condition
// keeps a stale decision from landing.
func TestAddMemberTenantSnapshots(t *testing.T) {
	ctx := t.Context()
	store := &tenantReads{Store: memstore.New()}
	a, b := sdk.New(store), sdk.New(store)
	sys := sdk.SystemActor()
	tn, _, err := a.CreateTenant(ctx, sys, sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "o@acme.test", IncludedSeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	add := func(c *sdk.Client, email, role string) (*sdk.Member, error) {
		return c.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: tn.ID, Email: email, Role: role})
	}
	members := func() int {
		n, err := a.CountMembers(ctx, tn.ID, sdk.ListMembersOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// a created the tenant, so it holds a snapshot: adding reads no tenant.
	reads := store.n.Load()
	if _, err := add(a, "m1@acme.test", ""); err != nil {
		t.Fatal(err)
	}
	m2, err := add(a, "m2@acme.test", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := store.n.Load() - reads; got != 0 {
		t.Errorf("two AddMember calls on a known tenant read it %d time(s), want 0", got)
	}
	// A refusal made on a snapshot is made again on fresh data: the seat
	// limit is reached and a reads the tenant (its snapshot says full), then
	// b frees a seat, which does not change the tenant's version.
	if _, err := add(a, "m3@acme.test", ""); !errors.Is(err, sdk.ErrResourceExhausted) {
		t.Fatalf("add past the limit = %v, want the seat limit", err)
	}
	if full, err := a.Tenant(ctx, tn.ID); err != nil || full.SeatsFree() != 0 {
		t.Fatalf("a's read of the full tenant: %+v, %v", full, err)
	}
	if err := b.RemoveMember(ctx, sys, tn.ID, m2.ID); err != nil {
		t.Fatal(err)
	}
	reads = store.n.Load()
	if _, err := add(a, "m3@acme.test", ""); err != nil {
		t.Fatalf("add after b freed a seat, on a snapshot that says full: %v", err)
	}
	if got := store.n.Load() - reads; got != 1 {
		t.Errorf("the add refused by a's snapshot read the tenant %d time(s), want 1 (to decide again)", got)
	}

	// b adds two roles and a reads them (a role unknown to a snapshot is
	// looked up again).
	cur, err := b.Tenant(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	low := cur.Roles[len(cur.Roles)-1].Rank
	roles := append(cur.Roles, sdk.Role{Name: "temp1", Rank: low - 1}, sdk.Role{Name: "temp2", Rank: low - 2})
	if _, err := b.AddSeats(ctx, sys, tn.ID, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UpdateTenant(ctx, sys, sdk.UpdateTenantRequest{TenantID: tn.ID, Roles: roles}); err != nil {
		t.Fatal(err)
	}
	if _, err := add(a, "t1@acme.test", "temp1"); err != nil {
		t.Fatalf("add with a role b just created: %v", err)
	}
	// b deletes temp2, which a's snapshot still has: the snapshot allows,
	// the store refuses the stale version, the fresh decision refuses.
	if _, err := b.UpdateTenant(ctx, sys, sdk.UpdateTenantRequest{TenantID: tn.ID, Roles: roles[:len(roles)-1]}); err != nil {
		t.Fatal(err)
	}
	before := members()
	_, err = add(a, "t2@acme.test", "temp2")
	if sdk.ReasonOf(err) != sdk.ReasonUnknownRole {
		t.Fatalf("add with a role b deleted = %v, want %s", err, sdk.ReasonUnknownRole)
	}
	if got := members(); got != before {
		t.Fatalf("the refused add wrote a member: %d → %d", before, got)
	}
}

// Member updates decide on a snapshot younger than MemberSnapshotMaxAge:
// no tenant read in a provisioning run's steady state, a refusal decided
// again on fresh data, and an ownership change seen at once.
func TestUpdateMemberTenantSnapshots(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	store := &tenantReads{Store: memstore.New()}
	a := sdk.New(store, sdk.WithClock(clock.Now))
	b := sdk.New(store, sdk.WithClock(clock.Now))
	sys, tok := sdk.SystemActor(), sdk.TokenActor("t1")
	tn, owner, err := a.CreateTenant(ctx, sys, sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "o@acme.test", IncludedSeats: 5})
	if err != nil {
		t.Fatal(err)
	}
	x, err := a.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: tn.ID, Email: "x@acme.test", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	title := func(c *sdk.Client, id, v string) (*sdk.Member, error) {
		return c.UpdateMember(ctx, tok, sdk.UpdateMemberRequest{TenantID: tn.ID, MemberID: id, Profile: sdk.Profile{Title: v}, Fields: []sdk.Field{sdk.FieldTitle}})
	}
	if _, err := title(b, x.ID, "one"); err != nil { // b reads the tenant once
		t.Fatal(err)
	}
	reads := store.n.Load()
	if _, err := title(b, x.ID, "two"); err != nil {
		t.Fatal(err)
	}
	if got := store.n.Load() - reads; got != 0 {
		t.Errorf("an update on a recent snapshot read the tenant %d time(s)", got)
	}
	// a declares a custom attribute; b's snapshot lacks it, refuses, and
	// decides again on fresh data.
	if _, err := a.UpdateTenant(ctx, sys, sdk.UpdateTenantRequest{TenantID: tn.ID,
		Settings: &sdk.Settings{CustomAttributes: []sdk.CustomAttribute{{Name: "badge", Type: sdk.CustomInteger}}}}); err != nil {
		t.Fatal(err)
	}
	m, err := b.UpdateMember(ctx, tok, sdk.UpdateMemberRequest{TenantID: tn.ID, MemberID: x.ID,
		Profile: sdk.Profile{Custom: map[string]string{"badge": "7"}}, Fields: []sdk.Field{sdk.CustomField("badge")}})
	if err != nil || m.Custom["badge"] != "7" {
		t.Fatalf("update with a newly declared attribute on a stale snapshot: %v", err)
	}
	// a transfers ownership to x; b's snapshot still names the old owner,
	// yet b refuses to deactivate x.
	if _, err := a.TransferOwnership(ctx, sdk.MemberActor(owner.ID), tn.ID, x.ID); err != nil {
		t.Fatal(err)
	}
	off := sdk.StatusDeactivated
	_, err = b.UpdateMember(ctx, tok, sdk.UpdateMemberRequest{TenantID: tn.ID, MemberID: x.ID, Status: &off})
	if sdk.ReasonOf(err) != sdk.ReasonTargetIsOwner {
		t.Fatalf("deactivating the new owner through a stale snapshot: %v", err)
	}
	// Past MemberSnapshotMaxAge, b reads the tenant again.
	clock.Advance(sdk.MemberSnapshotMaxAge)
	reads = store.n.Load()
	if _, err := title(b, owner.ID, "three"); err != nil || store.n.Load() == reads {
		t.Errorf("an old snapshot was used (reads %d), err %v", store.n.Load()-reads, err)
	}
}
