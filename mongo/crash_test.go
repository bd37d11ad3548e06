package mongo

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

var errCrash = errors.New("simulated crash")

// hook installs fn as the test hook of s (see crashPoint) until the test
// ends.
func hook(t testing.TB, s *Store, fn func(point string) error) {
	hooksOn.Store(true)
	testHooks.Store(s, fn)
	t.Cleanup(func() { testHooks.Delete(s) })
}

// crashAt makes s stop at point, once, as if the process died there.
func crashAt(t testing.TB, s *testStore, point string) {
	var crashed atomic.Bool
	hook(t, s.raw(), func(p string) error {
		if p == point && crashed.CompareAndSwap(false, true) {
			return errCrash
		}
		return nil
	})
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
// and its member step, and checks that the counter only ever errs high,
// that an intent records the step, and that Reconcile brings the counter
// back and settles the intents.
func TestCrashSeatWindows(t *testing.T) {
	deactivated := func(m *sdk.Member) *sdk.Member {
		d := m.Clone()
		d.Status = sdk.StatusDeactivated
		return d
	}
	cases := []struct {
		point string
		// high is how many seats the counter counts too many after the
		// crash.
		high int
		run  func(t *testing.T, s *testStore, tn *sdk.Tenant, m, off *sdk.Member) error
	}{
		{"CreateMember.seatTaken", 1, func(t *testing.T, s *testStore, tn *sdk.Tenant, _, _ *sdk.Member) error {
			return s.CreateMember(t.Context(), sdk.MemberWrite{Member: newMember(tn.ID, "new@x.test"), Seat: sdk.SeatTake})
		}},
		{"CreateMembers.seatsTaken", 2, func(t *testing.T, s *testStore, tn *sdk.Tenant, _, _ *sdk.Member) error {
			return errors.Join(s.CreateMembers(t.Context(), []sdk.MemberWrite{
				{Member: newMember(tn.ID, "new1@x.test"), Seat: sdk.SeatTake},
				{Member: newMember(tn.ID, "new2@x.test"), Seat: sdk.SeatTake},
			})...)
		}},
		{"UpdateMember.seatTaken", 1, func(t *testing.T, s *testStore, _ *sdk.Tenant, _, off *sdk.Member) error {
			on := off.Clone()
			on.Status = sdk.StatusActive
			return s.UpdateMember(t.Context(), sdk.MemberWrite{Member: on, ExpectedVersion: off.Version, Seat: sdk.SeatTake})
		}},
		// A crash after the release intent and before the write changes
		// nothing but the intent.
		{"UpdateMember.releasing", 0, func(t *testing.T, s *testStore, _ *sdk.Tenant, m, _ *sdk.Member) error {
			return s.UpdateMember(t.Context(), sdk.MemberWrite{Member: deactivated(m), ExpectedVersion: m.Version, Seat: sdk.SeatRelease})
		}},
		{"UpdateMember.written", 1, func(t *testing.T, s *testStore, _ *sdk.Tenant, m, _ *sdk.Member) error {
			return s.UpdateMember(t.Context(), sdk.MemberWrite{Member: deactivated(m), ExpectedVersion: m.Version, Seat: sdk.SeatRelease})
		}},
		{"DeleteMember.releasing", 0, func(t *testing.T, s *testStore, tn *sdk.Tenant, m, _ *sdk.Member) error {
			return s.DeleteMember(t.Context(), sdk.MemberDelete{TenantID: tn.ID, ID: m.ID, ExpectedVersion: m.Version, Seat: sdk.SeatRelease})
		}},
		{"DeleteMember.deleted", 1, func(t *testing.T, s *testStore, tn *sdk.Tenant, m, _ *sdk.Member) error {
			return s.DeleteMember(t.Context(), sdk.MemberDelete{TenantID: tn.ID, ID: m.ID, ExpectedVersion: m.Version, Seat: sdk.SeatRelease})
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
			if err := s.CreateMember(t.Context(), sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
				t.Fatal(err)
			}
			off := newMember(tn.ID, "off@x.test")
			off.Status = sdk.StatusDeactivated
			if err := s.CreateMember(t.Context(), sdk.MemberWrite{Member: off}); err != nil {
				t.Fatal(err)
			}
			crashAt(t, s, c.point)
			if err := c.run(t, s, tn, m, off); !errors.Is(err, errCrash) {
				t.Fatalf("err = %v, want the simulated crash", err)
			}
			held := holders(t, s, tn.ID)
			d := rawTenant(t, s, tn.ID)
			if d.SeatsUsed != held+c.high {
				t.Fatalf("after the crash seatsUsed = %d, want %d (%d too high)", d.SeatsUsed, held+c.high, c.high)
			}
			if len(d.SeatTakes)+len(d.SeatReleases) == 0 {
				t.Fatal("the crash left no seat intent")
			}
			rep := reconcile(t, s, tn.ID)
			if rep.SeatsBefore != held+c.high || rep.SeatsAfter != held {
				t.Fatalf("Reconcile report %+v, want seats %d → %d", rep, held+c.high, held)
			}
			checkCounter(t, s, tn.ID)
			if d := rawTenant(t, s, tn.ID); len(d.SeatTakes)+len(d.SeatReleases) != 0 {
				t.Fatalf("intents left after Reconcile: takes %v, releases %v", d.SeatTakes, d.SeatReleases)
			}
		})
	}
}

// TestCrashCreateTenant stops CreateTenant after the tenant insert: the
// owner member is missing until Reconcile restores it from pendingOwner.
func TestCrashCreateTenant(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	crashAt(t, s, "CreateTenant.tenantInserted")
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
	crashAt(t, s, "CreateTenant.ownerInserted")
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

// crashingRoles is a store whose member updates fail once SetOwner has
// switched the owner, as if the process died right after the ownership
// compare-and-set.
type crashingRoles struct {
	sdk.Store
	switched atomic.Bool
}

func (c *crashingRoles) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	t, err := c.Store.SetOwner(ctx, tenantID, from, to, now)
	if err == nil {
		c.switched.Store(true)
	}
	return t, err
}

func (c *crashingRoles) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	if c.switched.Load() {
		return errCrash
	}
	return c.Store.UpdateMember(ctx, w)
}

// TestCrashOwnershipTransfer interrupts a transfer after SetOwner, before
// the old owner's role follows, and checks that Reconcile finishes it.
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
	if _, err := sdk.New(&crashingRoles{Store: s}).TransferOwnership(ctx, sdk.MemberActor(owner.ID), tn.ID, bob.ID); err == nil {
		t.Fatal("transfer with crashing role updates succeeded")
	}
	got := tenantOf(t, s, tn.ID)
	if got.OwnerID != bob.ID {
		t.Fatalf("owner %s, want %s: the CAS should have happened", got.OwnerID, bob.ID)
	}
	if a, _ := s.GetMember(ctx, tn.ID, owner.ID); a.Role != "owner" {
		t.Fatal("the old owner's role already moved; the crash was not simulated")
	}
	rep := reconcile(t, s, tn.ID)
	if rep.RolesRepaired == 0 {
		t.Fatalf("Reconcile repaired no role (report %+v)", rep)
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

	crashAt(t, s, "AddGroupMembers.edges")
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

	crashAt(t, s, "DeleteGroup.deleted")
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
