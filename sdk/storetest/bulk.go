package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// testBulk checks sdk.BulkMemberStore: CreateMembers has the outcomes of
// CreateMember per write, taking seats in input order, and AppendAudits
// those of AppendAudit.
func testBulk(t *testing.T, s sdk.Store) {
	bs, ok := s.(sdk.BulkMemberStore)
	if !ok {
		t.Skip("store does not implement sdk.BulkMemberStore")
	}
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 6) // owner holds 1 of 6
	other, _ := fixture(t, s, "other", 6)
	elsewhere := newMember(other.ID, "global@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: elsewhere, Seat: sdk.SeatTake, GlobalEmail: true}); err != nil {
		t.Fatal(err)
	}
	hash := "$argon2id$bulk"
	var ws []sdk.MemberWrite
	for i := range 8 {
		m := newMember(tn.ID, fmt.Sprintf("b%d@x.test", i))
		m.ExternalID = fmt.Sprintf("X%d", i)
		w := sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}
		if i == 3 { // b3 is created deactivated, without a seat
			m.Status = sdk.StatusDeactivated
			w.Seat = sdk.SeatKeep
		}
		ws = append(ws, w)
	}
	ws[0].PasswordHash = &hash
	ws = append(ws,
		sdk.MemberWrite{Member: newMember(tn.ID, "B1@x.test"), Seat: sdk.SeatTake},                    // 8: b1's email
		sdk.MemberWrite{Member: newMember(tn.ID, "GLOBAL@x.test"), GlobalEmail: true},                 // 9: global elsewhere
		sdk.MemberWrite{Member: newMember(tn.ID, "late@x.test"), TenantVersion: tn.Version + 1},       // 10: another tenant version
		sdk.MemberWrite{Member: newMember(tn.ID, "free@x.test"), GlobalEmail: true, TenantVersion: 1}, // 11: fine
	)
	errs := bs.CreateMembers(ctx, ws)
	if len(errs) != len(ws) {
		t.Fatalf("%d errors for %d writes", len(errs), len(ws))
	}
	// Seats go in input order: b0,b1,b2,b4,b5 take the 5 free seats;
	// b6, b7 are refused; b3 needs none.
	for i, err := range errs {
		what := fmt.Sprintf("CreateMembers[%d]", i)
		switch i {
		case 6, 7:
			wantErr(t, what, err, sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
		case 8:
			wantErr(t, what+" (duplicate email in batch)", err, sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
		case 9:
			wantErr(t, what+" (GlobalEmail taken elsewhere)", err, sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
		case 10:
			wantErr(t, what+" (another tenant version)", err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
		default:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
	}
	if got := mustGetTenant(t, s, tn.ID); got.SeatsUsed != 6 {
		t.Fatalf("seats used %d, want 6", got.SeatsUsed)
	}
	if n, _ := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{}); n != 8 {
		t.Fatalf("%d members, want 8 (owner, b0-b5, free)", n)
	}
	for _, i := range []int{6, 7, 8, 9, 10} {
		if _, err := s.GetMember(ctx, tn.ID, ws[i].Member.ID); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("refused write %d was stored: %v", i, err)
		}
	}
	if cr, err := s.GetCredentials(ctx, tn.ID, ws[0].Member.ID); err != nil || cr.PasswordHash != hash {
		t.Fatalf("password hash of a bulk write = %+v, %v", cr, err)
	}
	// The GlobalEmail write holds its address against other tenants.
	taken := newMember(other.ID, "free@x.test")
	wantErr(t, "CreateMember(address of a bulk GlobalEmail write)", s.CreateMember(ctx, sdk.MemberWrite{Member: taken, GlobalEmail: true}),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)

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
	// The members are written in bulk where the store can: the test is of
	// the scan.
	var ws []sdk.MemberWrite
	for i := range 2100 {
		m := newMember(tn.ID, fmt.Sprintf("s%d@x.test", i))
		ws = append(ws, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake})
		want = append(want, m.ID)
	}
	writeMembers(t, s, ws)
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(other.ID, "o@x.test"), Seat: sdk.SeatTake}); err != nil {
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
