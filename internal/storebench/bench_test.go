package storebench

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// target is one store under measurement, behind an SDK client.
type target struct {
	name   string
	client *sdk.Client
	// counter counts the database commands of the mongo store on FerretDB
	// (nil for the other stores).
	counter *mongo.CommandCounter
	// sqlite is the SQLite store with its writes counted (nil for the
	// other stores).
	sqlite *countingStore
}

// stores are the stores every benchmark compares, in this order: the
// in-memory store (the baseline, serve --memory), the SQLite store
// (Roster's embedded default, serve --data), and the mongo store on
// FerretDB (the mongo store's test double, Roster's embedded store before
// the SQLite store). Each is opened only when a benchmark of it runs.
var stores = []struct {
	name string
	open func(tb testing.TB) target
}{
	{"memstore", func(testing.TB) target {
		return target{client: sdk.New(memstore.New(), sdk.WithLogger(quiet))}
	}},
	{"sqlite", func(tb testing.TB) target {
		st := sqliteStore(tb)
		return target{client: sdk.New(st, sdk.WithLogger(quiet)), sqlite: st}
	}},
	{"ferretdb", func(tb testing.TB) target {
		st, counter := ferretStore(tb)
		return target{client: sdk.New(st, sdk.WithLogger(quiet)), counter: counter}
	}},
}

var quiet = slog.New(slog.DiscardHandler)

// ferretStore starts a FerretDB server in a temporary directory and opens
// the mongo store on it, wrapped with embedded.Serialize (FerretDB v1 needs
// it).
func ferretStore(tb testing.TB) (sdk.Store, *mongo.CommandCounter) {
	tb.Helper()
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Config{Dir: tb.TempDir(), Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	counter := &mongo.CommandCounter{}
	st, err := mongo.Open(ctx, srv.URI(), "bench", mongo.WithCommandMonitor(counter.Monitor()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close(context.Background()) })
	return embedded.Serialize(st, nil), counter
}

// tenantSeq makes slugs unique when a benchmark runs more than once
// (-count) on one store.
var tenantSeq atomic.Int64

func newTenant(tb testing.TB, c *sdk.Client, slug string, seats int) (*sdk.Tenant, *sdk.Member) {
	tb.Helper()
	slug = fmt.Sprintf("%s-%d", slug, tenantSeq.Add(1))
	t, owner, err := c.CreateTenant(context.Background(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: slug, OwnerEmail: "owner@" + slug + ".test", IncludedSeats: seats})
	if err != nil {
		tb.Fatal(err)
	}
	return t, owner
}

// onEachStore runs fn as a sub-benchmark per store, in a new tenant of that
// store with the given seats and, loaded through a sync, members members
// (their ids in list order), and reports ops/s.
func onEachStore(b *testing.B, slug string, seats, members int, fn func(b *testing.B, tg target, t *sdk.Tenant, owner *sdk.Member, ids []string)) {
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			tg := s.open(b)
			tg.name = s.name
			t, owner := newTenant(b, tg.client, slug+"-"+tg.name, seats)
			var ids []string
			if members > 0 {
				ids = load(b, tg.client, t, members)
			}
			fn(b, tg, t, owner, ids)
		})
	}
}

func reportOps(b *testing.B) { b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s") }

// BenchmarkAddMember adds members one by one through the SDK (policy
// check, seat, insert, audit) on each store.
func BenchmarkAddMember(b *testing.B) {
	onEachStore(b, "add", 10_000_000, 0, func(b *testing.B, tg target, t *sdk.Tenant, owner *sdk.Member, _ []string) {
		ctx := context.Background()
		actor := sdk.MemberActor(owner.ID)
		i := 0
		for b.Loop() {
			if _, err := tg.client.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: t.ID, Email: fmt.Sprintf("m%d@x.test", i)}); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportOps(b)
	})
}

// BenchmarkGetMember reads members by id from a tenant of 1000 members.
func BenchmarkGetMember(b *testing.B) {
	onEachStore(b, "get", 10_000, 1000, func(b *testing.B, tg target, t *sdk.Tenant, _ *sdk.Member, ids []string) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			if _, err := tg.client.Member(ctx, t.ID, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportOps(b)
	})
}

// load adds n members through a sync (bulk writes) and returns their ids in
// list order.
func load(tb testing.TB, c *sdk.Client, t *sdk.Tenant, n int) []string {
	tb.Helper()
	recs := make([]sdk.SyncRecord, n)
	for i := range recs {
		recs[i] = sdk.SyncRecord{Email: fmt.Sprintf("p%07d@x.test", i),
			Profile: sdk.Profile{ExternalID: fmt.Sprintf("E%07d", i), GivenName: "P", FamilyName: fmt.Sprint(i)}}
	}
	rep, err := c.Sync(context.Background(), sdk.SyncActor("load"), t.ID, recs, sdk.SyncOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if len(rep.Created) != n {
		tb.Fatalf("loaded %d of %d: %+v", len(rep.Created), n, rep.Failed)
	}
	ids := make([]string, 0, n)
	for _, ch := range rep.Created {
		ids = append(ids, ch.MemberID)
	}
	slices.Sort(ids)
	return ids
}

// BenchmarkGroupMembership adds k members of a 2,000-member tenant to a
// group and removes them again, through the SDK (one op: both calls, each
// with its audit event). On the mongo store an edge is an element of the
// member document, so each member added or removed is a member document
// written: one $addToSet or $pullAll for k = 1, one updateMany for more.
func BenchmarkGroupMembership(b *testing.B) {
	onEachStore(b, "grp", 10_000, 2000, func(b *testing.B, tg target, t *sdk.Tenant, _ *sdk.Member, ids []string) {
		ctx := context.Background()
		g, err := tg.client.CreateGroup(ctx, sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: t.ID, DisplayName: "G"})
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("members=%d", k), func(b *testing.B) {
				actor := sdk.TokenActor("bench")
				i := 0
				for b.Loop() {
					batch := ids[(i*k)%len(ids):][:k]
					if _, err := tg.client.AddGroupMembers(ctx, actor, t.ID, g.ID, batch); err != nil {
						b.Fatal(err)
					}
					if _, err := tg.client.RemoveGroupMembers(ctx, actor, t.ID, g.ID, batch); err != nil {
						b.Fatal(err)
					}
					i++
				}
				reportOps(b)
			})
		}
	})
}
