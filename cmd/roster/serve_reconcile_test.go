package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
	"github.com/rosterhq/roster/sqlite"
)

// scrape returns the text of m's metrics.
func scrape(t *testing.T, m *metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// crowdStore counts the recounts running at once: the first reach of them
// wait until reach are in flight (so that the test sees the bound reached,
// not merely respected), and each lingers a little so that a recount
// beyond the bound would overlap them.
type crowdStore struct {
	sdk.Store
	reach   int
	mu      sync.Mutex
	now     int
	most    int
	reached chan struct{}
}

func (s *crowdStore) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	s.mu.Lock()
	s.now++
	s.most = max(s.most, s.now)
	if s.now == s.reach {
		select {
		case <-s.reached:
		default:
			close(s.reached)
		}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.now--
		s.mu.Unlock()
	}()
	select {
	case <-s.reached:
	case <-time.After(10 * time.Second):
		return nil, 0, errors.New("the bound was never reached")
	}
	time.Sleep(5 * time.Millisecond)
	return s.Store.RecountSeats(ctx, tenantID, holding)
}

// TestReconcileConcurrency: the start-up reconcile repairs at most
// --reconcile-concurrency tenants at once, and checks them all.
func TestReconcileConcurrency(t *testing.T) {
	t.Parallel()
	const tenants = 12
	for _, n := range []int{1, 2, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			st := &crowdStore{Store: memstore.New(), reach: n, reached: make(chan struct{})}
			c := sdk.New(st)
			for i := range tenants {
				if _, _, err := c.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{
					Slug: fmt.Sprintf("t%02d", i), OwnerEmail: fmt.Sprintf("o@t%02d.test", i), IncludedSeats: 3,
				}); err != nil {
					t.Fatal(err)
				}
			}
			var logs syncBuffer
			m := newMetrics()
			reconcileAll(t.Context(), c, slog.New(slog.NewTextHandler(&logs, nil)), n, m)
			if st.most != n {
				t.Errorf("at most %d recounts ran at once, want %d", st.most, n)
			}
			if got := metricValue(t, scrape(t, m), `roster_reconcile_tenants_total{outcome="ok"}`); got != tenants {
				t.Errorf("tenants reconciled ok: %v, want %d\n%s", got, tenants, logs.String())
			}
			if !strings.Contains(logs.String(), fmt.Sprintf("tenants=%d repaired=0 failed=0", tenants)) {
				t.Errorf("log:\n%s", logs.String())
			}
		})
	}
	t.Run("0 skips it", func(t *testing.T) {
		st := &crowdStore{Store: memstore.New(), reached: make(chan struct{})}
		var logs syncBuffer
		reconcileAll(t.Context(), sdk.New(st), slog.New(slog.NewTextHandler(&logs, nil)), 0, newMetrics())
		if st.most != 0 || !strings.Contains(logs.String(), "reconcile: skipped") {
			t.Errorf("recounts %d, log:\n%s", st.most, logs.String())
		}
	})
}

// gapStore holds the recount of the start-up reconcile, or the member
// writes of live traffic, at a gate until the test opens it, so that the
// other side runs in the gap.
type gapStore struct {
	sdk.Store
	holdRecount, holdCreate bool
	entered                 chan string // "recount" or "create", once per call held
	gate                    chan struct{}
}

func (s *gapStore) hold(ctx context.Context, what string) error {
	select {
	case s.entered <- what:
	default: // the test waits for the first only
	}
	select {
	case <-s.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *gapStore) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	if s.holdRecount {
		if err := s.hold(ctx, "recount"); err != nil {
			return nil, 0, err
		}
	}
	return s.Store.RecountSeats(ctx, tenantID, holding)
}

func (s *gapStore) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	if s.holdCreate {
		if err := s.hold(ctx, "create"); err != nil {
			return err
		}
	}
	return s.Store.CreateMember(ctx, w)
}

// TestReconcileBesideLiveWrites: serve's start-up reconcile never races
// live writes into a wrong count. Member adds run into the gap of a held
// recount (they read the counter the recount is about to replace), and a
// recount runs into the gap of held adds (which have read the counter and
// passed the seat check); afterwards the seats used are within the limit
// and the counter equals the members holding seats. On the reference
// store and on the embedded SQLite store serve uses by default.
func TestReconcileBesideLiveWrites(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) sdk.Store{
		"memstore": func(*testing.T) sdk.Store { return memstore.New() },
		"sqlite": func(t *testing.T) sdk.Store {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "roster.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		},
	}
	for name, open := range stores {
		for _, held := range []string{"recount", "create"} {
			t.Run(name+"/"+held+" held", func(t *testing.T) {
				t.Parallel()
				reconcileBesideLiveWrites(t, open(t), held)
			})
		}
	}
}

func reconcileBesideLiveWrites(t *testing.T, inner sdk.Store, held string) {
	const limit, adders = 5, 8
	ctx := t.Context()
	st := &gapStore{Store: inner, entered: make(chan string, adders), gate: make(chan struct{})}
	c := sdk.New(st)
	tn, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "owner@acme.test", IncludedSeats: limit})
	if err != nil {
		t.Fatal(err)
	}
	// One member to remove beside the reconcile too.
	bob, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: "bob@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	st.holdRecount, st.holdCreate = held == "recount", held == "create"

	var logs syncBuffer
	m := newMetrics()
	reconciled := make(chan struct{})
	live := func() (added int, errs []error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range adders {
			wg.Go(func() {
				_, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("m%d@acme.test", i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					added++
				case sdk.ReasonOf(err) != sdk.ReasonSeatLimit:
					errs = append(errs, err)
				}
			})
		}
		wg.Go(func() {
			if err := c.RemoveMember(ctx, sdk.SystemActor(), tn.ID, bob.ID); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
		wg.Wait()
		return added, errs
	}

	var added int
	var errs []error
	switch held {
	case "recount":
		go func() {
			defer close(reconciled)
			reconcileAll(ctx, c, slog.New(slog.NewTextHandler(&logs, nil)), 2, m)
		}()
		waitEntered(t, st, "recount")
		// The recount is held: live writes run, then it goes on.
		added, errs = live()
		close(st.gate)
		<-reconciled
	case "create":
		done := make(chan struct{})
		go func() {
			defer close(done)
			added, errs = live()
		}()
		// Hold adds at their store write (the seat check passed on the
		// counter they read), run the whole reconcile, then let them go.
		waitEntered(t, st, "create")
		time.Sleep(20 * time.Millisecond) // let more adds reach the gate
		reconcileAll(ctx, c, slog.New(slog.NewTextHandler(&logs, nil)), 2, m)
		close(reconciled)
		close(st.gate)
		<-done
	}
	for _, err := range errs {
		t.Errorf("live write: %v", err)
	}
	if strings.Contains(logs.String(), "failed") && !strings.Contains(logs.String(), "failed=0") {
		t.Errorf("reconcile failed:\n%s", logs.String())
	}
	got, err := c.Tenant(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	members, err := inner.ListMembers(ctx, tn.ID, sdk.MemberQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	holders := len(members) // every state holds a seat by default
	if got.SeatsUsed > got.SeatLimit() || got.SeatsUsed != holders || holders != 1+added {
		t.Errorf("after %d adds beside the reconcile: %d seat(s) used of %d, %d member(s) holding seats (want 1 owner + %d added)",
			added, got.SeatsUsed, got.SeatLimit(), holders, added)
	}
	// Every free seat was taken: three, and bob's when his removal came
	// before the last add.
	if added < limit-2 || added > limit-1 {
		t.Errorf("%d adds succeeded, want %d or %d", added, limit-2, limit-1)
	}
	// And a recount now finds nothing to repair.
	nt, prev, err := inner.RecountSeats(ctx, tn.ID, []sdk.Status{sdk.StatusActive, sdk.StatusInvited, sdk.StatusDeactivated})
	if err != nil {
		t.Fatal(err)
	}
	if prev != nt.SeatsUsed {
		t.Errorf("a recount after the writes moved the counter from %d to %d", prev, nt.SeatsUsed)
	}
}

func waitEntered(t *testing.T, st *gapStore, what string) {
	t.Helper()
	select {
	case got := <-st.entered:
		if got != what {
			t.Fatalf("held %s, want %s", got, what)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("nothing reached the %s gate", what)
	}
}
