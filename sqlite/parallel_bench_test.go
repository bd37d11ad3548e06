package sqlite

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// BenchmarkAddMemberParallel adds members from 8 goroutines at once (as
// concurrent SCIM requests do), at 1,000 and 100,000 members.
func BenchmarkAddMemberParallel(b *testing.B) {
	eachSize(b, func(b *testing.B, c *sdk.Client, bt *benchTenant) {
		ctx := context.Background()
		actor := sdk.MemberActor(bt.owner.ID)
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: bt.t.ID, Email: sdk.NewID() + "@add.test"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
