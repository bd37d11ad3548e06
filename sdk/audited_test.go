package sdk_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// carrying is memstore with [sdk.AuditedMemberWrites] when carry is set:
// its CreateMember and UpdateMember append [sdk.MemberWrite.Audit] once
// the write has landed (not atomically, which these tests do not need).
// It counts the events appended each way, and runs interfere, once,
// before the next UpdateMember.
type carrying struct {
	*memstore.Store
	carry     bool
	appended  atomic.Int32 // by the SDK's AppendAudit
	carried   atomic.Int32 // with a member write
	stray     atomic.Int32 // carried to a store that did not ask for it
	interfere func()
}

func (s *carrying) MemberWritesCarryAudit() bool { return s.carry }

func (s *carrying) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error {
	s.appended.Add(1)
	return s.Store.AppendAudit(ctx, e)
}

func (s *carrying) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	if err := s.Store.CreateMember(ctx, w); err != nil {
		return err
	}
	return s.carry1(ctx, w)
}

func (s *carrying) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	if f := s.interfere; f != nil {
		s.interfere = nil
		f()
	}
	if err := s.Store.UpdateMember(ctx, w); err != nil {
		return err
	}
	return s.carry1(ctx, w)
}

func (s *carrying) carry1(ctx context.Context, w sdk.MemberWrite) error {
	if w.Audit == nil {
		return nil
	}
	if !s.carry {
		s.stray.Add(1)
		return nil
	}
	s.carried.Add(1)
	return s.Store.AppendAudit(ctx, w.Audit)
}

// auditRun is what one run of auditScenario left: the tenant's audit log,
// what observers saw of the member writes, and the store.
type auditRun struct {
	log      []sdk.AuditEvent
	observed []sdk.Event
	store    *carrying
	member   *sdk.Member
}

// auditScenario adds a member, updates it, and updates it again through a
// concurrent write that makes the SDK retry, on a store that carries
// audit events in member writes or not.
func auditScenario(t *testing.T, carry bool) auditRun {
	t.Helper()
	ctx := t.Context()
	s := &carrying{Store: memstore.New(), carry: carry}
	var n atomic.Int64
	var mu sync.Mutex
	var observed []sdk.Event
	var wg sync.WaitGroup
	c := sdk.New(s, sdk.WithClock(newFakeClock().Now),
		sdk.WithIDGenerator(func() string { return fmt.Sprintf("id%08d", n.Add(1)) }),
		sdk.WithObserver(sdk.ObserverFunc(func(_ context.Context, e sdk.Event) {
			defer wg.Done()
			mu.Lock()
			observed = append(observed, e)
			mu.Unlock()
		})))
	sys := sdk.SystemActor()
	wg.Add(2) // tenant.created, and the owner's member.added
	tn, _, err := c.CreateTenant(ctx, sys, sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "owner@acme.test", IncludedSeats: 10})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	observed = nil
	s.appended.Store(0)

	wg.Add(3)
	m, err := c.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: tn.ID, Email: "ann@acme.test", Profile: sdk.Profile{Title: "Dev"}})
	if err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if _, err := c.UpdateMember(ctx, sys, sdk.UpdateMemberRequest{TenantID: tn.ID, MemberID: m.ID,
		Profile: sdk.Profile{Title: "Lead"}, Fields: []sdk.Field{sdk.FieldTitle}}); err != nil {
		t.Fatalf("UpdateMember: %v", err)
	}
	// A write between the SDK's read and its write: the first attempt is
	// refused as stale, the second decides on the member it wrote.
	s.interfere = func() {
		cur, err := s.Store.GetMember(ctx, tn.ID, m.ID)
		if err != nil {
			t.Error(err)
			return
		}
		cur.Title = "Interim"
		if err := s.Store.UpdateMember(ctx, sdk.MemberWrite{Member: cur, ExpectedVersion: cur.Version}); err != nil {
			t.Error(err)
		}
	}
	last, err := c.UpdateMember(ctx, sys, sdk.UpdateMemberRequest{TenantID: tn.ID, MemberID: m.ID,
		Profile: sdk.Profile{Title: "CTO"}, Fields: []sdk.Field{sdk.FieldTitle, sdk.FieldDepartment}})
	if err != nil {
		t.Fatalf("UpdateMember (retried): %v", err)
	}
	if s.interfere != nil {
		t.Fatal("the concurrent write did not run")
	}
	if last.Version != 4 {
		t.Fatalf("retried UpdateMember left version %d, want 4 (add, update, concurrent write, update)", last.Version)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("observers were not told of three writes")
	}

	evs, err := s.Store.ListAudit(ctx, tn.ID, sdk.AuditQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	run := auditRun{store: s, member: last}
	for _, e := range evs {
		if e.TargetID == m.ID {
			run.log = append(run.log, *e)
		}
	}
	slices.Reverse(run.log) // oldest first
	run.observed = observed
	slices.SortFunc(run.observed, func(a, b sdk.Event) int { return int(a.After.Version - b.After.Version) })
	return run
}

// TestAuditedMemberWrites checks that a store with
// [sdk.AuditedMemberWrites] gets each member write's audit event with the
// write — once, for the attempt that landed — and that the log and what
// observers see are those of a store without it.
func TestAuditedMemberWrites(t *testing.T) {
	plain := auditScenario(t, false)
	carried := auditScenario(t, true)

	if n := plain.store.appended.Load(); n != 3 {
		t.Errorf("without the capability: %d separate appends, want 3", n)
	}
	if n := plain.store.stray.Load(); n != 0 {
		t.Errorf("without the capability: %d member writes carried an event", n)
	}
	if n := carried.store.appended.Load(); n != 0 {
		t.Errorf("with the capability: %d separate appends, want 0", n)
	}
	if n := carried.store.carried.Load(); n != 3 {
		t.Errorf("with the capability: %d events carried by writes that landed, want 3", n)
	}

	actions := func(r auditRun) []string {
		var out []string
		for _, e := range r.log {
			out = append(out, e.Action)
		}
		return out
	}
	want := []string{string(sdk.EventMemberAdded), string(sdk.EventMemberUpdated), string(sdk.EventMemberUpdated)}
	for _, r := range []auditRun{plain, carried} {
		if got := actions(r); !slices.Equal(got, want) {
			t.Fatalf("carry=%v: audit log %v, want %v", r.store.carry, got, want)
		}
		if e := r.log[2]; e.Before["title"] != "Interim" || e.After["title"] != "CTO" {
			t.Errorf("carry=%v: retried update logged %v → %v, want the attempt that landed (Interim → CTO)", r.store.carry, e.Before, e.After)
		}
	}
	// The same events, but for IDs: each attempt of a carried write draws
	// one, so the retried update's differs.
	for i := range plain.log {
		p, c := plain.log[i], carried.log[i]
		p.ID, c.ID = "", ""
		if !reflect.DeepEqual(p, c) {
			t.Errorf("event %d differs with the capability:\n got %+v\nwant %+v", i, c, p)
		}
	}
	if plain.log[0].ID != carried.log[0].ID || plain.log[1].ID != carried.log[1].ID {
		t.Errorf("IDs of writes that were not retried differ: %s %s, want %s %s",
			carried.log[0].ID, carried.log[1].ID, plain.log[0].ID, plain.log[1].ID)
	}

	if !reflect.DeepEqual(plain.observed, carried.observed) {
		t.Errorf("observers saw, with the capability:\n%+v\nwithout:\n%+v", carried.observed, plain.observed)
	}
	if got := carried.observed; len(got) != 3 || got[2].After.Version != carried.member.Version || !got[2].Time.Equal(carried.log[2].Time) {
		t.Errorf("observed events %+v: want three, the last with the stored version %d and the audit time", got, carried.member.Version)
	}
}
