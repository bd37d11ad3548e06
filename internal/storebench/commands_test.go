package storebench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// TestCommandsPerOperation counts the database commands each SDK operation
// sends to the mongo store (on FerretDB), and checks that a deep
// page costs what the first page costs. The tenant has 2,000 members by
// default; set ROSTER_BENCH_MEMBERS=100000 to measure at the size
// BENCHMARKS.md reports.
func TestCommandsPerOperation(t *testing.T) {
	members := 2000
	if v := os.Getenv("ROSTER_BENCH_MEMBERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("ROSTER_BENCH_MEMBERS=%q: want a number ≥ 1000", v)
		}
		members = n
	}
	st, counter := ferretStore(t)
	c := sdk.New(st, sdk.WithLogger(quiet))
	ctx := context.Background()
	tn, owner := newTenant(t, c, "cmds", members+100)
	ids := load(t, c, tn, members)
	actor := sdk.MemberActor(owner.ID)

	measure := func(name string, max int64, fn func() error) int64 {
		t.Helper()
		counter.Reset()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := counter.Count()
		t.Logf("%-32s %d commands %v", name, n, counter.ByName())
		if n > max {
			t.Errorf("%s sent %d commands, want at most %d", name, n, max)
		}
		return n
	}
	var added *sdk.Member
	measure("AddMember", 4, func() (err error) {
		added, err = c.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: tn.ID, Email: "new@x.test"})
		return err
	})
	measure("ChangeRole", 5, func() error { _, err := c.ChangeRole(ctx, actor, tn.ID, added.ID, "admin"); return err })
	measure("Deactivate", 5, func() error { _, err := c.Deactivate(ctx, actor, tn.ID, added.ID); return err })
	measure("Member (get)", 1, func() error { _, err := c.Member(ctx, tn.ID, ids[0]); return err })
	const size = 100
	first := measure("ListMembers page 1", 1, func() error {
		_, err := c.ListMembers(ctx, tn.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: size}})
		return err
	})
	// The cursor of page N is the id of the last member of page N-1.
	deep := min(1000, members/size)
	cursor := sdk.CursorAfter(ids[(deep-1)*size-1])
	last := measure(fmt.Sprintf("ListMembers page %d", deep), 1, func() error {
		p, err := c.ListMembers(ctx, tn.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: size, Cursor: cursor}})
		if err == nil && (len(p.Items) == 0 || p.Items[0].ID != ids[(deep-1)*size]) {
			err = fmt.Errorf("page %d starts at the wrong member", deep)
		}
		return err
	})
	if first != last {
		t.Errorf("page 1 costs %d commands, page %d costs %d", first, deep, last)
	}
}
