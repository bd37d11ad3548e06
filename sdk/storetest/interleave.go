package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// testInterleaving runs the races whose store calls the test orders (see
// interleave, which gives each family of rounds a store of its own), and
// their goroutine variants, each on its own store.
func testInterleaving(t *testing.T, newStore func(t *testing.T) sdk.Store) {
	for _, by := range []string{"system", "admin"} {
		parallel(t, "TransferVsRemove/by_"+by, func(t *testing.T) { interleave(t, newStore, transferVsRemove(by)) })
		parallel(t, "TransferVsDeactivate/by_"+by, func(t *testing.T) { interleave(t, newStore, transferVsDeactivate(by)) })
	}
	parallel(t, "UniqueEmailAcrossTenants", func(t *testing.T) { interleave(t, newStore, uniqueEmailRace()) })
	parallel(t, "UniqueEmailAcrossTenants/NewOwner", func(t *testing.T) { interleave(t, newStore, newOwnerEmailRace()) })
	parallel(t, "UniqueEmailAcrossTenants/Goroutines", func(t *testing.T) { testUniqueEmailGoroutines(t, newStore(t)) })
	parallel(t, "RecountVsAdd", func(t *testing.T) { interleave(t, newStore, recountVsAdd()) })
	parallel(t, "DeleteTenantVsAdd", func(t *testing.T) { interleave(t, newStore, deleteVsAdd()) })
	parallel(t, "RecountVsChurn", func(t *testing.T) { testRecountChurn(t, newStore) })
	parallel(t, "UnknownManager", func(t *testing.T) { testUnknownManager(t, newStore(t)) })
}

// team creates a tenant through c with a unique slug, and members with the
// given roles (added by the owner, in order).
func team(t *testing.T, c *sdk.Client, req sdk.CreateTenantRequest, roles ...string) (*sdk.Tenant, *sdk.Member, []*sdk.Member) {
	t.Helper()
	ctx := t.Context()
	req.Slug = "il-" + strings.ToLower(sdk.NewID())
	req.OwnerEmail = "owner@" + req.Slug + ".test"
	if req.IncludedSeats == 0 {
		req.IncludedSeats = 10
	}
	tn, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), req)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	var ms []*sdk.Member
	for i, role := range roles {
		m, err := c.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{
			TenantID: tn.ID, Email: fmt.Sprintf("m%d@%s.test", i, req.Slug), Role: role,
		})
		if err != nil {
			t.Fatalf("AddMember(%s): %v", role, err)
		}
		ms = append(ms, m)
	}
	return tn, owner, ms
}

// teamIn is team written straight to s: the tenant and members the SDK's
// CreateTenant and AddMember would store, in half the commands (no reads,
// no audit events); through the SDK, this fixture was a third of an
// interleaving round on FerretDB. What the rounds race goes through the
// SDK.
func teamIn(t *testing.T, s sdk.Store, req sdk.CreateTenantRequest, roles ...string) (*sdk.Tenant, *sdk.Member, []*sdk.Member) {
	t.Helper()
	ctx := t.Context()
	slug := "il-" + strings.ToLower(sdk.NewID())
	if req.IncludedSeats == 0 {
		req.IncludedSeats = 10
	}
	presets, _ := sdk.PresetRoles(sdk.PresetStandard)
	tn := &sdk.Tenant{
		ID: sdk.NewID(), Slug: slug, Name: slug, IncludedSeats: req.IncludedSeats, SeatsUsed: 1,
		Roles: presets, Settings: req.Settings, Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
	}
	unique := req.Settings.UniqueEmailAcrossTenants
	owner := newMember(tn.ID, "owner@"+slug+".test")
	owner.Role = tn.OwnerRole()
	tn.OwnerID = owner.ID
	if err := s.CreateTenant(ctx, tn, sdk.MemberWrite{Member: owner, GlobalEmail: unique}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	var ms []*sdk.Member
	for i, role := range roles {
		m := newMember(tn.ID, fmt.Sprintf("m%d@%s.test", i, slug))
		m.Role = role
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake, GlobalEmail: unique}); err != nil {
			t.Fatalf("CreateMember(%s): %v", role, err)
		}
		ms = append(ms, m)
	}
	return tn, owner, ms
}

// checkOwner checks that the tenant's OwnerID names an existing, active
// member holding the owner role, and the invariants of checkInvariants
// (exactly one member holds the owner role, seats), and returns the
// tenant.
func checkOwner(t *testing.T, s sdk.Store, tenantID string) *sdk.Tenant {
	t.Helper()
	tn := mustGetTenant(t, s, tenantID)
	switch o, err := s.GetMember(context.WithoutCancel(t.Context()), tenantID, tn.OwnerID); {
	case err != nil:
		t.Errorf("the tenant's owner %s: %v", tn.OwnerID, err)
	case o.Status != sdk.StatusActive:
		t.Errorf("the tenant's owner %s is %s, want active", o.ID, o.Status)
	case o.Role != tn.OwnerRole():
		t.Errorf("the tenant's owner %s holds role %q, want %q", o.ID, o.Role, tn.OwnerRole())
	}
	checkInvariants(t, s, tenantID)
	return tn
}

// oneWinner fails unless exactly one of the two operations succeeded.
func oneWinner(t *testing.T, a, b string, errA, errB error) {
	t.Helper()
	if (errA == nil) == (errB == nil) {
		t.Errorf("%s returned %v and %s returned %v; want exactly one to succeed", a, errA, b, errB)
	}
}

// oneAddressWinner checks that of two writes of one address exactly one
// succeeded and the other was refused with ReasonEmailTakenElsewhere.
func oneAddressWinner(t *testing.T, a, b string, errA, errB error) {
	t.Helper()
	oneWinner(t, a, b, errA, errB)
	for what, err := range map[string]error{a: errA, b: errB} {
		if err != nil {
			wantReason(t, what, err, sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
		}
	}
}

// actorFor returns the actor of a removal or deactivation: the host
// system, or an admin of the tenant.
func actorFor(by string, admin *sdk.Member) sdk.Actor {
	if by == "admin" {
		return sdk.MemberActor(admin.ID)
	}
	return sdk.SystemActor()
}

// transferVsRemove races the owner's transfer of ownership to member B
// with the removal of B (by the host system or an admin). Either B is the
// active owner and the removal was refused with ReasonTargetIsOwner, or B
// is gone and the transfer failed; never does the tenant's owner name a
// removed member.
func transferVsRemove(by string) race {
	return race{a: "transfer", b: "remove", prepare: func(t *testing.T, s sdk.Store, c *sdk.Client) round {
		tn, owner, ms := teamIn(t, s, sdk.CreateTenantRequest{}, "standard", "admin")
		target, admin := ms[0], ms[1]
		return round{
			a: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.TransferOwnership(ctx, sdk.MemberActor(owner.ID), tn.ID, target.ID)
				return err
			},
			b: func(ctx context.Context, c *sdk.Client) error {
				return c.RemoveMember(ctx, actorFor(by, admin), tn.ID, target.ID)
			},
			check: func(t *testing.T, errA, errB error) {
				got := checkOwner(t, s, tn.ID)
				oneWinner(t, "transfer", "remove", errA, errB)
				if errB != nil {
					wantReason(t, "remove", errB, sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
					if got.OwnerID != target.ID {
						t.Errorf("the removal was refused but the owner is %s, not %s", got.OwnerID, target.ID)
					}
				}
				if errA != nil {
					if !errors.Is(errA, sdk.ErrNotFound) {
						wantReason(t, "transfer", errA, sdk.ErrFailedPrecondition, sdk.ReasonTargetNotActive, sdk.ReasonVersionMismatch)
					}
					if got.OwnerID != owner.ID {
						t.Errorf("the transfer failed but the owner is %s, not %s", got.OwnerID, owner.ID)
					}
				}
			},
		}
	}}
}

// transferVsDeactivate races the owner's transfer of ownership to member
// B with B's deactivation. Either B is the active owner and the
// deactivation was refused with ReasonTargetIsOwner, or B is deactivated
// and the transfer failed; never is the owner deactivated.
func transferVsDeactivate(by string) race {
	return race{a: "transfer", b: "deactivate", prepare: func(t *testing.T, s sdk.Store, c *sdk.Client) round {
		tn, owner, ms := teamIn(t, s, sdk.CreateTenantRequest{}, "standard", "admin")
		target, admin := ms[0], ms[1]
		return round{
			a: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.TransferOwnership(ctx, sdk.MemberActor(owner.ID), tn.ID, target.ID)
				return err
			},
			b: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.Deactivate(ctx, actorFor(by, admin), tn.ID, target.ID)
				return err
			},
			check: func(t *testing.T, errA, errB error) {
				got := checkOwner(t, s, tn.ID)
				oneWinner(t, "transfer", "deactivate", errA, errB)
				b, err := s.GetMember(context.WithoutCancel(t.Context()), tn.ID, target.ID)
				if err != nil {
					t.Fatalf("member B: %v", err)
				}
				if errB != nil {
					wantReason(t, "deactivate", errB, sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
				}
				if errA != nil {
					wantReason(t, "transfer", errA, sdk.ErrFailedPrecondition, sdk.ReasonTargetNotActive, sdk.ReasonVersionMismatch)
					if got.OwnerID != owner.ID {
						t.Errorf("the transfer failed but the owner is %s, not %s", got.OwnerID, owner.ID)
					}
				}
				if (b.Status == sdk.StatusDeactivated) != (errA != nil) {
					t.Errorf("B is %s and the transfer returned %v; B is deactivated exactly when the transfer failed", b.Status, errA)
				}
			},
		}
	}}
}

// uniqueEmailRace races two tenants requiring addresses unique across
// tenants (one set at creation, one through UpdateTenant) adding the same
// address, in two spellings: exactly one add succeeds, the other fails
// with ReasonEmailTakenElsewhere, and exactly one member has the address.
func uniqueEmailRace() race {
	return race{a: "add_x", b: "add_y", prepare: func(t *testing.T, s sdk.Store, c *sdk.Client) round {
		unique := sdk.Settings{UniqueEmailAcrossTenants: true}
		x, ownerX, _ := teamIn(t, s, sdk.CreateTenantRequest{Settings: unique})
		y, ownerY, _ := teamIn(t, s, sdk.CreateTenantRequest{})
		if _, err := c.UpdateTenant(t.Context(), sdk.SystemActor(), sdk.UpdateTenantRequest{TenantID: y.ID, Settings: &unique}); err != nil {
			t.Fatal(err)
		}
		addr := "a-" + strings.ToLower(sdk.NewID()) + "@x.test" // fresh: earlier rounds' winners hold theirs
		return round{
			a: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.AddMember(ctx, sdk.MemberActor(ownerX.ID), sdk.AddMemberRequest{TenantID: x.ID, Email: addr})
				return err
			},
			b: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.AddMember(ctx, sdk.MemberActor(ownerY.ID), sdk.AddMemberRequest{TenantID: y.ID, Email: strings.ToUpper(addr)})
				return err
			},
			check: func(t *testing.T, errA, errB error) {
				oneAddressWinner(t, "add_x", "add_y", errA, errB)
				if n := holders(t, s, sdk.NormalizeEmail(addr), x.ID, y.ID); n != 1 {
					t.Errorf("%d members have the address across both tenants, want 1", n)
				}
				checkInvariants(t, s, x.ID)
				checkInvariants(t, s, y.ID)
			},
		}
	}}
}

// newOwnerEmailRace races the creation of a tenant requiring unique
// addresses, whose owner has an address, with another such tenant adding
// the same address: exactly one succeeds, the other fails with
// ReasonEmailTakenElsewhere, and exactly one member has the address.
func newOwnerEmailRace() race {
	return race{a: "create_tenant", b: "add", prepare: func(t *testing.T, s sdk.Store, c *sdk.Client) round {
		unique := sdk.Settings{UniqueEmailAcrossTenants: true}
		y, ownerY, _ := teamIn(t, s, sdk.CreateTenantRequest{Settings: unique})
		addr := "o-" + strings.ToLower(sdk.NewID()) + "@x.test"
		slug := "il-" + strings.ToLower(sdk.NewID())
		var created *sdk.Tenant // set by the creation, read once both ended
		return round{
			a: func(ctx context.Context, c *sdk.Client) error {
				var err error
				created, _, err = c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
					Slug: slug, OwnerEmail: addr, IncludedSeats: 10, Settings: unique})
				return err
			},
			b: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.AddMember(ctx, sdk.MemberActor(ownerY.ID), sdk.AddMemberRequest{TenantID: y.ID, Email: strings.ToUpper(addr)})
				return err
			},
			check: func(t *testing.T, errA, errB error) {
				oneAddressWinner(t, "create_tenant", "add", errA, errB)
				ids := []string{y.ID}
				if created != nil {
					ids = append(ids, created.ID)
				}
				if n := holders(t, s, sdk.NormalizeEmail(addr), ids...); n != 1 {
					t.Errorf("%d members have the address across both tenants, want 1", n)
				}
			},
		}
	}}
}

// holders counts the members of the tenants with the address.
func holders(t *testing.T, s sdk.Store, emailKey string, tenantIDs ...string) int {
	t.Helper()
	n := 0
	for _, id := range tenantIDs {
		_, err := s.GetMemberBy(context.WithoutCancel(t.Context()), id, sdk.KeyEmail, emailKey)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, sdk.ErrNotFound):
			t.Fatalf("GetMemberBy(%s): %v", id, err)
		}
	}
	return n
}

// testUniqueEmailGoroutines races eight tenants requiring unique addresses
// for one address, from goroutines on two clients, round after round:
// each time exactly one add wins.
func testUniqueEmailGoroutines(t *testing.T, s sdk.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), roundTimeout)
	defer cancel()
	// Each store call yields first, so that the adds' steps interleave
	// even on a store whose calls take no time.
	ys := yielding{s}
	clients := []*sdk.Client{sdk.New(ys), sdk.New(ys)}
	var ids []string
	var owners []*sdk.Member
	for range 8 {
		tn, owner, _ := team(t, clients[0], sdk.CreateTenantRequest{Settings: sdk.Settings{UniqueEmailAcrossTenants: true}})
		ids, owners = append(ids, tn.ID), append(owners, owner)
	}
	for round := range 10 {
		addr := fmt.Sprintf("race%d-%s@x.test", round, strings.ToLower(sdk.NewID()))
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		ready := make(chan struct{})
		for i, id := range ids {
			wg.Go(func() {
				email := addr
				if i%2 == 1 {
					email = strings.ToUpper(addr)
				}
				<-ready
				_, errs[i] = clients[i%2].AddMember(ctx, sdk.MemberActor(owners[i].ID), sdk.AddMemberRequest{TenantID: id, Email: email})
			})
		}
		close(ready)
		wg.Wait()
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
			} else {
				wantReason(t, fmt.Sprintf("round %d, tenant %d", round, i), err, sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d of %d tenants added the address, want 1", round, wins, len(ids))
		}
		if n := holders(t, s, sdk.NormalizeEmail(addr), ids...); n != 1 {
			t.Errorf("round %d: %d members have the address across the tenants, want 1", round, n)
		}
		if t.Failed() {
			return
		}
	}
	for _, id := range ids {
		checkInvariants(t, s, id)
	}
}

// recountVsAdd races an add taking the last free seat with a seat recount
// (Reconcile). The add succeeds (a seat a recount voided is taken again);
// afterwards a second add finds no seat, members hold no more seats than
// the limit, and after a final Reconcile the counter equals them.
func recountVsAdd() race {
	return race{a: "add", b: "reconcile", prepare: func(t *testing.T, s sdk.Store, c *sdk.Client) round {
		tn, owner, _ := teamIn(t, s, sdk.CreateTenantRequest{IncludedSeats: 2})
		return round{
			a: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tn.ID, Email: "first@x.test"})
				return err
			},
			b: func(ctx context.Context, c *sdk.Client) error {
				_, err := c.Reconcile(ctx, tn.ID)
				return err
			},
			check: func(t *testing.T, errA, errB error) {
				if errA != nil {
					t.Errorf("add of the last free seat: %v", errA)
				}
				if errB != nil {
					wantReason(t, "reconcile", errB, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
				}
				_, err := c.AddMember(context.WithoutCancel(t.Context()), sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tn.ID, Email: "second@x.test"})
				wantReason(t, "add after the race", err, sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
				checkSeats(t, c, s, tn.ID)
			},
		}
	}}
}

// checkSeats checks that members hold no more seats than the limit and no
// more than the counter says, then reconciles (retrying while seats move)
// and checks the invariants, the counter now equal to the seats held.
func checkSeats(t *testing.T, c *sdk.Client, s sdk.Store, tenantID string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	tn := mustGetTenant(t, s, tenantID)
	ms, err := s.ListMembers(ctx, tenantID, sdk.MemberQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, m := range ms {
		if tn.Settings.HoldsSeat(m.Status) {
			held++
		}
	}
	if held > tn.SeatLimit() {
		t.Errorf("members hold %d seats, the limit is %d", held, tn.SeatLimit())
	}
	if tn.SeatsUsed < held {
		t.Errorf("the seat counter says %d, members hold %d: it must never count fewer", tn.SeatsUsed, held)
	}
	for attempt := 1; ; attempt++ {
		_, err := c.Reconcile(ctx, tenantID)
		if err == nil {
			break
		}
		if sdk.ReasonOf(err) != sdk.ReasonVersionMismatch || attempt == 10 {
			t.Fatalf("final Reconcile: %v", err)
		}
	}
	checkInvariants(t, s, tenantID)
}

// testRecountChurn runs member lifecycles (add, deactivate, reactivate,
// remove) from goroutines on two clients against a small seat limit, then
// fills the free seats, while another goroutine reconciles the tenant again
// and again; then it checks the seat invariants. A seat a recount loses is
// one more member admitted over the limit by the fill, so it shows. Five
// rounds, each on a fresh store (see interleave).
func testRecountChurn(t *testing.T, newStore func(t *testing.T) sdk.Store) {
	for round := range 5 {
		s := newStore(t)
		ys := yielding{s}
		clients := []*sdk.Client{sdk.New(ys), sdk.New(ys)}
		churn(t, s, clients, round)
		if t.Failed() {
			return
		}
	}
}

func churn(t *testing.T, s sdk.Store, clients []*sdk.Client, round int) {
	ctx, cancel := context.WithTimeout(t.Context(), roundTimeout)
	defer cancel()
	tn, owner, _ := team(t, clients[0], sdk.CreateTenantRequest{IncludedSeats: 4,
		Settings: sdk.Settings{SeatStates: []sdk.Status{sdk.StatusActive}}})
	actor := sdk.MemberActor(owner.ID)
	stop := make(chan struct{})
	recounted := make(chan int)
	go func() {
		n := 0
		defer func() { recounted <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := clients[n%2].Reconcile(ctx, tn.ID); err != nil && sdk.ReasonOf(err) != sdk.ReasonVersionMismatch {
				t.Errorf("round %d: reconcile: %v", round, err)
				return
			}
			n++
		}
	}()
	add := func(c *sdk.Client, email string) *sdk.Member {
		m, err := c.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: tn.ID, Email: email})
		if err != nil && sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
			t.Errorf("round %d: add: %v", round, err)
		}
		return m
	}
	var wg sync.WaitGroup
	for w := range 5 {
		wg.Go(func() {
			c := clients[w%2]
			for i := range 4 { // 5 workers × 4 = 20 lifecycles
				m := add(c, fmt.Sprintf("w%d-%d@x.test", w, i))
				if m == nil {
					continue
				}
				if _, err := c.Deactivate(ctx, actor, tn.ID, m.ID); err != nil {
					t.Errorf("round %d: deactivate: %v", round, err)
				}
				if _, err := c.Reactivate(ctx, actor, tn.ID, m.ID); err != nil && sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
					t.Errorf("round %d: reactivate: %v", round, err)
				}
				if i%2 == 0 {
					if err := c.RemoveMember(ctx, actor, tn.ID, m.ID); err != nil {
						t.Errorf("round %d: remove: %v", round, err)
					}
				}
			}
			for i := range 4 {
				if add(c, fmt.Sprintf("w%d-fill%d@x.test", w, i)) == nil {
					break
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if n := <-recounted; n == 0 {
		t.Logf("round %d: no recount ran during the churn", round)
	}
	checkSeats(t, clients[1], s, tn.ID)
}

// testUnknownManager checks that a manager id naming no member of the
// tenant (none at all, or a member of another tenant) is refused with
// ReasonUnknownManager on add and on update, writing nothing, while a
// member of the tenant is accepted.
func testUnknownManager(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	c := sdk.New(s)
	tn, owner, ms := team(t, c, sdk.CreateTenantRequest{}, "standard")
	_, _, others := team(t, c, sdk.CreateTenantRequest{}, "standard")
	boss, stranger := ms[0], others[0]
	actor := sdk.MemberActor(owner.ID)
	for _, bad := range []struct{ name, id string }{{"no member", "no-such-member"}, {"member of another tenant", stranger.ID}} {
		t.Run(strings.ReplaceAll(bad.name, " ", "_"), func(t *testing.T) {
			before := mustGetTenant(t, s, tn.ID)
			count, _ := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{})
			email := "report-" + strings.ToLower(sdk.NewID()) + "@x.test"
			req := sdk.AddMemberRequest{TenantID: tn.ID, Email: email}
			req.ManagerID = bad.id
			_, err := c.AddMember(ctx, actor, req)
			wantReason(t, "AddMember", err, sdk.ErrInvalidArgument, sdk.ReasonUnknownManager)
			if _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyEmail, email); !errors.Is(err, sdk.ErrNotFound) {
				t.Errorf("a refused add was stored: %v", err)
			}
			if n, _ := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{}); n != count {
				t.Errorf("%d members after a refused add, want %d", n, count)
			}
			if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != before.SeatsUsed {
				t.Errorf("a refused add moved the seat counter: %d → %d", before.SeatsUsed, got.SeatsUsed)
			}

			m, err := c.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: tn.ID, Email: "m-" + strings.ToLower(sdk.NewID()) + "@x.test"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.UpdateProfile(ctx, actor, sdk.UpdateProfileRequest{TenantID: tn.ID, MemberID: m.ID, ManagerID: &bad.id})
			wantReason(t, "UpdateProfile", err, sdk.ErrInvalidArgument, sdk.ReasonUnknownManager)
			up := sdk.UpdateMemberRequest{TenantID: tn.ID, MemberID: m.ID, Fields: []sdk.Field{sdk.FieldManagerID}}
			up.ManagerID = bad.id
			_, err = c.UpdateMember(ctx, actor, up)
			wantReason(t, "UpdateMember", err, sdk.ErrInvalidArgument, sdk.ReasonUnknownManager)
			if got, err := s.GetMember(ctx, tn.ID, m.ID); err != nil || got.Version != m.Version || got.ManagerID != "" {
				t.Errorf("a refused update was written: %+v, %v", got, err)
			}
		})
	}
	// A member of the tenant is a manager.
	req := sdk.AddMemberRequest{TenantID: tn.ID, Email: "report@x.test"}
	req.ManagerID = boss.ID
	m, err := c.AddMember(ctx, actor, req)
	if err != nil {
		t.Fatalf("AddMember(manager in the tenant): %v", err)
	}
	if got, _ := s.GetMember(ctx, tn.ID, m.ID); got == nil || got.ManagerID != boss.ID {
		t.Fatalf("stored manager = %+v, want %s", got, boss.ID)
	}
	self := owner.ID
	if _, err := c.UpdateProfile(ctx, actor, sdk.UpdateProfileRequest{TenantID: tn.ID, MemberID: m.ID, ManagerID: &self}); err != nil {
		t.Fatalf("UpdateProfile(manager in the tenant): %v", err)
	}
}

// wantReason fails unless err matches the code sentinel and carries one
// of the reasons.
func wantReason(t *testing.T, what string, err error, code error, reasons ...sdk.Reason) {
	t.Helper()
	if !errors.Is(err, code) {
		t.Errorf("%s: err = %v, want %v", what, err, code)
		return
	}
	for _, r := range reasons {
		if sdk.ReasonOf(err) == r {
			return
		}
	}
	t.Errorf("%s: reason %q, want one of %q (err %v)", what, sdk.ReasonOf(err), reasons, err)
}
