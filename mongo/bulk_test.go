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
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "x@x.test"), HoldsSeat: true}); err != nil {
		t.Fatal(err)
	}
	batch := []*sdk.Member{
		newMember(tn.ID, "X@x.test"), // taken by a stored member
		newMember(tn.ID, "a@x.test"),
		newMember(tn.ID, "b@x.test"),
		newMember(tn.ID, "c@x.test"),
	}
	errs := s.CreateMembers(ctx, tn.ID, batch, []bool{true, true, true, true})
	if sdk.ReasonOf(errs[0]) != sdk.ReasonEmailTaken || errs[1] != nil || errs[2] != nil || sdk.ReasonOf(errs[3]) != sdk.ReasonSeatLimit {
		t.Fatalf("errors = %v", errs)
	}
	checkCounter(t, s, tn.ID)
	if got := tenantOf(t, s, tn.ID).SeatsUsed; got != 4 {
		t.Fatalf("seats used %d, want 4", got)
	}

	// An unknown tenant fails every item, with or without seats.
	for _, hold := range []bool{true, false} {
		errs := s.CreateMembers(ctx, "nope", []*sdk.Member{newMember("nope", "q@x.test")}, []bool{hold})
		if !errors.Is(errs[0], sdk.ErrNotFound) {
			t.Fatalf("CreateMembers(unknown tenant, hold %v) = %v", hold, errs[0])
		}
	}
}

func TestBulkCommandCounts(t *testing.T) {
	var cc CommandCounter
	s := openStore(t, WithCommandMonitor(cc.Monitor()))
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 2000)
	var ms []*sdk.Member
	var holds []bool
	var evs []*sdk.AuditEvent
	for i := range 1000 {
		ms = append(ms, newMember(tn.ID, fmt.Sprintf("u%04d@x.test", i)))
		holds = append(holds, true)
		evs = append(evs, &sdk.AuditEvent{ID: sdk.NewID(), TenantID: tn.ID, Time: epoch, Action: "member.added"})
	}
	cc.Reset()
	for i, err := range s.CreateMembers(ctx, tn.ID, ms, holds) {
		if err != nil {
			t.Fatalf("CreateMembers[%d]: %v", i, err)
		}
	}
	t.Logf("CreateMembers(1000): %d commands %v", cc.Count(), cc.ByName())
	if cc.Count() > 3 {
		t.Errorf("CreateMembers(1000) took %d commands, want at most 3", cc.Count())
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
