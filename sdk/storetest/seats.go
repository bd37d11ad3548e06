package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func testSeats(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 3)
	m1 := newMember(tn.ID, "a@x.test")
	m2 := newMember(tn.ID, "b@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m1, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m2, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	full := newMember(tn.ID, "c@x.test")
	wantErr(t, "CreateMember(no seat left)", s.CreateMember(ctx, sdk.MemberWrite{Member: full, Seat: sdk.SeatTake}), sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	if _, err := s.GetMember(ctx, tn.ID, full.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("refused member was stored: %v", err)
	}
	// A member that holds no seat can still be created.
	free := newMember(tn.ID, "d@x.test")
	free.Status = sdk.StatusDeactivated
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: free}); err != nil {
		t.Fatalf("CreateMember(no seat needed): %v", err)
	}
	if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != 3 || got.Version != 1 {
		t.Fatalf("seats used %d version %d, want 3 and 1 (seat changes don't bump the version)", got.SeatsUsed, got.Version)
	}
	// Taking a seat through an update is refused when full.
	reactivate := free.Clone()
	reactivate.Status = sdk.StatusActive
	wantErr(t, "UpdateMember(+1 seat when full)", s.UpdateMember(ctx, sdk.MemberWrite{Member: reactivate, ExpectedVersion: free.Version, Seat: sdk.SeatTake}), sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	if got, _ := s.GetMember(ctx, tn.ID, free.ID); got.Status != sdk.StatusDeactivated {
		t.Fatalf("refused update was written: %+v", got)
	}

	// Extra seats: buy, then remove never below usage nor below zero extra.
	t2, err := s.AdjustExtraSeats(ctx, tn.ID, 2, epoch)
	if err != nil || t2.ExtraSeats != 2 || t2.SeatLimit() != 5 {
		t.Fatalf("AdjustExtraSeats(+2) = %+v, %v", t2, err)
	}
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: reactivate, ExpectedVersion: free.Version, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("UpdateMember(+1 seat) after buying: %v", err)
	}
	_, err = s.AdjustExtraSeats(ctx, tn.ID, -2, epoch)
	wantErr(t, "AdjustExtraSeats(below usage)", err, sdk.ErrFailedPrecondition, sdk.ReasonSeatsInUse)
	_, err = s.AdjustExtraSeats(ctx, tn.ID, -3, epoch)
	wantErr(t, "AdjustExtraSeats(below zero extra)", err, sdk.ErrFailedPrecondition, sdk.ReasonSeatsInUse)
	if t3, err := s.AdjustExtraSeats(ctx, tn.ID, -1, epoch); err != nil || t3.ExtraSeats != 1 || t3.SeatsUsed != 4 {
		t.Fatalf("AdjustExtraSeats(-1) = %+v, %v", t3, err)
	}
	_, err = s.AdjustExtraSeats(ctx, "nope", 1, epoch)
	wantErr(t, "AdjustExtraSeats(unknown)", err, sdk.ErrNotFound, "")

	// Giving seats back.
	deact := reactivate.Clone()
	deact.Status = sdk.StatusDeactivated
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: deact, ExpectedVersion: reactivate.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m1.ID, ExpectedVersion: m1.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatal(err)
	}
	if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != 2 || got.SeatLimit() != 4 {
		t.Fatalf("after releases: used %d limit %d, want 2 and 4", got.SeatsUsed, got.SeatLimit())
	}
	// A deletion gives a seat back only with SeatRelease, and a refused
	// one gives none back.
	wantErr(t, "DeleteMember(stale, SeatRelease)", s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m2.ID, ExpectedVersion: m2.Version + 1, Seat: sdk.SeatRelease}),
		sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	wantErr(t, "DeleteMember(unknown, SeatRelease)", s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: "ghost", ExpectedVersion: 1, Seat: sdk.SeatRelease}),
		sdk.ErrNotFound, "")
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: deact.ID, ExpectedVersion: deact.Version, Seat: sdk.SeatKeep}); err != nil {
		t.Fatalf("DeleteMember(SeatKeep): %v", err)
	}
	if _, err := s.GetMember(ctx, tn.ID, deact.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("DeleteMember(SeatKeep) left the member: %v", err)
	}
	if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != 2 {
		t.Fatalf("after a refused and a SeatKeep deletion: used %d, want 2", got.SeatsUsed)
	}
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m2.ID, ExpectedVersion: m2.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatalf("DeleteMember(SeatRelease): %v", err)
	}
	if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != 1 {
		t.Fatalf("after a SeatRelease deletion: used %d, want 1", got.SeatsUsed)
	}
}

func testReconcile(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)
	for i := range 3 {
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, fmt.Sprintf("m%d@x.test", i)), Seat: sdk.SeatTake}); err != nil {
			t.Fatal(err)
		}
	}
	d := newMember(tn.ID, "d@x.test")
	d.Status = sdk.StatusDeactivated
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: d, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	nt, prev, err := s.RecountSeats(ctx, tn.ID, []sdk.Status{sdk.StatusActive})
	if err != nil || prev != 5 || nt.SeatsUsed != 4 {
		t.Fatalf("RecountSeats(active only) = used %d prev %d, %v; want 4, 5", nt.SeatsUsed, prev, err)
	}
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "n@x.test"), Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != 5 || got.SeatsFree() != 5 {
		t.Fatalf("seat counter after recount and create: used %d free %d", got.SeatsUsed, got.SeatsFree())
	}
	// A recount with nothing to repair changes nothing.
	if nt, prev, err := s.RecountSeats(ctx, tn.ID, []sdk.Status{sdk.StatusActive}); err != nil || prev != 5 || nt.SeatsUsed != 5 {
		t.Fatalf("RecountSeats(nothing to repair) = used %v prev %d, %v; want 5, 5", nt, prev, err)
	}
	_, _, err = s.RecountSeats(ctx, "no-such-tenant", []sdk.Status{sdk.StatusActive})
	wantErr(t, "RecountSeats(unknown tenant)", err, sdk.ErrNotFound, "")
}

// testOverLimit checks that a tenant pushed over its limit (here by a
// recount under wider seat states) can still buy seats, while removals stay
// refused.
func testOverLimit(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 3)
	for i := range 4 {
		m := newMember(tn.ID, fmt.Sprintf("d%d@x.test", i))
		m.Status = sdk.StatusDeactivated
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m}); err != nil {
			t.Fatal(err)
		}
	}
	over, _, err := s.RecountSeats(ctx, tn.ID, []sdk.Status{sdk.StatusActive, sdk.StatusDeactivated})
	if err != nil || over.SeatsUsed != 5 || over.SeatsFree() != -2 {
		t.Fatalf("recount = used %d free %d, %v; want 5 and -2", over.SeatsUsed, over.SeatsFree(), err)
	}
	got, err := s.AdjustExtraSeats(ctx, tn.ID, 1, epoch)
	if err != nil || got.ExtraSeats != 1 || got.SeatsFree() != -1 {
		t.Fatalf("buying a seat while over the limit = %+v, %v", got, err)
	}
	_, err = s.AdjustExtraSeats(ctx, tn.ID, -1, epoch)
	wantErr(t, "AdjustExtraSeats(-1) while over the limit", err, sdk.ErrFailedPrecondition, sdk.ReasonSeatsInUse)
	wantErr(t, "CreateMember while over the limit", s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "n@x.test"), Seat: sdk.SeatTake}), sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	if got, err := s.AdjustExtraSeats(ctx, tn.ID, 3, epoch); err != nil || got.SeatsFree() != 2 {
		t.Fatalf("buying back under the limit = %+v, %v", got, err)
	}
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "n@x.test"), Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("CreateMember after buying seats: %v", err)
	}
}
