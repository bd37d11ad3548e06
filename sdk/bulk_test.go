package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

func TestBulkPerItemResults(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	ids := []string{w.std.ID, w.owner.ID, w.admin.ID, "ghost", w.std2.ID, w.std.ID}
	res, err := w.c.BulkRemove(ctx, w.adminA, w.t.ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.Reason{"", sdk.ReasonTargetIsOwner, sdk.ReasonSelfAction, "not found", "", sdk.ReasonDuplicateItem}
	for i, it := range res.Items {
		switch {
		case want[i] == "" && it.Err != nil:
			t.Errorf("item %d: %v", i, it.Err)
		case want[i] == "not found" && !errors.Is(it.Err, sdk.ErrNotFound):
			t.Errorf("item %d: %v, want not found", i, it.Err)
		case want[i] != "" && want[i] != "not found" && sdk.ReasonOf(it.Err) != want[i]:
			t.Errorf("item %d: %v, want %s", i, it.Err, want[i])
		}
		if it.Index != i || it.Key != ids[i] {
			t.Errorf("item %d has index %d key %s", i, it.Index, it.Key)
		}
	}
	if res.Succeeded != 2 || res.Failed != 4 {
		t.Fatalf("succeeded %d failed %d, want 2 and 4", res.Succeeded, res.Failed)
	}
	if n := w.count(t); n != 3 {
		t.Fatalf("%d members left, want 3", n)
	}
	for _, bad := range [][]string{nil, {}} {
		_, err := w.c.BulkRemove(ctx, w.adminA, w.t.ID, bad)
		wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	}
	_, err = w.c.BulkRemove(ctx, w.adminA, w.t.ID, make([]string, sdk.MaxBulkItems+1))
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
}

func TestBulkInviteLogoutDeactivateChangeRole(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 8})
	ctx := t.Context()
	inv, err := w.c.BulkInvite(ctx, w.adminA, w.t.ID, []sdk.InviteRequest{
		{Email: "a@acme.test"}, {Email: "A@ACME.test"}, {Email: "bad"}, {Email: "b@acme.test", Role: "owner"}, {Email: "c@acme.test"}, {Email: "d@acme.test"}, {Email: "e@acme.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	reasons := []sdk.Reason{"", sdk.ReasonDuplicateItem, sdk.ReasonInvalid, sdk.ReasonOwnerRole, "", "", sdk.ReasonSeatLimit}
	for i, it := range inv.Items {
		if sdk.ReasonOf(it.Err) != reasons[i] {
			t.Errorf("invite %d: %v, want %q", i, it.Err, reasons[i])
		}
		if it.Err == nil && (it.Invite == nil || it.Invite.Secret == "") {
			t.Errorf("invite %d: no secret", i)
		}
	}
	lo, err := w.c.BulkForceLogout(ctx, w.adminA, w.t.ID, []string{w.std.ID, w.std2.ID, w.admin2.ID})
	if err != nil || lo.Succeeded != 2 || sdk.ReasonOf(lo.Items[2].Err) != sdk.ReasonRankTooLow {
		t.Fatalf("BulkForceLogout = %+v, %v", lo, err)
	}
	if w.member(t, w.std.ID).SessionEpoch != 1 {
		t.Fatal("bulk logout did not bump the epoch")
	}
	cr, err := w.c.BulkChangeRole(ctx, w.ownerA, w.t.ID, []string{w.std.ID, w.owner.ID}, "admin")
	if err != nil || cr.Succeeded != 1 || sdk.ReasonOf(cr.Items[1].Err) != sdk.ReasonSelfAction {
		t.Fatalf("BulkChangeRole = %+v, %v", cr, err)
	}
	de, err := w.c.BulkDeactivate(ctx, w.ownerA, w.t.ID, []string{w.std.ID, w.std2.ID})
	if err != nil || de.Succeeded != 2 || de.Items[0].Member.Status != sdk.StatusDeactivated {
		t.Fatalf("BulkDeactivate = %+v, %v", de, err)
	}
}

func TestBulkDeleteRacingRoleChangeStaysConsistent(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	var ids []string
	for i := range 40 {
		ids = append(ids, w.add(t, fmt.Sprintf("u%d@acme.test", i), "standard").ID)
	}
	var wg sync.WaitGroup
	var res *sdk.BulkResult
	wg.Go(func() {
		var err error
		if res, err = w.c.BulkRemove(ctx, w.ownerA, w.t.ID, ids); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		for _, id := range ids {
			if _, err := w.c.ChangeRole(ctx, w.ownerA, w.t.ID, id, "admin"); err != nil && !errors.Is(err, sdk.ErrNotFound) {
				t.Errorf("change role: %v", err)
			}
		}
	})
	wg.Wait()
	if res.Failed != 0 {
		t.Fatalf("bulk remove failed %d items racing a role change", res.Failed)
	}
	tn := w.tenant(t)
	if n := w.count(t); n != 5 || tn.SeatsUsed != 5 {
		t.Fatalf("members %d seats %d after the race, want 5 and 5", n, tn.SeatsUsed)
	}
}

// TestRemoveReassignToWithoutHook: without a Reassigner nothing would
// receive the member's items, so a ReassignTo is refused rather than
// dropped, and the member stays; without one, Remove still works.
func TestRemoveReassignToWithoutHook(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	if w.c.Reassigns() {
		t.Fatal("Reassigns() = true without WithReassigner")
	}
	_, err := w.c.Remove(ctx, w.ownerA, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.std.ID, ReassignTo: w.admin.ID})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	w.member(t, w.std.ID) // still there
	if _, err := w.c.Remove(ctx, w.ownerA, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.std.ID}); err != nil {
		t.Fatal(err)
	}
	hooked := sdk.New(memstore.New(), sdk.WithReassigner(sdk.ReassignFunc(func(context.Context, string, string, string) (sdk.ReassignResult, error) {
		return sdk.ReassignResult{}, nil
	})))
	if !hooked.Reassigns() {
		t.Error("Reassigns() = false with WithReassigner")
	}
}

func TestRemoveWithReassignment(t *testing.T) {
	var mu sync.Mutex
	var calls [][2]string
	fail := false
	hook := sdk.ReassignFunc(func(_ context.Context, _ string, from, to string) (sdk.ReassignResult, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return sdk.ReassignResult{}, errors.New("crm unavailable")
		}
		calls = append(calls, [2]string{from, to})
		return sdk.ReassignResult{Reassigned: map[string]int{"deals": 3}, Broken: []string{"API key ci"}}, nil
	})
	w := newWorld(t, sdk.CreateTenantRequest{}, sdk.WithReassigner(hook), sdk.WithPasswordParams(64, 1, 1))
	ctx := t.Context()
	if _, err := w.c.SetPassword(ctx, w.stdA, w.t.ID, w.std.ID, "a long enough secret"); err != nil {
		t.Fatal(err)
	}
	res, err := w.c.Remove(ctx, w.adminA, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.std.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res.ReassignedTo != w.owner.ID || res.Reassigned["deals"] != 3 || len(calls) != 1 || calls[0] != [2]string{w.std.ID, w.owner.ID} {
		t.Fatalf("Remove = %+v, calls %v", res, calls)
	}
	if len(res.Broken) != 3 { // API key, sessions, password
		t.Fatalf("broken = %v", res.Broken)
	}
	if _, err := w.c.VerifyPassword(ctx, w.t.ID, "std@acme.test", "a long enough secret"); !errors.Is(err, sdk.ErrUnauthenticated) {
		t.Fatalf("credentials survived removal: %v", err)
	}
	// Explicit target; a failing hook prevents the delete.
	if _, err := w.c.Remove(ctx, w.ownerA, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.std2.ID, ReassignTo: w.admin.ID}); err != nil {
		t.Fatal(err)
	}
	if calls[1] != [2]string{w.std2.ID, w.admin.ID} {
		t.Fatalf("reassigned to %v", calls[1])
	}
	fail = true
	_, err = w.c.Remove(ctx, w.ownerA, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.admin2.ID})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonReassignFailed)
	w.member(t, w.admin2.ID) // still there
	fail = false
	_, err = w.c.Remove(ctx, w.ownerA, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.admin2.ID, ReassignTo: w.admin2.ID})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	_, err = w.c.Remove(ctx, w.ownerA, sdk.RemoveRequest{TenantID: w.t.ID, MemberID: w.admin2.ID, ReassignTo: "ghost"})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
}
