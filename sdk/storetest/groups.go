package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// groupStore returns the group half of s.
func groupStore(t *testing.T, s sdk.Store) sdk.GroupStore {
	t.Helper()
	return s
}

func newGroup(tenantID, name string) *sdk.Group {
	return &sdk.Group{
		ID: sdk.NewID(), TenantID: tenantID, DisplayName: name, NameKey: sdk.NormalizeGroupName(name),
		Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
	}
}

func testGroups(t *testing.T, s sdk.Store) {
	gs := groupStore(t, s)
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 100)
	other, _ := fixture(t, s, "other", 100)

	g := newGroup(tn.ID, "Engineering")
	g.ExternalID = "ext-1"
	if err := gs.CreateGroup(ctx, g); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	got, err := gs.GetGroup(ctx, tn.ID, g.ID)
	if err != nil || got.DisplayName != "Engineering" || got.NameKey != "engineering" || got.ExternalID != "ext-1" ||
		got.Version != 1 || !got.CreatedAt.Equal(epoch) {
		t.Fatalf("GetGroup = %+v, %v", got, err)
	}
	_, err = gs.GetGroup(ctx, other.ID, g.ID)
	wantErr(t, "GetGroup(other tenant)", err, sdk.ErrNotFound, "")
	_, err = gs.GetGroup(ctx, tn.ID, "nope")
	wantErr(t, "GetGroup(unknown)", err, sdk.ErrNotFound, "")

	dupName := newGroup(tn.ID, "ENGINEERING")
	wantErr(t, "CreateGroup(same name, other case)", gs.CreateGroup(ctx, dupName), sdk.ErrAlreadyExists, sdk.ReasonGroupNameTaken)
	dupExt := newGroup(tn.ID, "Sales")
	dupExt.ExternalID = "ext-1"
	wantErr(t, "CreateGroup(same external id)", gs.CreateGroup(ctx, dupExt), sdk.ErrAlreadyExists, sdk.ReasonExternalIDTaken)
	if err := gs.CreateGroup(ctx, newGroup(other.ID, "Engineering")); err != nil {
		t.Fatalf("same name in another tenant: %v", err)
	}

	// Update: fields, version, uniqueness, staleness.
	up := got.Clone()
	up.DisplayName, up.NameKey, up.Role, up.UpdatedAt = "Eng", "eng", "admin", epoch.Add(time.Hour)
	if err := gs.UpdateGroup(ctx, up, 1); err != nil || up.Version != 2 {
		t.Fatalf("UpdateGroup = %v, version %d", err, up.Version)
	}
	wantErr(t, "UpdateGroup(stale)", gs.UpdateGroup(ctx, up, 1), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	sales := newGroup(tn.ID, "Sales")
	if err := gs.CreateGroup(ctx, sales); err != nil {
		t.Fatal(err)
	}
	clash := sales.Clone()
	clash.DisplayName, clash.NameKey = "ENG", "eng"
	wantErr(t, "UpdateGroup(into taken name)", gs.UpdateGroup(ctx, clash, 1), sdk.ErrAlreadyExists, sdk.ReasonGroupNameTaken)
	if got, _ := gs.GetGroup(ctx, tn.ID, sales.ID); got.NameKey != "sales" || got.Version != 1 {
		t.Fatalf("refused update was written: %+v", got)
	}
	got, _ = gs.GetGroup(ctx, tn.ID, g.ID)
	if got.NameKey != "eng" || got.Role != "admin" || !got.UpdatedAt.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("after UpdateGroup: %+v", got)
	}
	// The old name is free again.
	if err := gs.CreateGroup(ctx, newGroup(tn.ID, "engineering")); err != nil {
		t.Fatalf("reusing a freed name: %v", err)
	}

	// Membership edges.
	var ms []string
	for i := range 5 {
		m := newMember(tn.ID, fmt.Sprintf("m%d@x.test", i))
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m.ID)
	}
	slices.Sort(ms)
	ag, n, err := gs.AddGroupMembers(ctx, tn.ID, g.ID, ms[:3], epoch.Add(2*time.Hour))
	if err != nil || n != 3 || ag.Version != 3 || !ag.UpdatedAt.Equal(epoch.Add(2*time.Hour)) {
		t.Fatalf("AddGroupMembers = %+v, %d, %v", ag, n, err)
	}
	// Idempotent: adding again creates nothing.
	if _, n, err := gs.AddGroupMembers(ctx, tn.ID, g.ID, ms[1:4], epoch); err != nil || n != 1 {
		t.Fatalf("AddGroupMembers(overlap) = %d, %v; want 1 new edge", n, err)
	}
	_, _, err = gs.AddGroupMembers(ctx, tn.ID, "nope", ms[:1], epoch)
	wantErr(t, "AddGroupMembers(unknown group)", err, sdk.ErrNotFound, "")
	_, _, err = gs.AddGroupMembers(ctx, tn.ID, "nope", ms[3:5], epoch)
	wantErr(t, "AddGroupMembers(unknown group, 2 members)", err, sdk.ErrNotFound, "")
	_, _, err = gs.AddGroupMembers(ctx, other.ID, g.ID, ms[:1], epoch)
	wantErr(t, "AddGroupMembers(other tenant)", err, sdk.ErrNotFound, "")
	if edges, _ := gs.ListMemberGroups(ctx, tn.ID, ms); len(edges) != 4 {
		t.Fatalf("refused adds left edges: %v", edges)
	}
	// Unknown members refuse the call and change nothing, the group's
	// version included: alone, among known ones, or of another tenant.
	otherM := newMember(other.ID, "o@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: otherM, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]string{{"ghost"}, {ms[4], "ghost"}, {otherM.ID}, {ms[4], otherM.ID}} {
		_, _, err = gs.AddGroupMembers(ctx, tn.ID, g.ID, ids, epoch.Add(5*time.Hour))
		wantErr(t, fmt.Sprintf("AddGroupMembers(%v)", ids), err, sdk.ErrInvalidArgument, sdk.ReasonUnknownMember)
		var e *sdk.Error
		if errors.As(err, &e) && e.Field != "Members" {
			t.Errorf("AddGroupMembers(%v): field %q, want Members", ids, e.Field)
		}
	}
	if cur, _ := gs.GetGroup(ctx, tn.ID, g.ID); cur.Version != ag.Version+1 || !cur.UpdatedAt.Equal(epoch) {
		t.Fatalf("refused adds changed the group: %+v", cur)
	}
	if edges, _ := gs.ListMemberGroups(ctx, tn.ID, append([]string{otherM.ID}, ms...)); len(edges) != 4 {
		t.Fatalf("refused adds left edges: %v", edges)
	}
	if edges, _ := gs.ListMemberGroups(ctx, other.ID, []string{otherM.ID}); len(edges) != 0 {
		t.Fatalf("a refused add left an edge on another tenant's member: %v", edges)
	}
	if _, n, err := gs.AddGroupMembers(ctx, tn.ID, sales.ID, ms[2:], epoch); err != nil || n != 3 {
		t.Fatalf("AddGroupMembers(sales) = %d, %v", n, err)
	}

	ids, err := gs.ListGroupMembers(ctx, tn.ID, g.ID, "", 100)
	if err != nil || !slices.Equal(ids, ms[:4]) {
		t.Fatalf("ListGroupMembers = %v, %v; want %v", ids, err, ms[:4])
	}
	ids, err = gs.ListGroupMembers(ctx, tn.ID, g.ID, ms[1], 2)
	if err != nil || !slices.Equal(ids, ms[2:4]) {
		t.Fatalf("ListGroupMembers(after, 2) = %v, %v", ids, err)
	}
	if ids, err := gs.ListGroupMembers(ctx, tn.ID, "nope", "", 10); err != nil || len(ids) != 0 {
		t.Fatalf("ListGroupMembers(unknown group) = %v, %v", ids, err)
	}
	edges, err := gs.ListMemberGroups(ctx, tn.ID, []string{ms[4], ms[2], ms[0]})
	if err != nil {
		t.Fatal(err)
	}
	wantEdges := []sdk.GroupEdge{{GroupID: g.ID, MemberID: ms[0]}, {GroupID: g.ID, MemberID: ms[2]}, {GroupID: sales.ID, MemberID: ms[2]}, {GroupID: sales.ID, MemberID: ms[4]}}
	slices.SortFunc(wantEdges, func(a, b sdk.GroupEdge) int {
		if a.MemberID != b.MemberID {
			return cmpStr(a.MemberID, b.MemberID)
		}
		return cmpStr(a.GroupID, b.GroupID)
	})
	if !slices.Equal(edges, wantEdges) {
		t.Fatalf("ListMemberGroups = %v, want %v", edges, wantEdges)
	}

	// A store that keeps memberships on the member returns them with it,
	// from every read.
	if in, ok := s.(sdk.InlineMemberGroups); ok && in.MemberGroupsInline() {
		want := map[string][]string{}
		for _, e := range edges {
			want[e.MemberID] = append(want[e.MemberID], e.GroupID)
		}
		checked := []string{ms[0], ms[2], ms[4]} // the members edges holds
		for _, id := range checked {
			m, err := s.GetMember(ctx, tn.ID, id)
			if err != nil || !slices.Equal(m.Groups, want[id]) {
				t.Fatalf("GetMember(%s).Groups = %v, %v; want %v", id, m.Groups, err, want[id])
			}
		}
		page, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if slices.Contains(checked, m.ID) && !slices.Equal(m.Groups, want[m.ID]) {
				t.Fatalf("ListMembers: %s has Groups %v, want %v", m.ID, m.Groups, want[m.ID])
			}
		}
	}
	// Writing a member keeps its memberships, with or without a seat
	// change, and Groups on a member written is not stored.
	m2, _ := s.GetMember(ctx, tn.ID, ms[2])
	m2.Title, m2.ExternalID, m2.Status = "Boss", "", sdk.StatusDeactivated
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m2, ExpectedVersion: m2.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatal(err)
	}
	m2.Title, m2.Status = "", sdk.StatusActive
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m2, ExpectedVersion: m2.Version, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetMember(ctx, tn.ID, ms[2]); got.Title != "" || got.Status != sdk.StatusActive {
		t.Fatalf("UpdateMember did not replace the member: %+v", got)
	}
	if edges, _ := gs.ListMemberGroups(ctx, tn.ID, ms[2:3]); len(edges) != 2 {
		t.Fatalf("memberships after UpdateMember = %v, want g and sales", edges)
	}
	stray := newMember(tn.ID, "stray@x.test")
	stray.Groups = []string{g.ID}
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: stray}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetMember(ctx, tn.ID, stray.ID); len(got.Groups) != 0 {
		t.Fatalf("a member created with Groups set reads back with %v", got.Groups)
	}
	if edges, _ := gs.ListMemberGroups(ctx, tn.ID, []string{stray.ID}); len(edges) != 0 {
		t.Fatalf("a member created with Groups set is in %v", edges)
	}
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: stray.ID, ExpectedVersion: stray.Version}); err != nil {
		t.Fatal(err)
	}
	rg, n, err := gs.RemoveGroupMembers(ctx, tn.ID, g.ID, []string{ms[0], "not-a-member"}, epoch)
	if err != nil || n != 1 || rg.Version <= ag.Version {
		t.Fatalf("RemoveGroupMembers = %+v, %d, %v", rg, n, err)
	}
	if n, err := gs.DeleteEdges(ctx, tn.ID, []sdk.GroupEdge{{GroupID: g.ID, MemberID: ms[1]}, {GroupID: g.ID, MemberID: ms[1]}, {GroupID: "nope", MemberID: ms[2]}}); err != nil || n != 1 {
		t.Fatalf("DeleteEdges = %d, %v; want 1", n, err)
	}
	if ids, _ := gs.ListGroupMembers(ctx, tn.ID, g.ID, "", 100); !slices.Equal(ids, ms[2:4]) {
		t.Fatalf("members after removals = %v, want %v", ids, ms[2:4])
	}

	missing, err := gs.MissingMembers(ctx, tn.ID, []string{ms[3], "ghost", ms[0], "ghost2"})
	if err != nil || !slices.Equal(missing, []string{"ghost", "ghost2"}) {
		t.Fatalf("MissingMembers = %v, %v", missing, err)
	}
	if missing, _ := gs.MissingMembers(ctx, other.ID, ms[:1]); len(missing) != 1 {
		t.Fatalf("MissingMembers(other tenant) = %v; want the member reported missing", missing)
	}

	// Listing, counting and filtering groups.
	all, err := gs.ListGroups(ctx, tn.ID, sdk.GroupQuery{Limit: 100})
	if err != nil || len(all) != 3 || !slices.IsSortedFunc(all, func(a, b *sdk.Group) int { return cmpStr(a.ID, b.ID) }) {
		t.Fatalf("ListGroups = %d groups, %v", len(all), err)
	}
	page, _ := gs.ListGroups(ctx, tn.ID, sdk.GroupQuery{After: all[0].ID, Limit: 1})
	if len(page) != 1 || page[0].ID != all[1].ID {
		t.Fatalf("ListGroups(after, 1) = %v", page)
	}
	for _, c := range []struct {
		where *sdk.Cond
		want  int
	}{
		{sdk.Compare(sdk.FieldDisplayName, sdk.OpEq, "SALES"), 1},
		{sdk.Compare(sdk.FieldDisplayName, sdk.OpSw, "eng"), 2},
		{sdk.Present(sdk.FieldRole), 1},
		{sdk.Compare(sdk.FieldExternalID, sdk.OpEq, "ext-1"), 1},
		{sdk.Compare(sdk.FieldExternalID, sdk.OpEq, "EXT-1"), 0},
		{sdk.Not(sdk.Compare(sdk.FieldDisplayName, sdk.OpEq, "sales")), 2},
		{nil, 3},
	} {
		gotList, err := gs.ListGroups(ctx, tn.ID, sdk.GroupQuery{Where: c.where, Limit: 100})
		if err != nil || len(gotList) != c.want {
			t.Errorf("ListGroups(%v) = %d, %v; want %d", c.where, len(gotList), err, c.want)
		}
		for _, x := range gotList {
			if !c.where.MatchGroup(x) {
				t.Errorf("ListGroups(%v) returned %q, which does not match", c.where, x.DisplayName)
			}
		}
		if n, err := gs.CountGroups(ctx, tn.ID, c.where); err != nil || n != c.want {
			t.Errorf("CountGroups(%v) = %d, %v; want %d", c.where, n, err, c.want)
		}
	}
	gg, err := gs.GetGroups(ctx, tn.ID, []string{sales.ID, "nope", g.ID, sales.ID})
	if err != nil || len(gg) != 2 {
		t.Fatalf("GetGroups = %v, %v", gg, err)
	}

	// Delete: version-checked, edges go with the group.
	cur, _ := gs.GetGroup(ctx, tn.ID, g.ID)
	wantErr(t, "DeleteGroup(stale)", gs.DeleteGroup(ctx, tn.ID, g.ID, cur.Version-1), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	if err := gs.DeleteGroup(ctx, tn.ID, g.ID, cur.Version); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	wantErr(t, "DeleteGroup(again)", gs.DeleteGroup(ctx, tn.ID, g.ID, cur.Version), sdk.ErrNotFound, "")
	if ids, _ := gs.ListGroupMembers(ctx, tn.ID, g.ID, "", 100); len(ids) != 0 {
		t.Fatalf("edges survived DeleteGroup: %v", ids)
	}
	if edges, _ := gs.ListMemberGroups(ctx, tn.ID, ms); len(edges) != 3 {
		t.Fatalf("edges of other groups after DeleteGroup = %v, want sales' 3", edges)
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testGroupEdgesAtScale checks that paging a group's membership over
// several pages (100 members added out of order in batches of 40, pages
// of 32) is complete and ordered, and that removing works at any
// position. (It had 400 members, batches of 150 and pages of 128: the
// same pages and batches, and a minute of the mongo package's tests on
// FerretDB under -race.)
func testGroupEdgesAtScale(t *testing.T, s sdk.Store) {
	gs := groupStore(t, s)
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 5000)
	g := newGroup(tn.ID, "All")
	if err := gs.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	const n, batch, pageSize = 100, 40, 32
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("m%05d", (i*7919)%n))
	}
	createMembers(t, s, tn.ID, ids)
	for b := 0; b < len(ids); b += batch {
		if _, _, err := gs.AddGroupMembers(ctx, tn.ID, g.ID, ids[b:min(b+batch, len(ids))], epoch); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(ids)
	var got []string
	after := ""
	for {
		page, err := gs.ListGroupMembers(ctx, tn.ID, g.ID, after, pageSize)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1]
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("paged %d ids (sorted %v), want %d", len(got), slices.IsSorted(got), len(ids))
	}
	rm := []string{ids[0], ids[n/2], ids[n-1]}
	if _, removed, err := gs.RemoveGroupMembers(ctx, tn.ID, g.ID, rm, epoch); err != nil || removed != 3 {
		t.Fatalf("RemoveGroupMembers = %d, %v", removed, err)
	}
	page, _ := gs.ListGroupMembers(ctx, tn.ID, g.ID, ids[n/2-1], 2)
	if !slices.Equal(page, []string{ids[n/2+1], ids[n/2+2]}) {
		t.Fatalf("page across a removed id = %v", page)
	}
}

// createMembers creates members with the given ids, in bulk when the store
// can.
func createMembers(t *testing.T, s sdk.Store, tenantID string, ids []string) {
	t.Helper()
	ws := make([]sdk.MemberWrite, len(ids))
	for i, id := range ids {
		m := newMember(tenantID, id+"@x.test")
		m.ID = id
		ws[i] = sdk.MemberWrite{Member: m}
	}
	writeMembers(t, s, ws)
}

// writeMembers writes a fixture's members in batches of 1,000 when the
// store can write in bulk ([sdk.BulkMemberStore]), one by one otherwise.
// For tests of something else than the writes: single writes cost minutes
// on FerretDB under -race.
func writeMembers(t *testing.T, s sdk.Store, ws []sdk.MemberWrite) {
	t.Helper()
	bulk, ok := s.(sdk.BulkMemberStore)
	for len(ws) > 0 {
		n := min(len(ws), 1000)
		var errs []error
		if ok {
			errs = bulk.CreateMembers(t.Context(), ws[:n])
		} else {
			for _, w := range ws[:n] {
				errs = append(errs, s.CreateMember(t.Context(), w))
			}
		}
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		ws = ws[n:]
	}
}

// testRaceGroupAdds adds 30 members to one group concurrently, one per
// call, through the Client: every one of them must end up in the group.
func testRaceGroupAdds(t *testing.T, s sdk.Store) {
	gs := groupStore(t, s)
	c, tn, owner := client(t, s, 100)
	ctx := t.Context()
	actor := sdk.MemberActor(owner.ID)
	g, err := c.CreateGroup(ctx, actor, sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Race"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 30 {
		m, err := c.AddMember(ctx, actor, sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("r%d@x.test", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if _, err := c.AddGroupMembers(ctx, sdk.TokenActor("tok"), tn.ID, g.ID, []string{id}); err != nil {
				t.Errorf("add %s: %v", id, err)
			}
		})
	}
	wg.Wait()
	got, err := gs.ListGroupMembers(ctx, tn.ID, g.ID, "", 100)
	if err != nil || len(got) != 30 {
		t.Fatalf("%d members after 30 concurrent adds (%v), want 30", len(got), err)
	}
	after, _ := gs.GetGroup(ctx, tn.ID, g.ID)
	if after.Version != g.Version+30 {
		t.Fatalf("version %d after 30 adds from %d; each add must bump it", after.Version, g.Version)
	}
}
