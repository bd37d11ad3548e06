package sdk_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func (w *world) group(t *testing.T, name string, members ...string) *sdk.Group {
	t.Helper()
	g, err := w.c.CreateGroup(t.Context(), w.scimToken, sdk.CreateGroupRequest{TenantID: w.t.ID, DisplayName: name, Members: members})
	if err != nil {
		t.Fatalf("CreateGroup(%s): %v", name, err)
	}
	return g
}

func (w *world) members(t *testing.T, g *sdk.Group) []string {
	t.Helper()
	var out []string
	opts := sdk.ListOptions{PageSize: 1000}
	for {
		p, err := w.c.GroupMembers(t.Context(), w.t.ID, g.ID, opts)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		opts.Cursor = p.NextCursor
	}
}

func TestGroupPolicy(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	req := sdk.CreateGroupRequest{TenantID: w.t.ID, DisplayName: "Eng"}
	_, err := w.c.CreateGroup(ctx, w.stdA, req)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	g, err := w.c.CreateGroup(ctx, w.adminA, req)
	if err != nil {
		t.Fatalf("admin CreateGroup: %v", err)
	}
	_, err = w.c.AddGroupMembers(ctx, w.stdA, w.t.ID, g.ID, []string{w.std.ID})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	for _, a := range []sdk.Actor{w.scimToken, sdk.SyncActor("run1"), w.system, w.ownerA} {
		if _, err := w.c.AddGroupMembers(ctx, a, w.t.ID, g.ID, []string{w.std.ID}); err != nil {
			t.Fatalf("%v AddGroupMembers: %v", a, err)
		}
	}
	err = w.c.DeleteGroup(ctx, w.stdA, w.t.ID, g.ID, 0)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	_, err = w.c.CreateGroup(ctx, w.scimToken, sdk.CreateGroupRequest{TenantID: w.t.ID, DisplayName: " eng "})
	wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonGroupNameTaken)
	_, err = w.c.CreateGroup(ctx, w.scimToken, sdk.CreateGroupRequest{TenantID: w.t.ID, DisplayName: "  "})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	_, err = w.c.CreateGroup(ctx, w.scimToken, sdk.CreateGroupRequest{TenantID: "nope", DisplayName: "x"})
	wantRefused(t, err, sdk.ErrNotFound, "")
}

func TestGroupLifecycleAndAudit(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	g := w.group(t, "Engineering", w.std.ID, w.admin.ID, w.std.ID)
	if got := w.members(t, g); len(got) != 2 {
		t.Fatalf("members = %v, want 2 (duplicates collapse)", got)
	}
	name := "Platform"
	g2, err := w.c.UpdateGroup(ctx, w.scimToken, sdk.UpdateGroupRequest{TenantID: w.t.ID, GroupID: g.ID, DisplayName: &name})
	if err != nil || g2.DisplayName != "Platform" || g2.NameKey != "platform" || g2.Version <= g.Version {
		t.Fatalf("UpdateGroup = %+v, %v", g2, err)
	}
	same, err := w.c.UpdateGroup(ctx, w.scimToken, sdk.UpdateGroupRequest{TenantID: w.t.ID, GroupID: g.ID, DisplayName: &name})
	if err != nil || same.Version != g2.Version {
		t.Fatalf("no-op UpdateGroup wrote: %+v, %v", same, err)
	}
	_, err = w.c.UpdateGroup(ctx, w.scimToken, sdk.UpdateGroupRequest{TenantID: w.t.ID, GroupID: g.ID, DisplayName: &name, ExpectedVersion: g.Version})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	err = w.c.DeleteGroup(ctx, w.scimToken, w.t.ID, g.ID, g.Version)
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	if err := w.c.DeleteGroup(ctx, w.scimToken, w.t.ID, g.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = w.c.Group(ctx, w.t.ID, g.ID)
	wantRefused(t, err, sdk.ErrNotFound, "")

	log, err := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{TargetID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log.Items {
		actions = append(actions, e.Action)
		if e.Channel != "scim" || e.ActorID != "tok1" {
			t.Fatalf("event %+v not attributed to the SCIM token", e)
		}
	}
	want := []string{"group.deleted", "group.updated", "group.members_added", "group.created"}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit = %v, want %v", actions, want)
	}
	if added := log.Items[2].After; added["count"] != "2" || !strings.Contains(added["members"], w.std.ID) {
		t.Fatalf("members_added event = %v", added)
	}
}

func TestGroupUnknownMemberWritesNothing(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	_, err := w.c.CreateGroup(ctx, w.scimToken, sdk.CreateGroupRequest{TenantID: w.t.ID, DisplayName: "X", Members: []string{w.std.ID, "ghost"}})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonUnknownMember)
	if !strings.Contains(err.Error(), `"ghost"`) {
		t.Fatalf("error does not name the unknown member: %v", err)
	}
	if p, _ := w.c.ListGroups(ctx, w.t.ID, sdk.ListOptions{}); len(p.Items) != 0 {
		t.Fatalf("a group was created: %v", p.Items)
	}
	g := w.group(t, "Y", w.std.ID)
	other := newWorld(t, sdk.CreateTenantRequest{Slug: "other"})
	for _, ids := range [][]string{{w.admin.ID, "ghost"}, {other.std.ID}, {""}, {strings.Repeat("x", 200)}} {
		_, err = w.c.AddGroupMembers(ctx, w.scimToken, w.t.ID, g.ID, ids)
		wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonUnknownMember)
		_, err = w.c.ReplaceGroupMembers(ctx, w.scimToken, w.t.ID, g.ID, ids)
		wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonUnknownMember)
	}
	if got := w.members(t, g); !slices.Equal(got, []string{w.std.ID}) {
		t.Fatalf("members after refused changes = %v", got)
	}
	if cur, _ := w.c.Group(ctx, w.t.ID, g.ID); cur.Version != g.Version {
		t.Fatalf("refused changes bumped the version %d → %d", g.Version, cur.Version)
	}
	_, err = w.c.AddGroupMembers(ctx, w.scimToken, w.t.ID, "nope", []string{w.std.ID})
	wantRefused(t, err, sdk.ErrNotFound, "")
}

func TestReplaceGroupMembersInBatches(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 3000})
	ctx := t.Context()
	var ids []string
	for i := range 2600 {
		m, err := w.c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: fmt.Sprintf("u%04d@acme.test", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	g := w.group(t, "Big", ids[:2100]...)
	want := append(slices.Clone(ids[1000:1500]), ids[2100:]...) // keep 500, drop 1600, add 500
	want = append(want, w.owner.ID)
	g2, err := w.c.ReplaceGroupMembers(ctx, w.scimToken, w.t.ID, g.ID, want)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if got := w.members(t, g); !slices.Equal(got, want) {
		t.Fatalf("after replace: %d members, want %d", len(got), len(want))
	}
	// Adds and removes each went in batches of at most 1000: 3 create batches, then
	// removes (2) and adds (1).
	if g2.Version != g.Version+3 {
		t.Fatalf("version %d → %d; want three batched writes", g.Version, g2.Version)
	}
	g3, err := w.c.ReplaceGroupMembers(ctx, w.scimToken, w.t.ID, g.ID, want)
	if err != nil || g3.Version != g2.Version {
		t.Fatalf("replacing with the same list wrote: %v, version %d → %d", err, g2.Version, g3.Version)
	}
	if _, err := w.c.ReplaceGroupMembers(ctx, w.scimToken, w.t.ID, g.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := w.members(t, g); len(got) != 0 {
		t.Fatalf("replace with nothing left %d members", len(got))
	}
}

func TestGroupRoleMapping(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	admins := w.group(t, "Admins")
	staff := w.group(t, "Staff")
	// Only the owner (or the system) maps groups to roles.
	_, err := w.c.SetGroupRole(ctx, w.adminA, w.t.ID, admins.ID, "admin")
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	_, err = w.c.SetGroupRole(ctx, w.scimToken, w.t.ID, admins.ID, "admin")
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	_, err = w.c.SetGroupRole(ctx, w.ownerA, w.t.ID, admins.ID, "owner")
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonOwnerRole)
	_, err = w.c.SetGroupRole(ctx, w.ownerA, w.t.ID, admins.ID, "nope")
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonUnknownRole)

	// std is in Staff; mapping Admins changes nothing for them.
	if _, err := w.c.AddGroupMembers(ctx, w.scimToken, w.t.ID, staff.ID, []string{w.std.ID, w.std2.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.SetGroupRole(ctx, w.ownerA, w.t.ID, admins.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if r := w.member(t, w.std.ID).Role; r != "standard" {
		t.Fatalf("std role %q after mapping a group they are not in", r)
	}
	// Joining a mapped group grants its role; the owner is never changed.
	if _, err := w.c.AddGroupMembers(ctx, w.scimToken, w.t.ID, admins.ID, []string{w.std.ID, w.owner.ID}); err != nil {
		t.Fatal(err)
	}
	if r := w.member(t, w.std.ID).Role; r != "admin" {
		t.Fatalf("std role %q after joining Admins, want admin", r)
	}
	if r := w.member(t, w.owner.ID).Role; r != "owner" {
		t.Fatalf("owner role %q, want owner", r)
	}
	// Highest rank wins among several mapped groups.
	if _, err := w.c.SetGroupRole(ctx, w.system, w.t.ID, staff.ID, "standard"); err != nil {
		t.Fatal(err)
	}
	if r := w.member(t, w.std.ID).Role; r != "admin" {
		t.Fatalf("std role %q in Admins and Staff, want admin", r)
	}
	// Leaving the higher group falls back to the next mapped role, then the default.
	if _, err := w.c.RemoveGroupMembers(ctx, w.scimToken, w.t.ID, admins.ID, []string{w.std.ID}); err != nil {
		t.Fatal(err)
	}
	if r := w.member(t, w.std.ID).Role; r != "standard" {
		t.Fatalf("std role %q after leaving Admins", r)
	}
	if _, err := w.c.ReplaceGroupMembers(ctx, w.scimToken, w.t.ID, admins.ID, []string{w.std2.ID}); err != nil {
		t.Fatal(err)
	}
	if r := w.member(t, w.std2.ID).Role; r != "admin" {
		t.Fatalf("std2 role %q after replace into Admins", r)
	}
	// Deleting a mapped group recomputes its former members.
	if err := w.c.DeleteGroup(ctx, w.scimToken, w.t.ID, admins.ID, 0); err != nil {
		t.Fatal(err)
	}
	if r := w.member(t, w.std2.ID).Role; r != "standard" {
		t.Fatalf("std2 role %q after Admins was deleted", r)
	}
	// Unmapping recomputes too.
	if _, err := w.c.SetGroupRole(ctx, w.system, w.t.ID, staff.ID, ""); err != nil {
		t.Fatal(err)
	}
	if r := w.member(t, w.std2.ID).Role; r != "standard" {
		t.Fatalf("std2 role %q after unmapping", r)
	}
	// RoleFromGroups ignores roles the tenant does not have.
	if got := sdk.RoleFromGroups(w.tenant(t), []*sdk.Group{{Role: "gone"}}); got != "standard" {
		t.Fatalf("RoleFromGroups(unknown role) = %q", got)
	}
}

func TestGroupEdgesOfRemovedMembers(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	g := w.group(t, "G", w.std.ID, w.std2.ID, w.admin.ID)
	h := w.group(t, "H", w.std.ID)
	// RemoveMember drops the removed member's memberships.
	if err := w.c.RemoveMember(ctx, w.ownerA, w.t.ID, w.std2.ID); err != nil {
		t.Fatal(err)
	}
	if got := w.members(t, g); len(got) != 2 || slices.Contains(got, w.std2.ID) {
		t.Fatalf("members after RemoveMember = %v", got)
	}
	// RemoveFromAllGroups takes a member out everywhere.
	if err := w.c.RemoveFromAllGroups(ctx, w.scimToken, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	if of, _ := w.c.GroupsOf(ctx, w.t.ID, w.std.ID); len(of) != 0 {
		t.Fatalf("GroupsOf after RemoveFromAllGroups = %v", of)
	}
	if got := w.members(t, h); len(got) != 0 {
		t.Fatalf("H still has %v", got)
	}
	ids, err := w.c.GroupIDsOf(ctx, w.t.ID, []string{w.admin.ID, w.std.ID})
	if err != nil || !slices.Equal(ids[w.admin.ID], []string{g.ID}) || len(ids[w.std.ID]) != 0 {
		t.Fatalf("GroupIDsOf = %v, %v", ids, err)
	}
	// ReconcileGroups removes edges a crash left behind: a member deleted
	// from the store before the SDK dropped their memberships.
	gone := w.add(t, "gone@acme.test", "")
	if _, err := w.c.AddGroupMembers(ctx, w.system, w.t.ID, g.ID, []string{gone.ID}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.DeleteMember(ctx, sdk.MemberDelete{TenantID: w.t.ID, ID: gone.ID, ExpectedVersion: gone.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatal(err)
	}
	rep, err := w.c.ReconcileGroups(ctx, w.t.ID)
	if err != nil || rep.EdgesRemoved != 1 {
		t.Fatalf("ReconcileGroups = %+v, %v", rep, err)
	}
}

func TestRemovingAMemberDropsTheirGroupMemberships(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	g, err := w.c.CreateGroup(ctx, w.system, sdk.CreateGroupRequest{TenantID: w.t.ID, DisplayName: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.AddGroupMembers(ctx, w.system, w.t.ID, g.ID, []string{w.std.ID, w.std2.ID}); err != nil {
		t.Fatal(err)
	}
	if err := w.c.RemoveMember(ctx, w.adminA, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	edges, err := sdk.GroupStore(w.store).ListMemberGroups(ctx, w.t.ID, []string{w.std.ID})
	if err != nil || len(edges) != 0 {
		t.Fatalf("edges of a removed member: %v, %v", edges, err)
	}
	page, err := w.c.GroupMembers(ctx, w.t.ID, g.ID, sdk.ListOptions{})
	if err != nil || len(page.Items) != 1 || page.Items[0] != w.std2.ID {
		t.Fatalf("group members after removal: %+v, %v", page, err)
	}
}
