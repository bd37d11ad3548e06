package mongo

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// TestCreateMembersSeatOrder checks that a member refused by a unique index
// leaves its seat to the next member in input order, as the reference store
// does, and that the counter matches afterwards.
func TestCreateMembersSeatOrder(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 4) // owner holds 1 of 4
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "x@x.test"), Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	var batch []sdk.MemberWrite
	for _, email := range []string{
		"X@x.test", // taken by a stored member
		"a@x.test",
		"b@x.test",
		"c@x.test",
	} {
		batch = append(batch, sdk.MemberWrite{Member: newMember(tn.ID, email), Seat: sdk.SeatTake})
	}
	errs := s.CreateMembers(ctx, batch)
	if sdk.ReasonOf(errs[0]) != sdk.ReasonEmailTaken || errs[1] != nil || errs[2] != nil || sdk.ReasonOf(errs[3]) != sdk.ReasonSeatLimit {
		t.Fatalf("errors = %v", errs)
	}
	checkCounter(t, s, tn.ID)
	if got := tenantOf(t, s, tn.ID).SeatsUsed; got != 4 {
		t.Fatalf("seats used %d, want 4", got)
	}
	// The seat given back took its intent with it; those of the members
	// inserted are gone too (unlike the single create's, which waits for
	// a prune).
	for _, tok := range rawTenant(t, s, tn.ID).SeatTakes {
		for _, w := range batch {
			if tokenMember(tok) == w.Member.ID {
				t.Fatalf("take intent %s of a batch member left", tok)
			}
		}
	}

	// An unknown tenant fails every item, with or without seats.
	for _, seat := range []sdk.SeatChange{sdk.SeatTake, sdk.SeatKeep} {
		errs := s.CreateMembers(ctx, []sdk.MemberWrite{{Member: newMember("nope", "q@x.test"), Seat: seat}})
		if !errors.Is(errs[0], sdk.ErrNotFound) {
			t.Fatalf("CreateMembers(unknown tenant, seat %d) = %v", seat, errs[0])
		}
	}
}

func TestBulkCommandCounts(t *testing.T) {
	t.Parallel() // see ferretURI
	var cc CommandCounter
	s := openStore(t, WithCommandMonitor(cc.Monitor()))
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 2000)
	var ws []sdk.MemberWrite
	var evs []*sdk.AuditEvent
	for i := range 1000 {
		ws = append(ws, sdk.MemberWrite{Member: newMember(tn.ID, fmt.Sprintf("u%04d@x.test", i)), Seat: sdk.SeatTake})
		evs = append(evs, &sdk.AuditEvent{ID: sdk.NewID(), TenantID: tn.ID, Time: epoch, Action: "member.added"})
	}
	cc.Reset()
	for i, err := range s.CreateMembers(ctx, ws) {
		if err != nil {
			t.Fatalf("CreateMembers[%d]: %v", i, err)
		}
	}
	t.Logf("CreateMembers(1000): %d commands %v", cc.Count(), cc.ByName())
	if cc.Count() > 3 {
		t.Errorf("CreateMembers(1000) took %d commands, want at most 3", cc.Count())
	}
	// Writes with GlobalEmail add one command for the batch: the claims.
	for i := range ws {
		ws[i].Member = newMember(tn.ID, fmt.Sprintf("g%04d@x.test", i))
		ws[i].GlobalEmail = true
	}
	cc.Reset()
	for i, err := range s.CreateMembers(ctx, ws[:500]) {
		if err != nil {
			t.Fatalf("CreateMembers(GlobalEmail)[%d]: %v", i, err)
		}
	}
	t.Logf("CreateMembers(500, GlobalEmail): %d commands %v", cc.Count(), cc.ByName())
	if cc.Count() > 4 {
		t.Errorf("CreateMembers(500, GlobalEmail) took %d commands, want at most 4", cc.Count())
	}
	cc.Reset()
	if err := s.AppendAudits(ctx, evs); err != nil {
		t.Fatal(err)
	}
	t.Logf("AppendAudits(1000): %d commands %v", cc.Count(), cc.ByName())
	if cc.Count() != 1 {
		t.Errorf("AppendAudits(1000) took %d commands, want 1", cc.Count())
	}
	if err := s.AppendAudits(ctx, evs[:10]); err != nil {
		t.Fatalf("re-appending: %v", err)
	}
	checkCounter(t, s, tn.ID)
}
