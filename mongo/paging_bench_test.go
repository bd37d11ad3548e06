package mongo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// BenchmarkSCIMPage measures a SCIM Users page of 100 as the scim package
// serves startIndex — sdk.SearchMembers with Offset startIndex-1 and
// Total, then the members' group ids — at the start, middle and end of a
// tenant of 20,000 members, on the FerretDB-backed store, reporting the
// database commands of a page beside its time:
//
//	go test -run '^$' -bench SCIMPage -benchtime 20x ./mongo
func BenchmarkSCIMPage(b *testing.B) {
	const users = 20_000
	var cc CommandCounter
	s := openStore(b, WithCommandMonitor(cc.Monitor()))
	ctx := b.Context()
	tn := benchTenant(b, s, users)
	c := sdk.New(s)
	for _, start := range []int{1, 10_000, 19_900} {
		for _, groups := range []bool{false, true} {
			name := fmt.Sprintf("members=%d/startIndex=%d", users, start)
			if groups {
				name += "/groups"
			}
			b.Run(name, func(b *testing.B) {
				cc.Reset()
				for b.Loop() {
					p, total, err := c.SearchMembers(ctx, tn.ID, sdk.MemberSearch{
						ListOptions: sdk.ListOptions{PageSize: 100}, Offset: start - 1, Total: true})
					if err != nil || len(p.Items) != 100 || total != users {
						b.Fatalf("%d members, total %d: %v", len(p.Items), total, err)
					}
					if groups {
						if _, err := c.GroupIDsOfMembers(ctx, tn.ID, p.Items); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(cc.Count())/float64(b.N), "commands/op")
			})
		}
	}
}

// benchTenant stores a tenant of n members, the owner included, importing
// all but the owner in bulk.
func benchTenant(b *testing.B, s *testStore, n int) *sdk.Tenant {
	b.Helper()
	ctx := context.Background()
	roles, _ := sdk.PresetRoles(sdk.PresetStandard)
	tn := &sdk.Tenant{ID: sdk.NewID(), Slug: "bench", Name: "bench", IncludedSeats: n, SeatsUsed: n,
		Roles: roles, Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
	owner := newMember(tn.ID, "owner@bench.test")
	owner.Role = "owner"
	tn.OwnerID = owner.ID
	if err := s.CreateTenant(ctx, tn, sdk.MemberWrite{Member: owner}); err != nil {
		b.Fatal(err)
	}
	batch := make([]*sdk.Member, 0, 1000)
	start := time.Now()
	for i := 1; i < n; i++ {
		batch = append(batch, newMember(tn.ID, fmt.Sprintf("u%05d@bench.test", i)))
		if len(batch) == cap(batch) || i == n-1 {
			if err := s.raw().ImportMembers(ctx, batch, false); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.Logf("imported %d members in %v", n-1, time.Since(start).Round(time.Millisecond))
	return tn
}
