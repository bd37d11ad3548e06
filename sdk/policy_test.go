package sdk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

func TestCheckDecisions(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	cases := []struct {
		name   string
		actor  sdk.Actor
		action sdk.Action
		target sdk.Target
		reason sdk.Reason // "" = allowed
	}{
		{"admin removes standard", w.adminA, sdk.ActionRemove, sdk.Target{MemberID: w.std.ID}, ""},
		{"admin removes admin", w.adminA, sdk.ActionRemove, sdk.Target{MemberID: w.admin2.ID}, sdk.ReasonRankTooLow},
		{"admin removes owner", w.adminA, sdk.ActionRemove, sdk.Target{MemberID: w.owner.ID}, sdk.ReasonTargetIsOwner},
		{"admin removes self", w.adminA, sdk.ActionRemove, sdk.Target{MemberID: w.admin.ID}, sdk.ReasonSelfAction},
		{"standard removes standard", w.stdA, sdk.ActionRemove, sdk.Target{MemberID: w.std2.ID}, sdk.ReasonMissingPermission},
		{"stranger", sdk.MemberActor("ghost"), sdk.ActionRemove, sdk.Target{MemberID: w.std.ID}, sdk.ReasonNotMember},
		{"owner grants admin", w.ownerA, sdk.ActionChangeRole, sdk.Target{MemberID: w.std.ID, Role: "admin"}, ""},
		{"owner grants owner", w.ownerA, sdk.ActionChangeRole, sdk.Target{MemberID: w.std.ID, Role: "owner"}, sdk.ReasonOwnerRole},
		{"grant unknown role", w.ownerA, sdk.ActionChangeRole, sdk.Target{MemberID: w.std.ID, Role: "nope"}, sdk.ReasonUnknownRole},
		{"admin invites", w.adminA, sdk.ActionInviteMember, sdk.Target{}, ""},
		{"standard invites", w.stdA, sdk.ActionInviteMember, sdk.Target{}, sdk.ReasonMissingPermission},
		{"admin transfers", w.adminA, sdk.ActionTransferOwnership, sdk.Target{MemberID: w.std.ID}, sdk.ReasonOwnerOnly},
		{"owner transfers", w.ownerA, sdk.ActionTransferOwnership, sdk.Target{MemberID: w.std.ID}, ""},
		{"scim token deactivates admin", w.scimToken, sdk.ActionDeactivate, sdk.Target{MemberID: w.admin.ID}, ""},
		{"scim token buys seats", w.scimToken, sdk.ActionManageSeats, sdk.Target{}, sdk.ReasonMissingPermission},
		{"system logs out owner", w.system, sdk.ActionForceLogout, sdk.Target{MemberID: w.owner.ID}, ""},
		{"owner changes settings", w.ownerA, sdk.ActionUpdateSettings, sdk.Target{}, ""},
		{"admin changes settings", w.adminA, sdk.ActionUpdateSettings, sdk.Target{}, sdk.ReasonOwnerOnly},
		{"admin manages groups", w.adminA, sdk.ActionManageGroups, sdk.Target{}, ""},
		{"standard manages groups", w.stdA, sdk.ActionManageGroups, sdk.Target{}, sdk.ReasonMissingPermission},
		{"scim token manages groups", w.scimToken, sdk.ActionManageGroups, sdk.Target{}, ""},
		{"owner manages tokens", w.ownerA, sdk.ActionManageTokens, sdk.Target{}, ""},
		{"admin manages tokens", w.adminA, sdk.ActionManageTokens, sdk.Target{}, sdk.ReasonOwnerOnly},
		{"scim token manages tokens", w.scimToken, sdk.ActionManageTokens, sdk.Target{}, sdk.ReasonOwnerOnly},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.target.TenantID = w.t.ID
			d, err := w.c.Check(ctx, c.actor, c.action, c.target)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != (c.reason == "") || d.Reason != c.reason {
				t.Fatalf("Check = %+v, want reason %q", d, c.reason)
			}
			if !d.Allowed && d.Message == "" {
				t.Fatal("a refusal without a message")
			}
			if got := w.c.Can(ctx, c.actor, c.action, c.target); got != d.Allowed {
				t.Fatalf("Can = %v, Check.Allowed = %v", got, d.Allowed)
			}
		})
	}
	_, err := w.c.Check(ctx, w.adminA, sdk.ActionRemove, sdk.Target{TenantID: w.t.ID, MemberID: "nope"})
	wantRefused(t, err, sdk.ErrNotFound, "")
}

func TestCheckMembersBatch(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	page, err := w.c.ListMembers(ctx, w.t.ID, sdk.ListMembersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := w.c.CheckMembers(ctx, w.adminA, w.t.ID, sdk.ActionRemove, page.Items)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]sdk.Reason{w.owner.ID: sdk.ReasonTargetIsOwner, w.admin.ID: sdk.ReasonSelfAction, w.admin2.ID: sdk.ReasonRankTooLow, w.std.ID: "", w.std2.ID: ""}
	for i, m := range page.Items {
		if ds[i].Reason != want[m.ID] || ds[i].Allowed != (want[m.ID] == "") {
			t.Errorf("%s: %+v, want %q", m.Email, ds[i], want[m.ID])
		}
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	p, err := w.c.Policy(t.Context(), w.adminA, w.t.ID)
	if err != nil {
		t.Fatal(err)
	}
	targets := []*sdk.Member{w.owner, w.admin, w.admin2, w.std, w.std2}
	dst := make([]sdk.Decision, 0, len(targets))
	allocs := testing.AllocsPerRun(100, func() {
		_ = p.Check(sdk.ActionRemove, w.std)
		_ = p.Check(sdk.ActionRemove, w.owner)
		dst = p.CheckAll(dst, sdk.ActionDeactivate, targets)
	})
	if allocs != 0 {
		t.Fatalf("Check allocates %.1f times per run, want 0", allocs)
	}
}

// BenchmarkCheck measures a policy check on a loaded tenant: 8 custom roles
// plus the presets, 1000 members, the actor an admin, the targets cycling
// through members of every rank (allowed and refused paths alike).
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	c := sdk.New(memstore.New())
	roles, _ := sdk.PresetRoles(sdk.PresetStandard)
	for i := range 8 {
		roles = append(roles, sdk.Role{Name: fmt.Sprintf("custom%d", i), Rank: 110 + i*10, Permissions: []sdk.Permission{sdk.PermCampaignsCreate, sdk.PermTemplatesManage}})
	}
	tn, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "bench", OwnerEmail: "o@b.test", IncludedSeats: 2000, Roles: roles})
	if err != nil {
		b.Fatal(err)
	}
	admin, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: "admin@b.test", Role: "admin"})
	if err != nil {
		b.Fatal(err)
	}
	targets := []*sdk.Member{owner, admin}
	for i := range 998 {
		m, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("m%d@b.test", i), Role: tn.Roles[1+i%(len(tn.Roles)-1)].Name})
		if err != nil {
			b.Fatal(err)
		}
		targets = append(targets, m)
	}
	p, err := c.Policy(ctx, sdk.MemberActor(admin.ID), tn.ID)
	if err != nil {
		b.Fatal(err)
	}
	actions := []sdk.Action{sdk.ActionRemove, sdk.ActionDeactivate, sdk.ActionChangeRole, sdk.ActionForceLogout, sdk.ActionUpdateProfile}
	b.ReportAllocs()
	b.ResetTimer()
	var allowed int
	for i := 0; b.Loop(); i++ {
		if p.Check(actions[i%len(actions)], targets[i%len(targets)]).Allowed {
			allowed++
		}
	}
	if allowed == 0 {
		b.Fatal("nothing allowed: the benchmark is not exercising the allow path")
	}
}

func TestObserversAndAudit(t *testing.T) {
	var mu sync.Mutex
	var got []sdk.EventType
	done := make(chan struct{}, 100)
	obs := sdk.ObserverFunc(func(_ context.Context, e sdk.Event) {
		mu.Lock()
		got = append(got, e.Type)
		mu.Unlock()
		done <- struct{}{}
	})
	panicky := sdk.ObserverFunc(func(context.Context, sdk.Event) { panic("observer bug") })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := newWorld(t, sdk.CreateTenantRequest{}, sdk.WithObserver(panicky), sdk.WithObserver(obs), sdk.WithLogger(quiet))
	ctx := t.Context()
	if _, err := w.c.ChangeRole(ctx, w.adminA, w.t.ID, w.std.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	// tenant.created + 5 member.added + role change
	for range 7 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("observer not notified")
		}
	}
	mu.Lock()
	if !containsEvent(got, sdk.EventMemberRoleChanged) || !containsEvent(got, sdk.EventTenantCreated) {
		t.Fatalf("events %v", got)
	}
	mu.Unlock()

	log, err := w.c.AuditLog(ctx, w.ownerA, w.t.ID, sdk.AuditListOptions{Action: string(sdk.EventMemberRoleChanged)})
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Items) != 1 {
		t.Fatalf("%d role change events, want 1", len(log.Items))
	}
	e := log.Items[0]
	if e.ActorID != w.admin.ID || e.Channel != "sdk" || e.TargetID != w.std.ID || e.Before["role"] != "standard" || e.After["role"] != "admin" {
		t.Fatalf("audit event %+v", e)
	}
	all, err := w.c.AuditLog(ctx, w.ownerA, w.t.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 3}})
	if err != nil || len(all.Items) != 3 || all.NextCursor == "" || all.Items[0].Action != string(sdk.EventMemberRoleChanged) {
		t.Fatalf("newest-first page: %+v, %v", all, err)
	}
	_, err = w.c.AuditLog(ctx, sdk.MemberActor(w.std2.ID), w.t.ID, sdk.AuditListOptions{})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
}

func containsEvent(evs []sdk.EventType, e sdk.EventType) bool {
	for _, x := range evs {
		if x == e {
			return true
		}
	}
	return false
}

// crashAfterSetOwner is a store whose process "dies" right after the
// ownership switch: the member role updates never happen.
type crashAfterSetOwner struct {
	*memstore.Store
	crashed bool
}

func (s *crashAfterSetOwner) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	if s.crashed {
		return context.Canceled
	}
	return s.Store.UpdateMember(ctx, w)
}

func (s *crashAfterSetOwner) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	t, err := s.Store.SetOwner(ctx, tenantID, from, to, now)
	s.crashed = err == nil
	return t, err
}

func TestReconcileRepairsInterruptedTransfer(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	crashing := &crashAfterSetOwner{Store: w.store}
	c := sdk.New(crashing, sdk.WithClock(w.clock.Now))
	if _, err := c.TransferOwnership(ctx, w.ownerA, w.t.ID, w.admin.ID); err == nil {
		t.Fatal("the simulated crash did not interrupt the transfer")
	}
	// Half-done: the tenant names the new owner, roles are stale. Policy
	// already follows the tenant record.
	if tn := w.tenant(t); tn.OwnerID != w.admin.ID {
		t.Fatalf("owner %s, want %s", tn.OwnerID, w.admin.ID)
	}
	d, err := w.c.Check(ctx, w.ownerA, sdk.ActionRemove, sdk.Target{TenantID: w.t.ID, MemberID: w.admin.ID})
	if err != nil || d.Reason != sdk.ReasonTargetIsOwner {
		t.Fatalf("old owner acting on the new one mid-repair: %+v, %v", d, err)
	}
	rep, err := w.c.Reconcile(ctx, w.t.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The new owner received the owner role before the switch; only the
	// old owner's role is stale.
	if rep.RolesRepaired != 1 {
		t.Fatalf("repaired %d roles, want 1", rep.RolesRepaired)
	}
	if w.member(t, w.admin.ID).Role != "owner" || w.member(t, w.owner.ID).Role != "admin" {
		t.Fatal("roles not repaired")
	}
	// Idempotent.
	if rep, err = w.c.Reconcile(ctx, w.t.ID); err != nil || rep.RolesRepaired != 0 {
		t.Fatalf("second reconcile = %+v, %v", rep, err)
	}
}

// leakSeat takes a seat and then "crashes" before the member is stored.
type leakSeat struct{ *memstore.Store }

func (s leakSeat) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	// Simulate a store whose seat step succeeded but whose insert never
	// happened: create then delete without giving the seat back.
	m := w.Member
	if err := s.Store.CreateMember(ctx, w); err != nil {
		return err
	}
	if err := s.Store.DeleteMember(ctx, sdk.MemberDelete{TenantID: m.TenantID, ID: m.ID, ExpectedVersion: m.Version}); err != nil {
		return err
	}
	return context.Canceled
}

func TestReconcileRepairsLeakedSeats(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 6})
	ctx := t.Context()
	c := sdk.New(leakSeat{w.store})
	if _, err := c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "lost@acme.test"}); err == nil {
		t.Fatal("simulated crash did not fail")
	}
	if used := w.tenant(t).SeatsUsed; used != 6 {
		t.Fatalf("leak not simulated: used %d", used)
	}
	rep, err := w.c.Reconcile(ctx, w.t.ID)
	if err != nil || rep.SeatsBefore != 6 || rep.SeatsAfter != 5 {
		t.Fatalf("Reconcile = %+v, %v", rep, err)
	}
	w.add(t, "fits@acme.test", "standard")
}
