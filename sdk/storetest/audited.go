package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// testAuditedWrites checks that member writes leave exactly their audit
// events: through the SDK on every store, whether the store appends a
// write's event in the write ([sdk.AuditedMemberWrites]) or the SDK
// appends it after; and, on a store with that capability,
// [sdk.MemberWrite.Audit] itself, against refused writes.
func testAuditedWrites(t *testing.T, s sdk.Store) {
	t.Run("Client", func(t *testing.T) { testClientAudit(t, s) })
	if a, ok := s.(sdk.AuditedMemberWrites); ok && a.MemberWritesCarryAudit() {
		t.Run("CarriedAudit", func(t *testing.T) { testCarriedAudit(t, s) })
	}
}

// testClientAudit adds and updates a member through the SDK, with a
// refusal of each, and checks the audit log holds one event per write.
func testClientAudit(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "audited-client", 10)
	c := sdk.New(s, sdk.WithClock(func() time.Time { return epoch }))
	sys := sdk.SystemActor()
	m, err := c.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: tn.ID, Email: "ann@audited.test", Profile: sdk.Profile{Title: "Dev"}})
	if err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	_, err = c.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: tn.ID, Email: "ANN@audited.test"})
	wantErr(t, "AddMember(same email)", err, sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	up, err := c.UpdateMember(ctx, sys, sdk.UpdateMemberRequest{TenantID: tn.ID, MemberID: m.ID,
		Profile: sdk.Profile{Title: "Lead"}, Fields: []sdk.Field{sdk.FieldTitle}})
	if err != nil {
		t.Fatalf("UpdateMember: %v", err)
	}
	_, err = c.UpdateMember(ctx, sys, sdk.UpdateMemberRequest{TenantID: tn.ID, MemberID: m.ID,
		Profile: sdk.Profile{Title: "CTO"}, Fields: []sdk.Field{sdk.FieldTitle}, ExpectedVersion: m.Version})
	wantErr(t, "UpdateMember(stale)", err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	if up.Version != m.Version+1 {
		t.Fatalf("UpdateMember left version %d, want %d", up.Version, m.Version+1)
	}

	evs := listAudit(t, s, tn.ID)
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	want := []string{string(sdk.EventMemberUpdated), string(sdk.EventMemberAdded)}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit log = %v, want %v (newest first)", actions, want)
	}
	upd, add := evs[0], evs[1]
	if add.TargetID != m.ID || add.ActorKind != sdk.ActorSystem || add.Channel != "system" ||
		add.After["email"] != "ann@audited.test" || add.After["title"] != "Dev" || add.Before != nil {
		t.Fatalf("member.added event = %+v", add)
	}
	if upd.TargetID != m.ID || upd.Before["title"] != "Dev" || upd.After["title"] != "Lead" || len(upd.Before) != 1 || len(upd.After) != 1 {
		t.Fatalf("member.updated event = %+v", upd)
	}
}

// listAudit returns the tenant's audit log, newest first.
func listAudit(t *testing.T, s sdk.Store, tenantID string) []*sdk.AuditEvent {
	t.Helper()
	evs, err := s.ListAudit(t.Context(), tenantID, sdk.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// testCarriedAudit checks [sdk.MemberWrite.Audit]: a write that lands
// appends its event, one that is refused appends none, and an event
// whose ID exists is not appended again.
func testCarriedAudit(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "audited", 3) // the owner holds one seat
	n := 0
	event := func(action, target string) *sdk.AuditEvent {
		n++
		return &sdk.AuditEvent{
			ID: sdk.NewID(), TenantID: tn.ID, Time: epoch, ActorKind: sdk.ActorSystem, Channel: "system",
			Action: action, TargetID: target, After: map[string]string{"n": string(rune('a' + n))},
		}
	}
	var landed []string // ids of the events of writes that landed
	check := func(what string) {
		t.Helper()
		var got []string
		for _, e := range listAudit(t, s, tn.ID) {
			got = append(got, e.ID)
		}
		want := slices.Clone(landed)
		slices.Sort(want)
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Fatalf("after %s: audit ids %v, want %v", what, got, want)
		}
	}

	a := newMember(tn.ID, "a@audited.test")
	ea := event("member.added", a.ID)
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: a, Seat: sdk.SeatTake, Audit: ea}); err != nil {
		t.Fatalf("CreateMember(with audit): %v", err)
	}
	landed = append(landed, ea.ID)
	check("CreateMember")
	got, err := s.ListAudit(ctx, tn.ID, sdk.AuditQuery{TargetID: a.ID, Limit: 10})
	if err != nil || len(got) != 1 || got[0].Action != "member.added" || got[0].After["n"] != ea.After["n"] || got[0].Channel != "system" {
		t.Fatalf("ListAudit(target) = %+v, %v; want the carried event", got, err)
	}

	// A member holding no seat, to be reactivated when seats are full.
	d := newMember(tn.ID, "d@audited.test")
	d.Status = sdk.StatusDeactivated
	ed := event("member.added", d.ID)
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: d, Audit: ed}); err != nil {
		t.Fatalf("CreateMember(deactivated, with audit): %v", err)
	}
	landed = append(landed, ed.ID)

	wantErr(t, "CreateMember(same email, with audit)",
		s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "A@audited.test"), Seat: sdk.SeatTake, Audit: event("member.added", "dup")}),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	check("a duplicate email")
	wantErr(t, "CreateMember(stale tenant version, with audit)",
		s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "v@audited.test"), Seat: sdk.SeatTake, TenantVersion: tn.Version + 1, Audit: event("member.added", "v")}),
		sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	check("a stale tenant version")
	b := newMember(tn.ID, "b@audited.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: b, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateMember(no seat left, with audit)",
		s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "c@audited.test"), Seat: sdk.SeatTake, Audit: event("member.added", "c")}),
		sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	check("a seat limit")

	reactivate := d.Clone()
	reactivate.Status = sdk.StatusActive
	wantErr(t, "UpdateMember(no seat left, with audit)",
		s.UpdateMember(ctx, sdk.MemberWrite{Member: reactivate, ExpectedVersion: d.Version, Seat: sdk.SeatTake, Audit: event("member.reactivated", d.ID)}),
		sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	check("an update refused for the seat limit")

	upd := a.Clone()
	upd.Title = "Lead"
	wantErr(t, "UpdateMember(stale, with audit)",
		s.UpdateMember(ctx, sdk.MemberWrite{Member: upd, ExpectedVersion: a.Version + 1, Audit: event("member.updated", a.ID)}),
		sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	check("a stale version")
	taken := a.Clone()
	setEmail(taken, "b@audited.test")
	wantErr(t, "UpdateMember(email taken, with audit)",
		s.UpdateMember(ctx, sdk.MemberWrite{Member: taken, ExpectedVersion: a.Version, Audit: event("member.updated", a.ID)}),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	check("an update to a taken email")
	ghost := newMember(tn.ID, "ghost@audited.test")
	wantErr(t, "UpdateMember(unknown, with audit)",
		s.UpdateMember(ctx, sdk.MemberWrite{Member: ghost, ExpectedVersion: 1, Audit: event("member.updated", ghost.ID)}),
		sdk.ErrNotFound, "")
	check("an update of an unknown member")

	eu := event("member.updated", a.ID)
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: upd, ExpectedVersion: a.Version, Audit: eu}); err != nil {
		t.Fatalf("UpdateMember(with audit): %v", err)
	}
	landed = append(landed, eu.ID)
	check("UpdateMember")
	if stored, err := s.GetMember(ctx, tn.ID, a.ID); err != nil || stored.Title != "Lead" || stored.Version != a.Version+1 {
		t.Fatalf("after UpdateMember(with audit): %+v, %v", stored, err)
	}

	// An event whose ID exists is not appended again, and does not refuse
	// the write.
	again := upd.Clone()
	again.Title = "CTO"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: again, ExpectedVersion: upd.Version, Audit: eu}); err != nil {
		t.Fatalf("UpdateMember(with an event appended before): %v", err)
	}
	check("an update carrying an event appended before")
}
