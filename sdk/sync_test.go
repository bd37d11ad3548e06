package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

func hrRecords(n int) []sdk.SyncRecord {
	recs := make([]sdk.SyncRecord, n)
	for i := range recs {
		recs[i] = sdk.SyncRecord{
			Line: i + 2, Email: fmt.Sprintf("p%06d@corp.test", i), Status: "active",
			Profile: sdk.Profile{ExternalID: fmt.Sprintf("E%06d", i), GivenName: "Given", FamilyName: fmt.Sprintf("F%d", i),
				Department: []string{"Eng", "Ops", "Sales"}[i%3], Title: "Staff"},
		}
		if i > 0 {
			recs[i].Manager = "E000000"
		}
	}
	return recs
}

func auditCount(t testing.TB, w *world) int {
	t.Helper()
	n := 0
	for cursor := ""; ; {
		p, err := w.c.AuditLog(context.Background(), w.system, w.t.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1000, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Items)
		if p.NextCursor == "" {
			return n
		}
		cursor = p.NextCursor
	}
}

func TestSyncFirstLoadThenUnchangedWritesNothing(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	recs := hrRecords(50)
	rep, err := w.c.Sync(ctx, sdk.SyncActor("run1"), w.t.ID, recs, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Created) != 50 || len(rep.Failed) != 0 || rep.Writes != 50 {
		t.Fatalf("first load: %+v", rep.Summary())
	}
	boss, _ := w.c.MemberByExternalID(ctx, w.t.ID, "E000000")
	p7, _ := w.c.MemberByExternalID(ctx, w.t.ID, "E000007")
	if p7.ManagerID != boss.ID || p7.Department != "Ops" || p7.Role != "standard" || p7.Status != sdk.StatusActive {
		t.Fatalf("member = %+v", p7)
	}
	events := auditCount(t, w)
	rep, err = w.c.Sync(ctx, sdk.SyncActor("run2"), w.t.ID, recs, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Writes != 0 || rep.Unchanged != 50 || len(rep.Created)+len(rep.Updated) != 0 {
		t.Fatalf("re-run: writes %d, %+v", rep.Writes, rep.Summary())
	}
	if after := auditCount(t, w); after != events {
		t.Fatalf("an unchanged re-run wrote %d audit events", after-events)
	}
	ev, _ := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1}})
	if ev.Items[0].Channel != "sync" || ev.Items[0].ActorID != "run1" {
		t.Fatalf("sync audit event = %+v", ev.Items[0])
	}
}

func TestSyncUpdatesStatusAndDeprovisioning(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	actor := sdk.SyncActor("hr")
	recs := hrRecords(10)
	if _, err := w.c.Sync(ctx, actor, w.t.ID, recs, sdk.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	recs[1].Title = "Lead"
	recs[1].Department = "Eng"
	recs[2].Status = "inactive"
	recs[3].Email = "P000003@Corp.test" // case-only change of the address
	recs = slices.Delete(recs, 9, 10)   // a leaver
	rep, err := w.c.Sync(ctx, actor, w.t.ID, recs, sdk.SyncOptions{Deprovision: sdk.DeprovisionDeactivate})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Summary()
	if s.Updated != 2 || s.Deactivated != 6 || s.Unchanged != 6 || s.Failed != 0 || s.Skipped != 1 {
		// deactivated: p2 (inactive), p9 (leaver), and the 4 world members
		// not in the file; skipped: the owner.
		t.Fatalf("summary %+v", s)
	}
	if f := rep.Updated[0].Fields; !slices.Equal(f, []string{"title", "department"}) {
		t.Fatalf("changed fields %v", f)
	}
	if rep.Skipped[0].Reason != sdk.ReasonTargetIsOwner {
		t.Fatalf("skipped %+v", rep.Skipped)
	}
	p2, _ := w.c.MemberByExternalID(ctx, w.t.ID, "E000002")
	if p2.Status != sdk.StatusDeactivated || p2.SessionEpoch != 1 {
		t.Fatalf("inactive record: %+v", p2)
	}
	// Back to active reactivates; deprovision delete removes the leaver.
	recs[2].Status = "active"
	rep, err = w.c.Sync(ctx, actor, w.t.ID, recs, sdk.SyncOptions{Deprovision: sdk.DeprovisionDelete})
	if err != nil {
		t.Fatal(err)
	}
	s = rep.Summary()
	if s.Reactivated != 1 || s.Deleted != 5 || s.Skipped != 1 {
		t.Fatalf("summary %+v", s)
	}
	if _, err := w.c.MemberByExternalID(ctx, w.t.ID, "E000009"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("leaver still present: %v", err)
	}
	if _, err := w.c.Member(ctx, w.t.ID, w.owner.ID); err != nil {
		t.Fatalf("owner deprovisioned: %v", err)
	}
	if used := w.tenant(t).SeatsUsed; used != 10 {
		t.Fatalf("seats used %d, want 10 (owner + 9)", used)
	}
}

func TestSyncSeatLimitFailsRemainingCreates(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 8}) // 5 used
	ctx := t.Context()
	recs := hrRecords(6)
	recs[0].Manager = ""
	for _, dry := range []bool{true, false} {
		rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Summary()
		if s.Created != 3 || s.Failed != 3 || s.DryRun != dry {
			t.Fatalf("dry=%v: %+v", dry, s)
		}
		for _, f := range rep.Failed {
			if f.Reason != sdk.ReasonSeatLimit || f.Line < 5 {
				t.Fatalf("dry=%v: failure %+v", dry, f)
			}
		}
		if n := w.count(t); dry && n != 5 {
			t.Fatalf("dry run wrote: %d members", n)
		}
	}
	if n := w.count(t); n != 8 {
		t.Fatalf("%d members, want 8", n)
	}
}

func TestSyncRefusesUntrustworthyInput(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	dupEmail := hrRecords(3)
	dupEmail[2].Email = "P000000@corp.test"
	dupExt := hrRecords(3)
	dupExt[2].ExternalID = "E000001"
	cycle := hrRecords(4)
	cycle[0].Manager = "p000003@corp.test"
	cycle[3].Manager = "E000002"
	cycle[2].Manager = "E000000"
	for name, c := range map[string]struct {
		recs   []sdk.SyncRecord
		reason sdk.Reason
	}{
		"duplicate email": {dupEmail, sdk.ReasonDuplicateItem},
		"duplicate id":    {dupExt, sdk.ReasonDuplicateItem},
		"manager cycle":   {cycle, sdk.ReasonManagerCycle},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, c.recs, sdk.SyncOptions{})
			wantRefused(t, err, sdk.ErrInvalidArgument, c.reason)
			if n := w.count(t); n != 5 {
				t.Fatalf("refused input wrote members: %d", n)
			}
		})
	}
	_, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, nil, sdk.SyncOptions{Deprovision: "everything"})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	_, err = w.c.Sync(ctx, w.stdA, w.t.ID, hrRecords(1), sdk.SyncOptions{})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
}

func TestSyncBadRowsFailAlone(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	recs := hrRecords(5)
	recs[1].Email = "not-an-email"
	recs[2].Role = "wizard"
	recs[3].Manager = "nobody@corp.test"
	recs[4].Role = "owner"
	rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]sdk.Reason{3: sdk.ReasonInvalid, 4: sdk.ReasonUnknownRole, 5: sdk.ReasonUnknownManager, 6: sdk.ReasonOwnerRole}
	if len(rep.Created) != 1 || len(rep.Failed) != 4 {
		t.Fatalf("%+v", rep.Summary())
	}
	for _, f := range rep.Failed {
		if want[f.Line] != f.Reason || f.Message == "" {
			t.Errorf("line %d: %s (%s), want %s", f.Line, f.Reason, f.Message, want[f.Line])
		}
	}
}

func TestSyncMatchesByEmailAndKeepsOmittedFields(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	dept := "Finance"
	if _, err := w.c.UpdateProfile(ctx, w.system, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, Department: &dept}); err != nil {
		t.Fatal(err)
	}
	rec := sdk.SyncRecord{Line: 2, Email: "STD@acme.test", Profile: sdk.Profile{ExternalID: "E9", Title: "Analyst"},
		Omit: omitAllBut(sdk.FieldExternalID, sdk.FieldTitle)}
	rep, err := w.c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, []sdk.SyncRecord{rec}, sdk.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Updated) != 1 || !slices.Equal(rep.Updated[0].Fields, []string{"email", "userName", "title", "externalId", "emails"}) {
		t.Fatalf("%+v", rep.Updated)
	}
	m := w.member(t, w.std.ID)
	if m.ExternalID != "E9" || m.Department != "Finance" || m.Title != "Analyst" || m.Role != "standard" {
		t.Fatalf("member = %+v", m)
	}
}

// omitAllBut returns an Omit set naming every field a record can carry
// except keep, as a file with only those columns has.
func omitAllBut(keep ...sdk.Field) map[sdk.Field]bool {
	omit := map[sdk.Field]bool{sdk.FieldRole: true, sdk.FieldStatus: true}
	for _, f := range sdk.ProfileFields() {
		omit[f] = true
	}
	for _, f := range keep {
		delete(omit, f)
	}
	return omit
}

// failingBulk crashes after a number of successful create batches.
type failingBulk struct {
	*memstore.Store
	batches int
}

func (f *failingBulk) CreateMembers(ctx context.Context, tenantID string, ms []*sdk.Member, holds []bool) []error {
	if f.batches == 0 {
		errs := make([]error, len(ms))
		for i := range errs {
			errs[i] = context.Canceled
		}
		return errs
	}
	f.batches--
	return f.Store.CreateMembers(ctx, tenantID, ms, holds)
}

func TestSyncInterruptedThenRerunConverges(t *testing.T) {
	snapshot := func(w *world) map[string]string {
		out := map[string]string{}
		p, err := w.c.ListMembers(context.Background(), w.t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Items {
			mgr := ""
			if m.ManagerID != "" {
				mm, _ := w.c.Member(context.Background(), w.t.ID, m.ManagerID)
				mgr = mm.Email
			}
			out[m.EmailKey] = fmt.Sprint(m.ExternalID, m.GivenName, m.FamilyName, m.Department, m.Title, m.Role, m.Status, mgr)
		}
		return out
	}
	recs := hrRecords(120)
	clean := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 200})
	if _, err := clean.c.Sync(t.Context(), sdk.SyncActor("hr"), clean.t.ID, recs, sdk.SyncOptions{BatchSize: 25}); err != nil {
		t.Fatal(err)
	}
	crashed := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 200})
	c := sdk.New(&failingBulk{Store: crashed.store, batches: 2})
	rep, err := c.Sync(t.Context(), sdk.SyncActor("hr"), crashed.t.ID, recs, sdk.SyncOptions{BatchSize: 25})
	if err == nil && len(rep.Failed) == 0 {
		t.Fatal("the simulated crash did not interrupt the sync")
	}
	if n := crashed.count(t); n != 55 {
		t.Fatalf("after the crash %d members, want 55 (5 + 2 batches)", n)
	}
	if _, err := crashed.c.Sync(t.Context(), sdk.SyncActor("hr"), crashed.t.ID, recs, sdk.SyncOptions{BatchSize: 25}); err != nil {
		t.Fatal(err)
	}
	a, b := snapshot(clean), snapshot(crashed)
	if len(a) != len(b) {
		t.Fatalf("%d members after a clean run, %d after crash + re-run", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Fatalf("%s: clean %q, re-run %q", k, v, b[k])
		}
	}
	if ct, rt := clean.tenant(t), crashed.tenant(t); ct.SeatsUsed != rt.SeatsUsed {
		t.Fatalf("seats used: clean %d, re-run %d", ct.SeatsUsed, rt.SeatsUsed)
	}
}

// BenchmarkSync100k measures an HR sync of 100,000 rows into memstore: the
// first load and an unchanged re-run (which must write nothing).
func BenchmarkSync100k(b *testing.B) {
	recs := hrRecords(100_000)
	for _, phase := range []string{"first-load", "unchanged-rerun"} {
		b.Run(phase, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				c := sdk.New(memstore.New())
				t, _, err := c.CreateTenant(context.Background(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "big", OwnerEmail: "o@corp.test", IncludedSeats: 200_000})
				if err != nil {
					b.Fatal(err)
				}
				if phase == "unchanged-rerun" {
					if _, err := c.Sync(context.Background(), sdk.SyncActor("hr"), t.ID, slices.Clone(recs), sdk.SyncOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				rep, err := c.Sync(context.Background(), sdk.SyncActor("hr"), t.ID, slices.Clone(recs), sdk.SyncOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if phase == "unchanged-rerun" && rep.Writes != 0 {
					b.Fatalf("re-run wrote %d", rep.Writes)
				}
				if phase == "first-load" && len(rep.Created) != 100_000 {
					b.Fatalf("created %d", len(rep.Created))
				}
			}
		})
	}
}
