package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// loaded returns a world of 5 members plus n synced from hrRecords(n).
func loaded(t *testing.T, n int) (*world, []sdk.SyncRecord) {
	t.Helper()
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: n + 10})
	recs := hrRecords(n)
	if _, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	return w, recs
}

// statuses maps each member's email to its status.
func statuses(t *testing.T, w *world) map[string]sdk.Status {
	t.Helper()
	out := map[string]sdk.Status{}
	for cursor := ""; ; {
		p, err := w.c.ListMembers(t.Context(), w.t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: 1000, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Items {
			out[m.EmailKey] = m.Status
		}
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
}

func wantGuard(t *testing.T, err error, reason sdk.Reason) {
	t.Helper()
	if !errors.Is(err, sdk.ErrFailedPrecondition) || sdk.ReasonOf(err) != reason {
		t.Fatalf("err = %v, want failed precondition %s", err, reason)
	}
}

func TestSyncDeprovisionLimit(t *testing.T) {
	// 120 members; a file of 10 leaves 110 absent, of whom the owner is
	// skipped: 109 to deprovision.
	for _, tc := range []struct {
		name    string
		opts    sdk.SyncOptions
		refused bool
	}{
		{"default 50 refuses", sdk.SyncOptions{}, true},
		{"over the absolute limit", sdk.SyncOptions{MaxDeprovision: 108}, true},
		{"at the absolute limit", sdk.SyncOptions{MaxDeprovision: 109}, false},
		{"negative allows none", sdk.SyncOptions{MaxDeprovision: -1}, true},
		{"over the percentage", sdk.SyncOptions{MaxDeprovisionPercent: 90}, true}, // 108
		{"within the percentage", sdk.SyncOptions{MaxDeprovisionPercent: 91}, false},
		{"forced", sdk.SyncOptions{Force: true}, false},
		{"forced over a set limit", sdk.SyncOptions{Force: true, MaxDeprovision: 1}, false},
	} {
		for _, dep := range []sdk.Deprovision{sdk.DeprovisionDeactivate, sdk.DeprovisionDelete} {
			t.Run(fmt.Sprintf("%s/%s", tc.name, dep), func(t *testing.T) {
				w, recs := loaded(t, 115)
				before := statuses(t, w)
				tc.opts.Deprovision = dep
				rep, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, recs[:10], tc.opts)
				if tc.refused {
					wantGuard(t, err, sdk.ReasonDeprovisionLimit)
					if rep != nil {
						t.Errorf("a refused sync returned a report: %+v", rep.Summary())
					}
					if after := statuses(t, w); !maps.Equal(before, after) {
						t.Fatalf("a refused sync wrote: %d members before, %d after", len(before), len(after))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if n := len(rep.Deactivated) + len(rep.Deleted); n != 109 {
					t.Fatalf("deprovisioned %d, want 109: %+v", n, rep.Summary())
				}
			})
		}
	}
}

func TestSyncDeprovisionLimitDefault(t *testing.T) {
	for _, tc := range []struct {
		name      string
		members   int // synced from the file, besides the world's 5
		keep      int // records in the second file
		refused   bool
		wantCount int
	}{
		// 65 members: 10% is 7, the floor of 50 wins.
		{"floor of 50 allows 50", 60, 14, false, 50},
		{"floor of 50 refuses 51", 60, 13, true, 51},
		// 600 members: 10% is 60.
		{"10% allows 60", 595, 539, false, 60},
		{"10% refuses 61", 595, 538, true, 61},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, recs := loaded(t, tc.members)
			before := statuses(t, w)
			rep, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, recs[:tc.keep], sdk.SyncOptions{Deprovision: sdk.DeprovisionDeactivate})
			if tc.refused {
				wantGuard(t, err, sdk.ReasonDeprovisionLimit)
				if msg := err.Error(); !strings.Contains(msg, fmt.Sprint(tc.wantCount)) {
					t.Errorf("message does not say how many: %s", msg)
				}
				if !maps.Equal(before, statuses(t, w)) {
					t.Fatal("a refused sync wrote")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Deactivated) != tc.wantCount {
				t.Fatalf("deactivated %d, want %d", len(rep.Deactivated), tc.wantCount)
			}
		})
	}
}

func TestSyncEmptyInputNeverDeprovisions(t *testing.T) {
	w, _ := loaded(t, 5)
	before := statuses(t, w)
	for _, dep := range []sdk.Deprovision{sdk.DeprovisionDeactivate, sdk.DeprovisionDelete} {
		for _, force := range []bool{false, true} {
			_, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, nil, sdk.SyncOptions{Deprovision: dep, Force: force, MaxDeprovisionPercent: 100})
			wantGuard(t, err, sdk.ReasonEmptyInput)
		}
	}
	if !maps.Equal(before, statuses(t, w)) {
		t.Fatal("an empty input wrote")
	}
	// Without deprovisioning an empty input is merely nothing to do.
	rep, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, nil, sdk.SyncOptions{})
	if err != nil || rep.Writes != 0 {
		t.Fatalf("empty input, no deprovisioning: %v %+v", err, rep)
	}
}

func TestSyncDryRunReportsTheGuard(t *testing.T) {
	w, recs := loaded(t, 115)
	rep, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, recs[:10], sdk.SyncOptions{Deprovision: sdk.DeprovisionDelete, DryRun: true})
	wantGuard(t, err, sdk.ReasonDeprovisionLimit)
	if rep == nil || !rep.DryRun || len(rep.Deleted) != 109 {
		t.Fatalf("dry run report: %+v", rep)
	}
	_, err = w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, nil, sdk.SyncOptions{Deprovision: sdk.DeprovisionDelete, DryRun: true})
	wantGuard(t, err, sdk.ReasonEmptyInput)
	if n := w.count(t); n != 120 {
		t.Fatalf("a dry run wrote: %d members", n)
	}
}

func TestSyncDeprovisionLimitInvalid(t *testing.T) {
	w, recs := loaded(t, 5)
	for _, o := range []sdk.SyncOptions{
		{MaxDeprovisionPercent: 101},
		{MaxDeprovisionPercent: -1},
		{MaxDeprovisionPercent: 5, MaxDeprovision: 3},
	} {
		if _, err := w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, recs, o); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("%+v: err = %v, want invalid argument", o, err)
		}
	}
}

// cancellingStore cancels the sync's context after its n-th create, and
// refuses creates once the context is cancelled, as a driver does.
type cancellingStore struct {
	*memstore.Store
	n      atomic.Int32
	at     int32
	cancel context.CancelFunc
}

func (s *cancellingStore) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.Store.CreateMember(ctx, w)
	if s.n.Add(1) == s.at {
		s.cancel()
	}
	return err
}

func TestSyncCancelledStopsAfterTheBatch(t *testing.T) {
	recs := hrRecords(120)
	clean := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 200})
	if _, err := clean.c.Sync(t.Context(), sdk.SyncActor("hr"), clean.t.ID, recs, sdk.SyncOptions{BatchSize: 25}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name             string
		at               int32 // the create after which ctx is cancelled
		created, notDone int
	}{
		// Between batches: the first batch is whole, nothing else starts.
		{"between batches", 25, 25, 95},
		// Mid-batch: the batch's remaining writes are cut short and count
		// as not processed, not as failed.
		{"mid-batch", 30, 30, 90},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 200})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			c := sdk.New(&cancellingStore{Store: w.store, at: tc.at, cancel: cancel})
			rep, err := c.Sync(ctx, sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{BatchSize: 25})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if rep == nil || !rep.Interrupted || rep.NotProcessed != tc.notDone || len(rep.Created) != tc.created || len(rep.Failed) != 0 {
				t.Fatalf("report: %+v", rep)
			}
			if s := rep.Summary(); !s.Interrupted || s.NotProcessed != tc.notDone {
				t.Fatalf("summary: %+v", s)
			}
			if n := w.count(t); n != 5+tc.created {
				t.Fatalf("%d members, want %d", n, 5+tc.created)
			}
			// A re-run finishes the job: the state of one clean run.
			rep, err = w.c.Sync(t.Context(), sdk.SyncActor("hr"), w.t.ID, recs, sdk.SyncOptions{BatchSize: 25})
			if err != nil || rep.Interrupted || len(rep.Created) != 120-tc.created {
				t.Fatalf("re-run: %v %+v", err, rep.Summary())
			}
			if a, b := statuses(t, clean), statuses(t, w); !maps.Equal(a, b) {
				t.Fatalf("clean run %v, interrupted + re-run %v", a, b)
			}
			if ct, rt := clean.tenant(t), w.tenant(t); ct.SeatsUsed != rt.SeatsUsed {
				t.Fatalf("seats used: clean %d, re-run %d", ct.SeatsUsed, rt.SeatsUsed)
			}
		})
	}
}
