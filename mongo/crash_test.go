package mongo

import (
	"context"
	"errors"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

var errCrash = errors.New("simulated crash")

// crashAt makes s stop at point, once, as if the process died there.
func crashAt(s *Store, point string) {
	s.crash = func(p string) error {
		if p != point {
			return nil
		}
		s.crash = nil
		return errCrash
	}
}

func reconcile(t *testing.T, s sdk.Store, tenantID string) *sdk.ReconcileReport {
	t.Helper()
	rep, err := sdk.New(s).Reconcile(t.Context(), tenantID)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return rep
}

// TestCrashSeatWindows interrupts each member write between its seat step
// and its member step, and checks that the counter only ever errs high and
// that Reconcile brings it back.
func TestCrashSeatWindows(t *testing.T) {
	cases := []struct {
		point string
		run   func(t *testing.T, s *Store, tn *sdk.Tenant, m *sdk.Member) error
	}{
		{"CreateMember.seatTaken", func(t *testing.T, s *Store, tn *sdk.Tenant, _ *sdk.Member) error {
			return s.CreateMember(t.Context(), sdk.MemberWrite{Member: newMember(tn.ID, "new@x.test"), HoldsSeat: true})
		}},
		{"UpdateMember.written", func(t *testing.T, s *Store, tn *sdk.Tenant, m *sdk.Member) error {
			d := m.Clone()
			d.Status = sdk.StatusDeactivated
			return s.UpdateMember(t.Context(), sdk.MemberWrite{Member: d, ExpectedVersion: m.Version, SeatDelta: -1})
		}},
		{"DeleteMember.deleted", func(t *testing.T, s *Store, tn *sdk.Tenant, m *sdk.Member) error {
			return s.DeleteMember(t.Context(), tn.ID, m.ID, m.Version, true)
		}},
	}
	for _, c := range cases {
		t.Run(c.point, func(t *testing.T) {
			s := openStore(t)
			tn, _ := newTenant(t, s, "acme", 5)
			// Deactivated members hold no seat in this tenant.
			tn.Settings.SeatStates = []sdk.Status{sdk.StatusActive, sdk.StatusInvited}
			if err := s.UpdateTenant(t.Context(), tn, tn.Version); err != nil {
				t.Fatal(err)
			}
			m := newMember(tn.ID, "m@x.test")
			if err := s.CreateMember(t.Context(), sdk.MemberWrite{Member: m, HoldsSeat: true}); err != nil {
				t.Fatal(err)
			}
			crashAt(s, c.point)
			if err := c.run(t, s, tn, m); !errors.Is(err, errCrash) {
				t.Fatalf("err = %v, want the simulated crash", err)
			}
			held := holders(t, s, tn.ID)
			if got := tenantOf(t, s, tn.ID).SeatsUsed; got != held+1 {
				t.Fatalf("after the crash seatsUsed = %d, want %d (one too high)", got, held+1)
			}
			rep := reconcile(t, s, tn.ID)
			if rep.SeatsBefore != held+1 || rep.SeatsAfter != held {
				t.Fatalf("Reconcile report %+v, want seats %d → %d", rep, held+1, held)
			}
			checkCounter(t, s, tn.ID)
		})
	}
}

// TestCrashCreateTenant stops CreateTenant after the tenant insert: the
// owner member is missing until Reconcile restores it from pendingOwner.
func TestCrashCreateTenant(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	crashAt(s, "CreateTenant.tenantInserted")
	c := sdk.New(s)
	_, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 3})
	if !errors.Is(err, errCrash) {
		t.Fatalf("CreateTenant = %v, want the simulated crash", err)
	}
	tn, err := s.GetTenantBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMember(ctx, tn.ID, tn.OwnerID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("owner member before repair: %v", err)
	}
	rep := reconcile(t, s, tn.ID)
	owner, err := s.GetMember(ctx, tn.ID, tn.OwnerID)
	if err != nil || owner.EmailKey != "ann@acme.test" || owner.Role != tn.OwnerRole() {
		t.Fatalf("owner after repair = %+v, %v (report %+v)", owner, err, rep)
	}
	if d := rawTenant(t, s, tn.ID); d.PendingOwner != nil || d.SeatsUsed != 1 {
		t.Fatalf("after repair: pendingOwner %v seatsUsed %d", d.PendingOwner, d.SeatsUsed)
	}
	checkCounter(t, s, tn.ID)

	// A crash after the owner insert leaves only the copy, which the repair
	// removes without touching the owner.
	crashAt(s, "CreateTenant.ownerInserted")
	_, _, err = c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "beta", OwnerEmail: "bo@beta.test", IncludedSeats: 3})
	if !errors.Is(err, errCrash) {
		t.Fatalf("CreateTenant = %v, want the simulated crash", err)
	}
	tb, _ := s.GetTenantBySlug(ctx, "beta")
	if d := rawTenant(t, s, tb.ID); d.PendingOwner == nil {
		t.Fatal("pendingOwner already cleared")
	}
	reconcile(t, s, tb.ID)
	if d := rawTenant(t, s, tb.ID); d.PendingOwner != nil {
		t.Fatal("pendingOwner left after the repair")
	}
	checkCounter(t, s, tb.ID)

	// Without a crash nothing is left behind.
	tc, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "gamma", OwnerEmail: "g@gamma.test", IncludedSeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d := rawTenant(t, s, tc.ID); d.PendingOwner != nil {
		t.Fatal("pendingOwner left after a complete CreateTenant")
	}
}

// crashingRoles is a store whose member updates fail, as if the process
// died right after the ownership compare-and-set.
type crashingRoles struct{ *Store }

func (crashingRoles) UpdateMember(context.Context, sdk.MemberWrite) error { return errCrash }

// TestCrashOwnershipTransfer interrupts a transfer after SetOwner, before
// the roles follow, and checks that Reconcile finishes it.
func TestCrashOwnershipTransfer(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	c := sdk.New(s)
	tn, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 5})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := c.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tn.ID, Email: "bob@acme.test", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.New(crashingRoles{s}).TransferOwnership(ctx, sdk.MemberActor(owner.ID), tn.ID, bob.ID); err == nil {
		t.Fatal("transfer with crashing role updates succeeded")
	}
	got := tenantOf(t, s, tn.ID)
	if got.OwnerID != bob.ID {
		t.Fatalf("owner %s, want %s: the CAS should have happened", got.OwnerID, bob.ID)
	}
	if b, _ := s.GetMember(ctx, tn.ID, bob.ID); b.Role == "owner" {
		t.Fatal("roles already moved; the crash was not simulated")
	}
	rep := reconcile(t, s, tn.ID)
	if rep.RolesRepaired != 2 {
		t.Fatalf("Reconcile repaired %d roles, want 2 (report %+v)", rep.RolesRepaired, rep)
	}
	b, _ := s.GetMember(ctx, tn.ID, bob.ID)
	a, _ := s.GetMember(ctx, tn.ID, owner.ID)
	if b.Role != "owner" || a.Role != "admin" {
		t.Fatalf("after repair: new owner %q, old owner %q", b.Role, a.Role)
	}
	if rep := reconcile(t, s, tn.ID); rep.RolesRepaired != 0 || rep.SeatsBefore != rep.SeatsAfter {
		t.Fatalf("second Reconcile repaired something: %+v", rep)
	}
}

// TestCrashGroupWindows interrupts the two group writes that are two steps:
// adding a member (edge written, group not bumped yet) and deleting a group
// (group gone, edges not pulled yet). A re-run of the add, and
// ReconcileGroups after the delete, converge: the member in the group once,
// the version bumped, no edge to the deleted group.
func TestCrashGroupWindows(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 10)
	c := sdk.New(s)
	m, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: "m@x.test"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	actor := sdk.TokenActor("tok")

	crashAt(s, "AddGroupMembers.edges")
	if _, err := c.AddGroupMembers(ctx, actor, tn.ID, g.ID, []string{m.ID}); !errors.Is(err, errCrash) {
		t.Fatalf("AddGroupMembers with a crash = %v", err)
	}
	if cur, _ := s.GetGroup(ctx, tn.ID, g.ID); cur.Version != g.Version {
		t.Fatalf("the group was bumped before the crash point: %d → %d", g.Version, cur.Version)
	}
	after, err := c.AddGroupMembers(ctx, actor, tn.ID, g.ID, []string{m.ID})
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if after.Version != g.Version+1 {
		t.Fatalf("version after the re-run %d, want %d", after.Version, g.Version+1)
	}
	if ids, _ := s.ListGroupMembers(ctx, tn.ID, g.ID, "", 10); len(ids) != 1 || ids[0] != m.ID {
		t.Fatalf("members after the re-run = %v", ids)
	}

	crashAt(s, "DeleteGroup.deleted")
	if err := c.DeleteGroup(ctx, actor, tn.ID, g.ID, after.Version); !errors.Is(err, errCrash) {
		t.Fatalf("DeleteGroup with a crash = %v", err)
	}
	if groups, _ := c.GroupsOf(ctx, tn.ID, m.ID); len(groups) != 0 {
		t.Fatalf("GroupsOf names a deleted group: %v", groups)
	}
	rep, err := c.ReconcileGroups(ctx, tn.ID)
	if err != nil || rep.EdgesRemoved != 1 {
		t.Fatalf("ReconcileGroups = %+v, %v; want the deleted group's edge removed", rep, err)
	}
	if edges, _ := s.ListMemberGroups(ctx, tn.ID, []string{m.ID}); len(edges) != 0 {
		t.Fatalf("edges after ReconcileGroups = %v", edges)
	}
}
