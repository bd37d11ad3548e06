package storebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// memberCounts are the tenant sizes of BenchmarkMembers.
var memberCounts = []int{1_000, 10_000, 100_000}

// BenchmarkMembers measures, through the SDK, the three member operations
// of a member directory at each tenant size of memberCounts, on each
// store, so that the cost at 100,000 members can be compared with the
// cost at 1,000 (flat is the goal) and with the other stores in the same
// run:
//
//   - get: Client.Member of a member picked at random;
//   - list: Client.ListMembers of a page of 100 starting after a member
//     picked at random (a cursor deep in the tenant);
//   - add: Client.AddMember by the owner (policy check, seat, insert,
//     audit event).
//
// The tenant is loaded through a sync (bulk writes) before the three run,
// in this order (adds come last so that the pages the list reads stay the
// loaded members). Each reports ops/s; every result is checked.
func BenchmarkMembers(b *testing.B) {
	ctx := context.Background()
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			tg := s.open(b)
			tg.name = s.name
			for _, n := range memberCounts {
				b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
					t, owner := newTenant(b, tg.client, fmt.Sprintf("scale-%s-%d", s.name, n), 10_000_000)
					ids := load(b, tg.client, t, n)
					b.Run("get", func(b *testing.B) {
						pick := rand.New(rand.NewPCG(1, uint64(n)))
						for b.Loop() {
							id := ids[pick.IntN(n)]
							m, err := tg.client.Member(ctx, t.ID, id)
							if err != nil || m.ID != id {
								b.Fatalf("get %s: %v", id, err)
							}
						}
						reportOps(b)
					})
					b.Run("list", func(b *testing.B) {
						const size = 100
						pick := rand.New(rand.NewPCG(2, uint64(n)))
						for b.Loop() {
							k := pick.IntN(n - size)
							p, err := tg.client.ListMembers(ctx, t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: size, Cursor: sdk.CursorAfter(ids[k])}})
							if err != nil || len(p.Items) != size || p.Items[0].ID != ids[k+1] || p.Items[size-1].ID != ids[k+size] {
								b.Fatalf("page after member %d: %v", k, err)
							}
						}
						reportOps(b)
					})
					b.Run("add", func(b *testing.B) {
						actor := sdk.MemberActor(owner.ID)
						for b.Loop() {
							email := fmt.Sprintf("added%d@x.test", addSeq.Add(1))
							m, err := tg.client.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: t.ID, Email: email})
							if err != nil || m.Email != email {
								b.Fatalf("add %s: %v", email, err)
							}
						}
						reportOps(b)
					})
				})
			}
		})
	}
}

// addSeq makes the addresses BenchmarkMembers adds unique across runs.
var addSeq atomic.Int64
