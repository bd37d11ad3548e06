package sqlite

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// The benchmarks measure the store through the SDK, as the server uses
// it, in tenants of 1,000 and 100,000 members loaded by an HR sync into
// one database that all of them share (built once per process):
//
//	go test -run '^$' -bench . -benchtime 2s ./sqlite

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type benchTenant struct {
	t     *sdk.Tenant
	owner *sdk.Member
	ids   []string // members in id order
}

var bench struct {
	once    sync.Once
	dir     string
	client  *sdk.Client
	store   *Store
	tenants map[int]*benchTenant // by member count
	err     error
}

var benchSizes = []int{1_000, 100_000}

// benchDB returns the shared database, loading it on first use.
func benchDB(b *testing.B) (*sdk.Client, map[int]*benchTenant) {
	bench.once.Do(func() {
		ctx := context.Background()
		bench.dir, bench.err = os.MkdirTemp("", "sqlite-bench-")
		if bench.err != nil {
			return
		}
		bench.store, bench.err = Open(ctx, filepath.Join(bench.dir, "roster.db"))
		if bench.err != nil {
			return
		}
		bench.client = sdk.New(bench.store, sdk.WithLogger(quiet))
		bench.tenants = map[int]*benchTenant{}
		for _, n := range benchSizes {
			bt := &benchTenant{}
			slug := fmt.Sprintf("bench-%d", n)
			bt.t, bt.owner, bench.err = bench.client.CreateTenant(ctx, sdk.SystemActor(),
				sdk.CreateTenantRequest{Slug: slug, OwnerEmail: "owner@" + slug + ".test", IncludedSeats: 10_000_000})
			if bench.err != nil {
				return
			}
			rep, err := bench.client.Sync(ctx, sdk.SyncActor("load"), bt.t.ID, syncRecords(n), sdk.SyncOptions{})
			if err != nil || len(rep.Created) != n {
				bench.err = fmt.Errorf("loading %d members: %v (created %d)", n, err, len(rep.Created))
				return
			}
			for _, ch := range rep.Created {
				bt.ids = append(bt.ids, ch.MemberID)
			}
			slices.Sort(bt.ids)
			bench.tenants[n] = bt
		}
		// Measure from a checkpointed database, not the load's WAL.
		_, bench.err = bench.store.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.client, bench.tenants
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.store != nil {
		bench.store.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// syncRecords returns n HR records of the shape an HR export has.
func syncRecords(n int) []sdk.SyncRecord {
	recs := make([]sdk.SyncRecord, n)
	for i := range recs {
		recs[i] = sdk.SyncRecord{
			Line: i + 2, Email: fmt.Sprintf("p%07d@corp.test", i),
			Profile: sdk.Profile{ExternalID: fmt.Sprintf("E%07d", i), GivenName: "Given", FamilyName: fmt.Sprint("F", i),
				Department: []string{"Eng", "Ops", "Sales"}[i%3], Title: "Staff", EmployeeNumber: fmt.Sprint(i)},
		}
		if i > 0 {
			recs[i].Manager = "E0000000"
		}
	}
	return recs
}

// eachSize runs fn as a sub-benchmark per tenant size.
func eachSize(b *testing.B, fn func(b *testing.B, c *sdk.Client, bt *benchTenant)) {
	c, ts := benchDB(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			start := cpuTime()
			fn(b, c, ts[n])
			reportCPU(b, start)
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start: on a shared
// machine it varies less with the load than the time per operation.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkGetMember(b *testing.B) {
	eachSize(b, func(b *testing.B, c *sdk.Client, bt *benchTenant) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			if _, err := c.Member(ctx, bt.t.ID, bt.ids[(i*7919)%len(bt.ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkAddMember(b *testing.B) {
	eachSize(b, func(b *testing.B, c *sdk.Client, bt *benchTenant) {
		ctx := context.Background()
		actor := sdk.MemberActor(bt.owner.ID)
		for b.Loop() {
			if _, err := c.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: bt.t.ID, Email: sdk.NewID() + "@add.test"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListMembers reads pages of 100 from the middle of the tenant.
func BenchmarkListMembers(b *testing.B) {
	eachSize(b, func(b *testing.B, c *sdk.Client, bt *benchTenant) {
		ctx := context.Background()
		cursor := ""
		for b.Loop() {
			p, err := c.ListMembers(ctx, bt.t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: 100, Cursor: cursor}})
			if err != nil || len(p.Items) == 0 {
				b.Fatal(err)
			}
			cursor = p.NextCursor
		}
	})
}

// BenchmarkSyncFirstLoad loads 100,000 HR rows into an empty tenant.
func BenchmarkSyncFirstLoad(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	c := sdk.New(s, sdk.WithLogger(quiet))
	recs := syncRecords(100_000)
	run := 0
	start := cpuTime()
	defer func() { reportCPU(b, start) }()
	for b.Loop() {
		b.StopTimer()
		run++
		slug := fmt.Sprintf("load-%d", run)
		t, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: slug, OwnerEmail: "owner@" + slug + ".test", IncludedSeats: 200_000})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := c.Sync(ctx, sdk.SyncActor("bench"), t.ID, slices.Clone(recs), sdk.SyncOptions{})
		if err != nil || len(rep.Created) != len(recs) {
			b.Fatalf("first load: %v, created %d", err, len(rep.Created))
		}
	}
}
