package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func testBulk(t *testing.T, s sdk.Store) {
	bs, ok := s.(sdk.BulkMemberStore)
	if !ok {
		t.Skip("store does not implement sdk.BulkMemberStore")
	}
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 6) // owner holds 1 of 6
	var ms []*sdk.Member
	var holds []bool
	for i := range 8 {
		m := newMember(tn.ID, fmt.Sprintf("b%d@x.test", i))
		m.ExternalID = fmt.Sprintf("X%d", i)
		ms = append(ms, m)
		holds = append(holds, i != 3) // b3 is created deactivated, without a seat
	}
	ms[3].Status = sdk.StatusDeactivated
	dup := newMember(tn.ID, "B1@x.test") // same email as b1, in the same batch
	ms = append(ms, dup)
	holds = append(holds, true)
	errs := bs.CreateMembers(ctx, tn.ID, ms, holds)
	if len(errs) != len(ms) {
		t.Fatalf("%d errors for %d members", len(errs), len(ms))
	}
	// Seats go in input order: b0,b1,b2,b4,b5 take the 5 free seats;
	// b6, b7 are refused; b3 needs none; the duplicate is refused.
	for i, err := range errs[:8] {
		switch i {
		case 6, 7:
			wantErr(t, fmt.Sprintf("CreateMembers[%d]", i), err, sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
		default:
			if err != nil {
				t.Fatalf("CreateMembers[%d]: %v", i, err)
			}
		}
	}
	wantErr(t, "CreateMembers(duplicate email in batch)", errs[8], sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != 6 {
		t.Fatalf("seats used %d, want 6", got.SeatsUsed)
	}
	if n, _ := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{}); n != 7 {
		t.Fatalf("%d members, want 7", n)
	}

	// Updates: one stale, one taking a seat when none is free, one fine.
	b0, _ := s.GetMember(ctx, tn.ID, ms[0].ID)
	b2, _ := s.GetMember(ctx, tn.ID, ms[2].ID)
	b3, _ := s.GetMember(ctx, tn.ID, ms[3].ID)
	b0.Title = "t"
	b2.Title = "stale"
	b3.Status = sdk.StatusActive
	uerrs := bs.UpdateMembers(ctx, tn.ID, []sdk.MemberUpdate{
		{Member: b0, Expected: 1},
		{Member: b2, Expected: 7},
		{Member: b3, Expected: 1, SeatDelta: 1},
	})
	if uerrs[0] != nil {
		t.Fatalf("UpdateMembers[0]: %v", uerrs[0])
	}
	wantErr(t, "UpdateMembers(stale)", uerrs[1], sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	wantErr(t, "UpdateMembers(no seat)", uerrs[2], sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	if got, _ := s.GetMember(ctx, tn.ID, ms[0].ID); got.Title != "t" || got.Version != 2 {
		t.Fatalf("bulk update not applied: %+v", got)
	}

	derrs := bs.DeleteMembers(ctx, tn.ID, []sdk.MemberDelete{
		{ID: ms[1].ID, Expected: 1, ReleaseSeat: true},
		{ID: ms[2].ID, Expected: 9, ReleaseSeat: true},
		{ID: "ghost", Expected: 1, ReleaseSeat: true},
	})
	if derrs[0] != nil {
		t.Fatalf("DeleteMembers[0]: %v", derrs[0])
	}
	wantErr(t, "DeleteMembers(stale)", derrs[1], sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	wantErr(t, "DeleteMembers(unknown)", derrs[2], sdk.ErrNotFound, "")
	if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != 5 {
		t.Fatalf("seats used %d after bulk delete, want 5", got.SeatsUsed)
	}

	var evs []*sdk.AuditEvent
	for i := range 250 {
		evs = append(evs, &sdk.AuditEvent{ID: sdk.NewID(), TenantID: tn.ID, Time: epoch.Add(time.Duration(i) * time.Second), Action: "member.added", TargetID: fmt.Sprint(i)})
	}
	if err := bs.AppendAudits(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := bs.AppendAudits(ctx, evs[:10]); err != nil {
		t.Fatalf("re-appending events: %v", err)
	}
	got, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{Limit: 1000})
	if err != nil || len(got) != 250 || got[0].ID != evs[249].ID {
		t.Fatalf("ListAudit after AppendAudits: %d events, %v", len(got), err)
	}
}

func testScan(t *testing.T, s sdk.Store) {
	sc, ok := s.(sdk.MemberScanner)
	if !ok {
		t.Skip("store does not implement sdk.MemberScanner")
	}
	ctx := t.Context()
	tn, owner := fixture(t, s, "acme", 5000)
	other, _ := fixture(t, s, "other", 10)
	want := []string{owner.ID}
	for i := range 2100 {
		m := newMember(tn.ID, fmt.Sprintf("s%d@x.test", i))
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, HoldsSeat: true}); err != nil {
			t.Fatal(err)
		}
		want = append(want, m.ID)
	}
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(other.ID, "o@x.test"), HoldsSeat: true}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	var got []string
	if err := sc.ScanMembers(ctx, tn.ID, func(m *sdk.Member) error {
		if m.TenantID != tn.ID {
			t.Fatalf("scan returned a member of tenant %s", m.TenantID)
		}
		got = append(got, m.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("scan returned %d members, want %d, each once", len(got), len(want))
	}
	stop := errors.New("stop")
	n := 0
	err := sc.ScanMembers(ctx, tn.ID, func(*sdk.Member) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("scan did not stop at fn's error: %v after %d", err, n)
	}
}
