package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// testOffset checks pages by position ([sdk.MemberQuery.Offset],
// [sdk.GroupQuery.Offset]) against the list the same query returns
// without one: with and without filters — exact ones, and ones a store
// may evaluate outside its database (a case-insensitive field without a
// stored key, a value filter on one item) — counted from After, at and
// past the end, and a walk by position equal to a walk by cursor. Then
// the SDK's searches on the store: Offset with Total and a cursor, the
// pinned fast paths, and a negative Offset. The 24 members give each
// filter at least 5; every check below walks the whole list by position
// and by cursor, a page of one included, so that at 48 members this test
// took 70 s of the mongo package's tests on FerretDB under -race.
func testOffset(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 1000)
	for i := range 23 {
		m := newMember(tn.ID, fmt.Sprintf("user%02d@x.test", i))
		if i%3 == 0 {
			m.NickName = fmt.Sprintf("ANNa%02d", i)
		}
		if i%2 == 0 {
			m.Title = "Eng"
		}
		if i%4 == 0 {
			m.Emails = append(m.Emails, sdk.Email{Value: fmt.Sprintf("home%02d@y.test", i), Type: "home"})
		}
		seat := sdk.SeatTake
		if i%5 == 0 {
			m.Status, seat = sdk.StatusDeactivated, sdk.SeatKeep
		}
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: seat}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{})
	if err != nil || len(all) != 24 {
		t.Fatalf("ListMembers(all) = %d members, %v; want 24", len(all), err)
	}
	homeItem := &sdk.Cond{Op: sdk.OpSome, Field: sdk.FieldEmails, Args: []*sdk.Cond{sdk.And(
		sdk.Compare(sdk.FieldEmailType, sdk.OpEq, "home"), sdk.Compare(sdk.FieldEmailValue, sdk.OpCo, "HOME"))}}
	filters := []struct {
		name string
		f    sdk.MemberFilter
	}{
		{"none", sdk.MemberFilter{}},
		{"status", sdk.MemberFilter{Status: sdk.StatusActive}},
		{"title eq", sdk.MemberFilter{Where: sdk.Compare(sdk.FieldTitle, sdk.OpEq, "eng")}},
		{"nickName sw (inexact)", sdk.MemberFilter{Where: sdk.Compare(sdk.FieldNickName, sdk.OpSw, "anna")}},
		{"emails[type eq home] (inexact)", sdk.MemberFilter{Where: homeItem}},
		{"status and nickName (inexact)", sdk.MemberFilter{Status: sdk.StatusActive, Where: sdk.Compare(sdk.FieldNickName, sdk.OpCo, "NA")}},
	}
	for _, fc := range filters {
		t.Run("Members/"+fc.name, func(t *testing.T) {
			var want []string
			for _, m := range all {
				if (fc.f.Status == "" || m.Status == fc.f.Status) && fc.f.Where.Match(m) {
					want = append(want, m.ID)
				}
			}
			if len(want) < 5 {
				t.Fatalf("the fixture gives the filter %d members", len(want))
			}
			list := func(q sdk.MemberQuery) []string {
				t.Helper()
				q.Filter = fc.f
				ms, err := s.ListMembers(ctx, tn.ID, q)
				if err != nil {
					t.Fatalf("ListMembers(After %q, Offset %d, Limit %d): %v", q.After, q.Offset, q.Limit, err)
				}
				return memberIDs(ms)
			}
			checkOffsets(t, want, func(after string, offset, limit int) []string {
				return list(sdk.MemberQuery{After: after, Offset: offset, Limit: limit})
			})
		})
	}

	t.Run("Groups", func(t *testing.T) {
		gs := groupStore(t, s)
		for i := range 23 {
			name := fmt.Sprintf("Team %02d", i)
			if i%3 == 0 {
				name = fmt.Sprintf("Other %02d", i)
			}
			g := newGroup(tn.ID, name)
			if i%2 == 0 {
				g.Role = "admin"
			}
			if err := gs.CreateGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		allGroups, err := gs.ListGroups(ctx, tn.ID, sdk.GroupQuery{})
		if err != nil || len(allGroups) != 23 {
			t.Fatalf("ListGroups(all) = %d groups, %v; want 23", len(allGroups), err)
		}
		for _, w := range []*sdk.Cond{
			nil,
			sdk.Compare(sdk.FieldDisplayName, sdk.OpSw, "TEAM"),
			sdk.And(sdk.Compare(sdk.FieldRole, sdk.OpEq, "admin"), sdk.Compare(sdk.FieldDisplayName, sdk.OpCo, "team")),
		} {
			t.Run(w.String(), func(t *testing.T) {
				var want []string
				for _, g := range allGroups {
					if w.MatchGroup(g) {
						want = append(want, g.ID)
					}
				}
				checkOffsets(t, want, func(after string, offset, limit int) []string {
					t.Helper()
					page, err := gs.ListGroups(ctx, tn.ID, sdk.GroupQuery{Where: w, After: after, Offset: offset, Limit: limit})
					if err != nil {
						t.Fatalf("ListGroups(After %q, Offset %d, Limit %d): %v", after, offset, limit, err)
					}
					ids := make([]string, len(page))
					for i, g := range page {
						ids[i] = g.ID
					}
					return ids
				})
			})
		}
	})

	t.Run("Search", func(t *testing.T) {
		c := sdk.New(s)
		walk := func(s sdk.MemberSearch) []string {
			t.Helper()
			p, total, err := c.SearchMembers(ctx, tn.ID, s)
			if err != nil {
				t.Fatalf("SearchMembers(Offset %d): %v", s.Offset, err)
			}
			if s.Total && total != len(all) {
				t.Fatalf("SearchMembers(Offset %d) total %d, want %d", s.Offset, total, len(all))
			}
			got := memberIDs(p.Items)
			if p.NextCursor != "" { // the cursor continues right after the page
				next, _, err := c.SearchMembers(ctx, tn.ID, sdk.MemberSearch{ListOptions: sdk.ListOptions{PageSize: 1, Cursor: p.NextCursor}})
				if err != nil || len(next.Items) != 1 || next.Items[0].ID != all[slices.Index(memberIDs(all), got[len(got)-1])+1].ID {
					t.Fatalf("NextCursor after the page at %d does not resume after it: %v, %v", s.Offset, next, err)
				}
			}
			return got
		}
		ids := memberIDs(all)
		if got := walk(sdk.MemberSearch{ListOptions: sdk.ListOptions{PageSize: 10}, Offset: 10, Total: true}); !slices.Equal(got, ids[10:20]) {
			t.Errorf("SearchMembers(Offset 10) = %v, want %v", got, ids[10:20])
		}
		if got := walk(sdk.MemberSearch{ListOptions: sdk.ListOptions{PageSize: 10}, Offset: 20, Total: true}); !slices.Equal(got, ids[20:]) {
			t.Errorf("SearchMembers(Offset 20, the last page) = %v, want %v", got, ids[20:])
		}
		if got := walk(sdk.MemberSearch{ListOptions: sdk.ListOptions{PageSize: 10}, Offset: 24, Total: true}); len(got) != 0 {
			t.Errorf("SearchMembers(Offset 24, at the end) = %v, want none", got)
		}
		// Offset counts from the cursor.
		first, _, err := c.SearchMembers(ctx, tn.ID, sdk.MemberSearch{ListOptions: sdk.ListOptions{PageSize: 5}})
		if err != nil {
			t.Fatal(err)
		}
		if got := walk(sdk.MemberSearch{ListOptions: sdk.ListOptions{PageSize: 4, Cursor: first.NextCursor}, Offset: 3}); !slices.Equal(got, ids[8:12]) {
			t.Errorf("SearchMembers(cursor after 5, Offset 3) = %v, want %v", got, ids[8:12])
		}
		// A condition pinning a unique key is one read; the one match is
		// at position 0, so any Offset skips it. The total stays.
		for _, w := range []*sdk.Cond{
			sdk.Compare(sdk.FieldUserName, sdk.OpEq, all[7].UserName),
			sdk.Compare(sdk.FieldID, sdk.OpEq, all[7].ID),
		} {
			for _, off := range []int{0, 1, 5} {
				n := 0
				if off == 0 {
					n = 1
				}
				p, total, err := c.SearchMembers(ctx, tn.ID, sdk.MemberSearch{Where: w, Offset: off, Total: true})
				if err != nil || total != 1 || len(p.Items) != n {
					t.Errorf("SearchMembers(%v, Offset %d) = %d items, total %d, %v", w, off, len(p.Items), total, err)
				}
			}
		}
		g, err := c.CreateGroup(ctx, sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Pinned"})
		if err != nil {
			t.Fatal(err)
		}
		for _, off := range []int{0, 1} {
			p, total, err := c.SearchGroups(ctx, tn.ID, sdk.GroupSearch{Where: sdk.Compare(sdk.FieldID, sdk.OpEq, g.ID), Offset: off, Total: true})
			if err != nil || total != 1 || len(p.Items) != 1-off {
				t.Errorf("SearchGroups(id eq, Offset %d) = %d items, total %d, %v", off, len(p.Items), total, err)
			}
		}
		// A negative Offset is refused before anything is read.
		var e *sdk.Error
		_, _, err = c.SearchMembers(ctx, tn.ID, sdk.MemberSearch{Offset: -1})
		if !errors.Is(err, sdk.ErrInvalidArgument) || !errors.As(err, &e) || e.Field != "Offset" {
			t.Errorf("SearchMembers(Offset -1) = %v, want an invalid argument on Offset", err)
		}
		_, _, err = c.SearchGroups(ctx, tn.ID, sdk.GroupSearch{Offset: -1})
		if !errors.Is(err, sdk.ErrInvalidArgument) || !errors.As(err, &e) || e.Field != "Offset" {
			t.Errorf("SearchGroups(Offset -1) = %v, want an invalid argument on Offset", err)
		}
	})
}

// checkOffsets checks a list by position, page(after, offset, limit),
// against want, the ids the list holds in order (at least 5).
func checkOffsets(t *testing.T, want []string, page func(after string, offset, limit int) []string) {
	t.Helper()
	n := len(want)
	window := func(from, size int) []string {
		from = min(from, n)
		if size <= 0 {
			return want[from:]
		}
		return want[from:min(from+size, n)]
	}
	for _, off := range []int{0, 1, 2, n / 2, n - 1, n, n + 1, n + 1000} {
		for _, limit := range []int{1, 3, 0} {
			got := page("", off, limit)
			if got == nil || !slices.Equal(got, window(off, limit)) {
				t.Errorf("Offset %d, Limit %d = %v, want %v (non-nil)", off, limit, got, window(off, limit))
			}
		}
	}
	// Counted from After: the positions after want[2].
	for _, off := range []int{0, 1, n - 4, n - 3, n} {
		if got, w := page(want[2], off, 2), window(3+off, 2); !slices.Equal(got, w) {
			t.Errorf("After %s, Offset %d = %v, want %v", want[2], off, got, w)
		}
	}
	// A bound that is not an id counts from the next id.
	if got, w := page(want[2]+"\x00", 1, 2), window(4, 2); !slices.Equal(got, w) {
		t.Errorf("After %q, Offset 1 = %v, want %v", want[2]+"\x00", got, w)
	}
	// A walk by position equals a walk by cursor equals the list.
	for _, size := range []int{1, 4, n - 1, n} {
		var byOffset, byCursor []string
		for off := 0; ; off += size {
			p := page("", off, size)
			byOffset = append(byOffset, p...)
			if len(p) < size {
				break
			}
		}
		for after := ""; ; {
			p := page(after, 0, size)
			byCursor = append(byCursor, p...)
			if len(p) < size {
				break
			}
			after = p[len(p)-1]
		}
		if !slices.Equal(byOffset, want) || !slices.Equal(byCursor, want) {
			t.Errorf("pages of %d: by offset %d ids, by cursor %d ids, want %d in id order", size, len(byOffset), len(byCursor), n)
		}
	}
}
