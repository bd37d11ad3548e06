package migrate_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/internal/migrate/migratetest"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// state returns what dst recorded of the copy from sourceID.
func state(t *testing.T, dst *mongo.Store, sourceID string) *migrate.State {
	t.Helper()
	st, err := dst.MigrationState(t.Context(), sourceID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestCopy copies a source into an empty target, reporting progress and
// recording it in the target.
func TestCopy(t *testing.T) {
	src := migratetest.NewSource(t, 2)
	dst := openTarget(t)
	var ps []migrate.Progress
	rep, err := migrate.Copy(t.Context(), src.Store, dst, migrate.Options{
		SourceID: "/data", Source: "data directory /data", BatchSize: 2,
		Progress: func(p migrate.Progress) { ps = append(ps, p) },
	})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	migratetest.CheckReport(t, src, rep)
	if rep.Resumed || rep.Skipped != 0 || rep.Copied != 5 || rep.SourceID != "/data" {
		t.Errorf("report %+v", rep)
	}
	migratetest.Compare(t, src.Store, dst, src.TenantIDs())

	// Progress: each tenant in turn, its records as they are written,
	// then done.
	var done []int
	var acmeMembers []int64
	for _, p := range ps {
		if p.Tenants != 5 || p.Tenant < 1 || p.Tenant > 5 || p.Slug == "" {
			t.Errorf("progress %+v", p)
		}
		if len(done) > 0 && p.Tenant <= done[len(done)-1] {
			t.Errorf("progress %+v after tenant %d was done", p, done[len(done)-1])
		}
		switch {
		case p.Done:
			done = append(done, p.Tenant)
		case p.TenantID == src.Acme.ID && p.Collection == migrate.Members:
			acmeMembers = append(acmeMembers, p.Copied)
		}
	}
	if !slices.Equal(done, []int{1, 2, 3, 4, 5}) {
		t.Errorf("tenants reported done: %v", done)
	}
	if !slices.Equal(acmeMembers, []int64{2, 4, 5}) {
		t.Errorf("acme's members reported copied, in batches of 2: %v", acmeMembers)
	}

	st := state(t, dst, "/data")
	if st == nil || st.Source != "data directory /data" || st.Started.IsZero() || st.Finished.Before(st.Started) || len(st.Done) != 5 {
		t.Fatalf("state %+v", st)
	}
	sum := map[string]int64{}
	for _, n := range st.Done {
		for k, v := range n {
			sum[k] += v
		}
	}
	if !maps.Equal(sum, rep.Source) {
		t.Errorf("counts recorded %v, copied %v", sum, rep.Source)
	}
}

// TestProgressString describes progress in one line.
func TestProgressString(t *testing.T) {
	for _, c := range []struct {
		p    migrate.Progress
		want string
	}{
		{migrate.Progress{Slug: "acme", Tenant: 3, Tenants: 12, Collection: migrate.Members, Copied: 1500}, "tenant 3/12 acme: members 1500"},
		{migrate.Progress{Slug: "acme", Tenant: 3, Tenants: 12, Done: true}, "tenant 3/12 acme: done"},
		{migrate.Progress{Slug: "acme", Tenant: 1, Tenants: 2, Skipped: true}, "tenant 1/2 acme: skipped (copied by an earlier run)"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

// flaky is a target whose imports of one kind fail once, at the n-th
// call.
type flaky struct {
	*mongo.Store
	kind  string
	n     int
	calls atomic.Int64
}

var errInjected = errors.New("injected failure")

func (f *flaky) fail(kind string) error {
	if kind == f.kind && f.calls.Add(1) == int64(f.n) {
		return errInjected
	}
	return nil
}

func (f *flaky) ImportMembers(ctx context.Context, ms []*sdk.Member, global bool) error {
	if err := f.fail(migrate.Members); err != nil {
		return err
	}
	return f.Store.ImportMembers(ctx, ms, global)
}

func (f *flaky) ImportCredentials(ctx context.Context, c *sdk.Credentials) error {
	if err := f.fail(migrate.Credentials); err != nil {
		return err
	}
	return f.Store.ImportCredentials(ctx, c)
}

func (f *flaky) ImportEdges(ctx context.Context, tenantID string, es []sdk.GroupEdge) error {
	if err := f.fail(migrate.Edges); err != nil {
		return err
	}
	return f.Store.ImportEdges(ctx, tenantID, es)
}

// failingSource is a source whose listing of invitations fails once, at
// the n-th call.
type failingSource struct {
	sdk.Store
	n     int
	calls atomic.Int64
}

func (f *failingSource) ListInvitations(ctx context.Context, tenantID string, q sdk.InvitationQuery) ([]*sdk.Invitation, error) {
	if f.calls.Add(1) == int64(f.n) {
		return nil, errInjected
	}
	return f.Store.ListInvitations(ctx, tenantID, q)
}

// TestCopyInterrupted stops copies at different points, then runs them
// again without AllowNonEmpty: each run resumes the copy, skipping the
// tenants completed, and ends with the target holding exactly what the
// source holds.
func TestCopyInterrupted(t *testing.T) {
	for _, c := range []struct {
		name string
		// stop returns the target and the progress callback of the first
		// run, given the cancel function of its context.
		stop func(dst *mongo.Store, cancel func()) (migrate.Target, func(migrate.Progress))
		// source, when set, wraps the source of the first run.
		source func(sdk.Store) sdk.Store
		want   error
		done   int // tenants the first run completed
	}{
		{"cancelled after the second tenant", func(dst *mongo.Store, cancel func()) (migrate.Target, func(migrate.Progress)) {
			return dst, func(p migrate.Progress) {
				if p.Done && p.Tenant == 2 {
					cancel()
				}
			}
		}, nil, context.Canceled, 2},
		{"cancelled within the members of the first tenant", func(dst *mongo.Store, cancel func()) (migrate.Target, func(migrate.Progress)) {
			return dst, func(p migrate.Progress) {
				if p.Collection == migrate.Members && p.Copied == 2 {
					cancel()
				}
			}
		}, nil, context.Canceled, 0},
		{"an edge import failing", func(dst *mongo.Store, cancel func()) (migrate.Target, func(migrate.Progress)) {
			return &flaky{Store: dst, kind: migrate.Edges, n: 2}, nil
		}, nil, errInjected, 0},
		{"a credentials import failing in the third tenant", func(dst *mongo.Store, cancel func()) (migrate.Target, func(migrate.Progress)) {
			return &flaky{Store: dst, kind: migrate.Credentials, n: 5}, nil // ann, bob, dan; hal; kim
		}, nil, errInjected, 2},
		{"a member import failing in the last tenant", func(dst *mongo.Store, cancel func()) (migrate.Target, func(migrate.Progress)) {
			return &flaky{Store: dst, kind: migrate.Members, n: 7}, nil // batches: acme 3, globex 2, initech 1, then the small tenant
		}, nil, errInjected, 3},
		{"a read of the source failing in the second tenant", func(dst *mongo.Store, cancel func()) (migrate.Target, func(migrate.Progress)) {
			return dst, nil
		}, func(s sdk.Store) sdk.Store { return &failingSource{Store: s, n: 3} }, errInjected, 1}, // acme pages twice
	} {
		t.Run(c.name, func(t *testing.T) {
			src := migratetest.NewSource(t, 1)
			dst := openTarget(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			target, progress := c.stop(dst, cancel)
			var from sdk.Store = src.Store
			if c.source != nil {
				from = c.source(from)
			}
			_, err := migrate.Copy(ctx, from, target, migrate.Options{SourceID: "src", BatchSize: 2, Progress: progress})
			if !errors.Is(err, c.want) {
				t.Fatalf("first run: %v, want %v", err, c.want)
			}
			if inSource := strings.Contains(err.Error(), "in the source"); errors.Is(err, errInjected) && inSource != (c.source != nil) {
				t.Errorf("first run: %q blames the wrong store", err)
			}
			st := state(t, dst, "src")
			if st == nil || !st.Finished.IsZero() || len(st.Done) != c.done {
				t.Fatalf("after the first run: state %+v, want %d tenants done", st, c.done)
			}
			rep, err := migrate.Copy(t.Context(), src.Store, dst, migrate.Options{SourceID: "src", BatchSize: 2})
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if !rep.Resumed || rep.Skipped != c.done || rep.Copied != 4-c.done {
				t.Errorf("second run: resumed %v, %d skipped, %d copied; want %d skipped", rep.Resumed, rep.Skipped, rep.Copied, c.done)
			}
			migratetest.CheckReport(t, src, rep)
			migratetest.Compare(t, src.Store, dst, src.TenantIDs())
			if st := state(t, dst, "src"); st.Finished.IsZero() || len(st.Done) != 4 {
				t.Errorf("after the second run: state %+v", st)
			}
		})
	}
}

// TestCopyRefusesNonEmpty: a target that holds data is refused, with an
// error that says how to proceed, unless told or resuming; a refused copy
// writes nothing.
func TestCopyRefusesNonEmpty(t *testing.T) {
	ctx := t.Context()
	src := migratetest.NewSource(t, 0)
	dst := openTarget(t)
	if _, err := migrate.Copy(ctx, src.Store, dst, migrate.Options{SourceID: "a"}); err != nil {
		t.Fatal(err)
	}
	finished := state(t, dst, "a").Finished
	refused := func(opt migrate.Options, finished time.Time) {
		t.Helper()
		before, err := dst.Counts(ctx, src.TenantIDs())
		if err != nil {
			t.Fatal(err)
		}
		_, err = migrate.Copy(ctx, src.Store, dst, opt)
		var ne *migrate.NotEmptyError
		if !errors.Is(err, migrate.ErrTargetNotEmpty) || !errors.As(err, &ne) {
			t.Fatalf("Copy(%+v) into a target with data: %v", opt, err)
		}
		if !ne.Finished.Equal(finished) || !strings.Contains(err.Error(), "--allow-non-empty") {
			t.Errorf("error %q (finished %v), want one naming --allow-non-empty and the copy finished at %v", err, ne.Finished, finished)
		}
		if after, _ := dst.Counts(ctx, src.TenantIDs()); !maps.Equal(after, before) {
			t.Errorf("a refused copy wrote: %v, was %v", after, before)
		}
	}
	refused(migrate.Options{SourceID: "b"}, time.Time{})
	refused(migrate.Options{}, time.Time{})
	refused(migrate.Options{SourceID: "a"}, finished) // finished: nothing to resume
	if !state(t, dst, "a").Finished.Equal(finished) {
		t.Error("a refused copy changed the record of the copy that finished")
	}

	// Told: copy again, every tenant.
	rep, err := migrate.Copy(ctx, src.Store, dst, migrate.Options{SourceID: "a", AllowNonEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resumed || rep.Copied != 3 {
		t.Errorf("copy again: %+v", rep)
	}
	migratetest.CheckReport(t, src, rep)
}

// TestCopyRestart: an unfinished copy is resumed unless told to restart,
// and a restart, into a target that holds the first run's records, needs
// AllowNonEmpty.
func TestCopyRestart(t *testing.T) {
	src := migratetest.NewSource(t, 0)
	dst := openTarget(t)
	ctx, cancel := context.WithCancel(t.Context())
	_, err := migrate.Copy(ctx, src.Store, dst, migrate.Options{SourceID: "src", Progress: func(p migrate.Progress) {
		if p.Done {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	if _, err := migrate.Copy(t.Context(), src.Store, dst, migrate.Options{SourceID: "src", Restart: true}); !errors.Is(err, migrate.ErrTargetNotEmpty) {
		t.Fatalf("restart into the first run's records: %v", err)
	}
	if st := state(t, dst, "src"); len(st.Done) != 1 {
		t.Fatalf("a refused restart changed the progress: %+v", st)
	}
	rep, err := migrate.Copy(t.Context(), src.Store, dst, migrate.Options{SourceID: "src", Restart: true, AllowNonEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resumed || rep.Skipped != 0 || rep.Copied != 3 {
		t.Errorf("restart: %+v", rep)
	}
	migratetest.CheckReport(t, src, rep)
}

// lossy is a target that drops an audit event of each batch.
type lossy struct{ *mongo.Store }

func (l lossy) ImportAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	return l.Store.ImportAudits(ctx, es[:len(es)-1])
}

// inflated is a target whose counts over several tenants count one
// member too many.
type inflated struct{ *mongo.Store }

func (i inflated) Counts(ctx context.Context, ids []string) (map[string]int64, error) {
	n, err := i.Store.Counts(ctx, ids)
	if len(ids) > 1 {
		n[migrate.Members]++
	}
	return n, err
}

// TestCopyMismatch: counts that differ fail the copy with an error naming
// the kind of record and both numbers; a tenant whose counts differ is not
// marked done, nor is a copy whose totals differ finished.
func TestCopyMismatch(t *testing.T) {
	t.Run("tenant", func(t *testing.T) {
		src := migratetest.NewSource(t, 0)
		dst := openTarget(t)
		_, err := migrate.Copy(t.Context(), src.Store, lossy{dst}, migrate.Options{SourceID: "src", BatchSize: 1000})
		var me *migrate.MismatchError
		if !errors.As(err, &me) || me.TenantID != src.Acme.ID || len(me.Diffs) != 1 {
			t.Fatalf("Copy: %v, want a mismatch of acme's audit events", err)
		}
		d := me.Diffs[0]
		if d.Collection != migrate.Audit || d.Target != d.Source-1 {
			t.Errorf("diff %+v", d)
		}
		if !strings.Contains(err.Error(), "audit: ") || !strings.Contains(err.Error(), src.Acme.ID) {
			t.Errorf("error %q names neither the tenant nor the kind", err)
		}
		if st := state(t, dst, "src"); len(st.Done) != 0 {
			t.Errorf("a tenant whose counts differ was marked done: %v", st.Done)
		}
	})
	t.Run("totals", func(t *testing.T) {
		src := migratetest.NewSource(t, 0)
		dst := openTarget(t)
		rep, err := migrate.Copy(t.Context(), src.Store, inflated{dst}, migrate.Options{SourceID: "src"})
		var me *migrate.MismatchError
		if !errors.As(err, &me) || me.TenantID != "" || len(me.Diffs) != 1 || me.Diffs[0].Collection != migrate.Members {
			t.Fatalf("Copy: %v, want a mismatch of the members in total", err)
		}
		if rep == nil || rep.Target[migrate.Members] != rep.Source[migrate.Members]+1 {
			t.Errorf("report %+v", rep)
		}
		if st := state(t, dst, "src"); !st.Finished.IsZero() || len(st.Done) != 3 {
			t.Errorf("state %+v", st)
		}
	})
}

// plain is a target with none of the optional interfaces.
type plain struct{ migrate.Target }

// TestCopyPlainTarget copies into a target that cannot tell whether it is
// empty nor record progress: it counts as empty while it holds none of
// the source's tenants, and a copy run again needs AllowNonEmpty.
func TestCopyPlainTarget(t *testing.T) {
	src := migratetest.NewSource(t, 0)
	dst := openTarget(t)
	// Another source's tenant does not make the target not empty here.
	other := memstore.New()
	if _, _, err := src.Client(other).CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "other", OwnerEmail: "o@other.test", IncludedSeats: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Copy(t.Context(), other, plain{dst}, migrate.Options{SourceID: "other"}); err != nil {
		t.Fatal(err)
	}
	rep, err := migrate.Copy(t.Context(), src.Store, plain{dst}, migrate.Options{SourceID: "src"})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	migratetest.CheckReport(t, src, rep)
	if st := state(t, dst, "src"); st != nil {
		t.Errorf("a plain target recorded progress: %+v", st)
	}
	if _, err := migrate.Copy(t.Context(), src.Store, plain{dst}, migrate.Options{SourceID: "src"}); !errors.Is(err, migrate.ErrTargetNotEmpty) {
		t.Errorf("second copy: %v, want %v", err, migrate.ErrTargetNotEmpty)
	}
	if _, err := migrate.Copy(t.Context(), src.Store, plain{dst}, migrate.Options{AllowNonEmpty: true}); err != nil {
		t.Errorf("second copy, told: %v", err)
	}
}

// unscanned is a source without the optional interfaces of its store.
type unscanned struct{ sdk.Store }

// TestCopyPaging copies from a source that cannot scan members, which are
// then read a page at a time, and from a source without tenants.
func TestCopyPaging(t *testing.T) {
	src := migratetest.NewSource(t, 0)
	dst := openTarget(t)
	var pages []int64
	rep, err := migrate.Copy(t.Context(), unscanned{src.Store}, dst, migrate.Options{BatchSize: 2, Progress: func(p migrate.Progress) {
		if p.TenantID == src.Acme.ID && p.Collection == migrate.Members {
			pages = append(pages, p.Copied)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	migratetest.CheckReport(t, src, rep)
	migratetest.Compare(t, src.Store, dst, src.TenantIDs())
	if !slices.Equal(pages, []int64{2, 4, 5}) {
		t.Errorf("acme's members copied a page at a time: %v", pages)
	}

	rep, err = migrate.Copy(t.Context(), memstore.New(), openTarget(t), migrate.Options{SourceID: "empty"})
	if err != nil || rep.Tenants != 0 || slices.ContainsFunc(slices.Collect(maps.Values(rep.Target)), func(n int64) bool { return n != 0 }) {
		t.Errorf("copy of an empty source: %+v, %v", rep, err)
	}
}
