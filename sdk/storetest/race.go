package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// client returns an SDK client on s and a fresh tenant with the given seat
// limit.
func client(t *testing.T, s sdk.Store, seats int) (*sdk.Client, *sdk.Tenant, *sdk.Member) {
	t.Helper()
	c := sdk.New(s)
	tn, owner, err := c.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "race-" + strings.ToLower(sdk.NewID()[20:]), OwnerEmail: "owner@race.test", IncludedSeats: seats,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, tn, owner
}

const racers = 20

// checkInvariants verifies that the seat counter matches the members
// holding seats, that it never exceeds the limit, and that exactly one
// member holds the owner role and it is the tenant's owner.
func checkInvariants(t *testing.T, s sdk.Store, tenantID string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	tn := mustGetTenant(t, s, tenantID)
	ms, err := s.ListMembers(ctx, tenantID, sdk.MemberQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	held, owners := 0, 0
	emails := map[string]bool{}
	for _, m := range ms {
		if tn.Settings.HoldsSeat(m.Status) {
			held++
		}
		if m.Role == tn.OwnerRole() {
			owners++
			if m.ID != tn.OwnerID {
				t.Errorf("member %s holds the owner role but the owner is %s", m.ID, tn.OwnerID)
			}
		}
		if emails[m.EmailKey] {
			t.Errorf("email %s appears twice", m.EmailKey)
		}
		emails[m.EmailKey] = true
	}
	if held != tn.SeatsUsed {
		t.Errorf("seat counter %d, members holding seats %d", tn.SeatsUsed, held)
	}
	if tn.SeatsUsed > tn.SeatLimit() {
		t.Errorf("seats used %d exceed the limit %d", tn.SeatsUsed, tn.SeatLimit())
	}
	if owners != 1 {
		t.Errorf("%d members hold the owner role, want 1", owners)
	}
}

func testRaceLastSeat(t *testing.T, s sdk.Store) {
	c, tn, owner := client(t, s, 5)
	ctx := t.Context()
	for i := range 3 {
		if _, err := c.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("m%d@x.test", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var wins, seatLimit atomic.Int32
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			_, err := c.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("racer%d@x.test", i)})
			switch {
			case err == nil:
				wins.Add(1)
			case sdk.ReasonOf(err) == sdk.ReasonSeatLimit:
				seatLimit.Add(1)
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || seatLimit.Load() != racers-1 {
		t.Fatalf("%d won the last seat and %d were refused; want 1 and %d", wins.Load(), seatLimit.Load(), racers-1)
	}
	checkInvariants(t, s, tn.ID)
}

func testRaceOneEmail(t *testing.T, s sdk.Store) {
	c, tn, owner := client(t, s, 100)
	ctx := t.Context()
	var wins, taken atomic.Int32
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			email := "Same@Example.com"
			if i%2 == 1 {
				email = "same@EXAMPLE.com"
			}
			_, err := c.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tn.ID, Email: email})
			switch {
			case err == nil:
				wins.Add(1)
			case sdk.ReasonOf(err) == sdk.ReasonEmailTaken:
				taken.Add(1)
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || taken.Load() != racers-1 {
		t.Fatalf("%d created and %d refused; want 1 and %d", wins.Load(), taken.Load(), racers-1)
	}
	if got := mustGetTenant(t, s, tn.ID).SeatsUsed; got != 2 {
		t.Fatalf("seats used %d after the race, want 2 (owner and winner)", got)
	}
	checkInvariants(t, s, tn.ID)
}

func testRaceOwnership(t *testing.T, s sdk.Store) {
	c, tn, owner := client(t, s, 100)
	ctx := t.Context()
	var candidates []*sdk.Member
	for i := range 8 {
		m, err := c.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("c%d@x.test", i), Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		candidates = append(candidates, m)
	}
	// The owner transfers to eight members at once, and each candidate
	// also tries to grab ownership for themself: exactly one transfer wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, m := range candidates {
		wg.Go(func() {
			_, err := c.TransferOwnership(ctx, sdk.MemberActor(owner.ID), tn.ID, m.ID)
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, sdk.ErrFailedPrecondition) && !errors.Is(err, sdk.ErrPermissionDenied) {
				t.Errorf("transfer to %s: %v", m.ID, err)
			}
		})
		wg.Go(func() {
			if _, err := c.TransferOwnership(ctx, sdk.MemberActor(m.ID), tn.ID, m.ID); err == nil {
				t.Errorf("a non-owner took ownership")
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d transfers won, want exactly 1", wins.Load())
	}
	got := mustGetTenant(t, s, tn.ID)
	if got.OwnerID == owner.ID {
		t.Fatalf("ownership did not move")
	}
	old, _ := s.GetMember(ctx, tn.ID, owner.ID)
	if old.Role != "admin" {
		t.Fatalf("old owner's role = %q, want admin", old.Role)
	}
	checkInvariants(t, s, tn.ID)
}

// testRaceSeatChurn runs adds, deactivations, reactivations and removals
// concurrently on a small tenant and checks the seat invariants hold.
func testRaceSeatChurn(t *testing.T, s sdk.Store) {
	c, tn, owner := client(t, s, 6)
	ctx := t.Context()
	tn, err := c.UpdateTenant(ctx, sdk.SystemActor(), sdk.UpdateTenantRequest{TenantID: tn.ID, Settings: &sdk.Settings{SeatStates: []sdk.Status{sdk.StatusActive}}})
	if err != nil {
		t.Fatal(err)
	}
	actor := sdk.MemberActor(owner.ID)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 6 {
				m, err := c.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("g%d-%d@x.test", g, i)})
				if err != nil {
					if sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
						t.Errorf("add: %v", err)
					}
					continue
				}
				if _, err := c.Deactivate(ctx, actor, tn.ID, m.ID); err != nil {
					t.Errorf("deactivate: %v", err)
				}
				if _, err := c.Reactivate(ctx, actor, tn.ID, m.ID); err != nil && sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
					t.Errorf("reactivate: %v", err)
				}
				if i%2 == 0 {
					if err := c.RemoveMember(ctx, actor, tn.ID, m.ID); err != nil {
						t.Errorf("remove: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, s, tn.ID)
}
