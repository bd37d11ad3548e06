package sdk_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// Seats — DESIGN.md "Seats".

func TestSeatLimitIsIncludedPlusExtra(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 5, ExtraSeats: 2})
	tn := w.tenant(t)
	if tn.SeatLimit() != 7 || tn.SeatsUsed != 5 {
		t.Fatalf("limit %d used %d, want 7 and 5", tn.SeatLimit(), tn.SeatsUsed)
	}
	w.add(t, "six@acme.test", "standard")
	w.add(t, "seven@acme.test", "standard")
	_, err := w.c.AddMember(t.Context(), w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "eight@acme.test"})
	wantRefused(t, err, sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	if n := w.count(t); n != 7 {
		t.Fatalf("%d members after a refused add, want 7", n)
	}
}

func TestSeatsCanBeBoughtAndRemovedButNotBelowUsage(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 5})
	ctx := t.Context()
	tn, err := w.c.AddSeats(ctx, w.ownerA, w.t.ID, 3)
	if err != nil || tn.ExtraSeats != 3 || tn.SeatLimit() != 8 {
		t.Fatalf("AddSeats = %+v, %v", tn, err)
	}
	w.add(t, "six@acme.test", "standard")
	w.add(t, "seven@acme.test", "standard") // 7 in use of 8
	_, err = w.c.RemoveSeats(ctx, w.ownerA, w.t.ID, 2)
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonSeatsInUse)
	if tn, err = w.c.RemoveSeats(ctx, w.ownerA, w.t.ID, 1); err != nil || tn.SeatLimit() != 7 {
		t.Fatalf("RemoveSeats(1) = %+v, %v", tn, err)
	}
	// Billing needs billing:manage: admins have it, standard members not.
	if _, err := w.c.AddSeats(ctx, w.adminA, w.t.ID, 1); err != nil {
		t.Fatalf("admin AddSeats: %v", err)
	}
	_, err = w.c.AddSeats(ctx, w.stdA, w.t.ID, 1)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	for _, n := range []int{0, -1} {
		_, err = w.c.AddSeats(ctx, w.ownerA, w.t.ID, n)
		wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	}
	if got := w.tenant(t).SeatLimit(); got != 8 {
		t.Fatalf("limit %d after refused changes, want 8", got)
	}
}

func TestDefaultSeatStatesAndDeletionFreesSeat(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 5}) // full: 5 members
	ctx := t.Context()
	// Deactivated members keep their seat by default.
	if _, err := w.c.Deactivate(ctx, w.ownerA, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	if used := w.tenant(t).SeatsUsed; used != 5 {
		t.Fatalf("seats used after deactivation %d, want 5", used)
	}
	_, err := w.c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "new@acme.test"})
	wantRefused(t, err, sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	// Deleting frees the seat; the paid seat count does not change.
	if err := w.c.RemoveMember(ctx, w.ownerA, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	tn := w.tenant(t)
	if tn.SeatsUsed != 4 || tn.SeatLimit() != 5 {
		t.Fatalf("after delete: used %d limit %d, want 4 and 5", tn.SeatsUsed, tn.SeatLimit())
	}
	if _, err := w.c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "new@acme.test"}); err != nil {
		t.Fatalf("add after a freed seat: %v", err)
	}
}

func TestSeatStatesSetting(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 5, Settings: sdk.Settings{SeatStates: []sdk.Status{sdk.StatusActive, sdk.StatusInvited}}})
	ctx := t.Context()
	if _, err := w.c.Deactivate(ctx, w.ownerA, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	if used := w.tenant(t).SeatsUsed; used != 4 {
		t.Fatalf("deactivated members hold no seat under this setting: used %d, want 4", used)
	}
	w.add(t, "five@acme.test", "standard")
	// Reactivation needs a seat again.
	_, err := w.c.Reactivate(ctx, w.ownerA, w.t.ID, w.std.ID)
	wantRefused(t, err, sdk.ErrResourceExhausted, sdk.ReasonSeatLimit)
	if got := w.member(t, w.std.ID); got.Status != sdk.StatusDeactivated {
		t.Fatalf("refused reactivation changed status to %s", got.Status)
	}
	// A deactivated member can still be added without a seat.
	if _, err := w.c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "sus@acme.test", Status: sdk.StatusDeactivated}); err != nil {
		t.Fatalf("adding a deactivated member when full: %v", err)
	}
	// Changing the setting recounts the seats.
	tn, err := w.c.UpdateTenant(ctx, w.ownerA, sdk.UpdateTenantRequest{TenantID: w.t.ID, Settings: &sdk.Settings{}})
	if err != nil {
		t.Fatal(err)
	}
	if tn.SeatsUsed != 7 {
		t.Fatalf("after switching to the default seat states: used %d, want 7", tn.SeatsUsed)
	}
}

// Owner and roles — DESIGN.md "Owner and roles".

func TestOwnerIsProtectedFromEveryoneElse(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	id := w.owner.ID
	newName := "Mallory"
	actors := map[string]sdk.Actor{"admin": w.adminA, "scim token": w.scimToken, "hr sync": sdk.SyncActor("run1")}
	ops := map[string]func(a sdk.Actor) error{
		"remove":     func(a sdk.Actor) error { return w.c.RemoveMember(ctx, a, w.t.ID, id) },
		"deactivate": func(a sdk.Actor) error { _, err := w.c.Deactivate(ctx, a, w.t.ID, id); return err },
		"demote":     func(a sdk.Actor) error { _, err := w.c.ChangeRole(ctx, a, w.t.ID, id, "standard"); return err },
		"edit": func(a sdk.Actor) error {
			_, err := w.c.UpdateProfile(ctx, a, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: id, GivenName: &newName})
			return err
		},
		"force logout": func(a sdk.Actor) error { _, err := w.c.ForceLogout(ctx, a, w.t.ID, id); return err },
	}
	for an, a := range actors {
		for on, op := range ops {
			t.Run(an+"/"+on, func(t *testing.T) {
				wantRefused(t, op(a), sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
			})
		}
	}
	// Not even the host system can leave a tenant without its owner.
	for _, on := range []string{"remove", "deactivate", "demote"} {
		wantRefused(t, ops[on](w.system), sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
	}
	got := w.member(t, id)
	if got.Status != sdk.StatusActive || got.Role != "owner" || got.GivenName != "" || got.SessionEpoch != 0 || got.Version != 1 {
		t.Fatalf("owner changed: %+v", got)
	}
	// The owner may edit their own profile.
	if _, err := w.c.UpdateProfile(ctx, w.ownerA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: id, GivenName: &newName}); err != nil {
		t.Fatalf("owner editing themself: %v", err)
	}
}

func TestSelfActionsAreRefused(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	for name, op := range map[string]func() error{
		"remove":       func() error { return w.c.RemoveMember(ctx, w.adminA, w.t.ID, w.admin.ID) },
		"deactivate":   func() error { _, err := w.c.Deactivate(ctx, w.adminA, w.t.ID, w.admin.ID); return err },
		"demote":       func() error { _, err := w.c.ChangeRole(ctx, w.adminA, w.t.ID, w.admin.ID, "standard"); return err },
		"owner leaves": func() error { return w.c.RemoveMember(ctx, w.ownerA, w.t.ID, w.owner.ID) },
	} {
		t.Run(name, func(t *testing.T) {
			err := op()
			reason := sdk.ReasonSelfAction
			if name == "owner leaves" {
				reason = sdk.ReasonSelfAction
			}
			wantRefused(t, err, sdk.ErrPermissionDenied, reason)
		})
	}
	if got := w.member(t, w.admin.ID); got.Status != sdk.StatusActive || got.Role != "admin" || got.SessionEpoch != 0 {
		t.Fatalf("self action changed the member: %+v", got)
	}
}

func TestRankGuard(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	// Equal rank.
	err := w.c.RemoveMember(ctx, w.adminA, w.t.ID, w.admin2.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonRankTooLow)
	_, err = w.c.Deactivate(ctx, w.adminA, w.t.ID, w.admin2.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonRankTooLow)
	// Lower rank works.
	if _, err := w.c.ChangeRole(ctx, w.adminA, w.t.ID, w.std.ID, "admin"); err != nil {
		t.Fatalf("admin promoting standard to admin: %v", err)
	}
	// Standard members hold no team:manage.
	_, err = w.c.Deactivate(ctx, sdk.MemberActor(w.std2.ID), w.t.ID, w.add(t, "std3@acme.test", "standard").ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	// Nobody grants the owner role; it moves by transfer.
	_, err = w.c.ChangeRole(ctx, w.ownerA, w.t.ID, w.admin.ID, "owner")
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonOwnerRole)
	_, err = w.c.ChangeRole(ctx, w.ownerA, w.t.ID, w.admin.ID, "nope")
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonUnknownRole)
}

func TestCannotGrantRoleAboveOwn(t *testing.T) {
	roles := []sdk.Role{
		{Name: "owner", Rank: 400, Permissions: []sdk.Permission{sdk.PermTeamManage}},
		{Name: "superadmin", Rank: 300, Permissions: []sdk.Permission{sdk.PermTeamManage}},
		{Name: "admin", Rank: 200, Permissions: []sdk.Permission{sdk.PermTeamManage}},
		{Name: "member", Rank: 100},
	}
	w := newWorld(t, sdk.CreateTenantRequest{Roles: roles})
	ctx := t.Context()
	// w.admin holds "superadmin" (the second role); make a plain admin.
	plain := w.add(t, "plain@acme.test", "admin")
	_, err := w.c.ChangeRole(ctx, sdk.MemberActor(plain.ID), w.t.ID, w.std.ID, "superadmin")
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonRoleAboveActor)
	_, err = w.c.AddMember(ctx, sdk.MemberActor(plain.ID), sdk.AddMemberRequest{TenantID: w.t.ID, Email: "x@acme.test", Role: "superadmin"})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonRoleAboveActor)
	// Granting one's own rank is allowed.
	if _, err := w.c.ChangeRole(ctx, sdk.MemberActor(plain.ID), w.t.ID, w.std.ID, "admin"); err != nil {
		t.Fatalf("granting own role: %v", err)
	}
	if got := w.member(t, w.std.ID).Role; got != "admin" {
		t.Fatalf("role %q, want admin", got)
	}
}

func TestOwnershipTransfer(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	_, err := w.c.TransferOwnership(ctx, w.adminA, w.t.ID, w.admin2.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	_, err = w.c.TransferOwnership(ctx, w.scimToken, w.t.ID, w.admin2.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	if _, err := w.c.Deactivate(ctx, w.ownerA, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	_, err = w.c.TransferOwnership(ctx, w.ownerA, w.t.ID, w.std.ID)
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonTargetNotActive)

	tn, err := w.c.TransferOwnership(ctx, w.ownerA, w.t.ID, w.std2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tn.OwnerID != w.std2.ID {
		t.Fatalf("owner %s, want %s", tn.OwnerID, w.std2.ID)
	}
	if got := w.member(t, w.owner.ID).Role; got != "admin" {
		t.Fatalf("old owner's role %q, want admin", got)
	}
	if got := w.member(t, w.std2.ID).Role; got != "owner" {
		t.Fatalf("new owner's role %q, want owner", got)
	}
	// The old owner is now an ordinary admin: the new owner is protected
	// from them.
	err = w.c.RemoveMember(ctx, w.ownerA, w.t.ID, w.std2.ID)
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
	owners, err := w.c.CountMembers(ctx, w.t.ID, sdk.ListMembersOptions{Role: "owner"})
	if err != nil || owners != 1 {
		t.Fatalf("%d members hold the owner role, want 1", owners)
	}
}

func TestOwnershipTransferUsesConfiguredSuccessorRole(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{Settings: sdk.Settings{SuccessorRole: "standard"}})
	if _, err := w.c.TransferOwnership(t.Context(), w.ownerA, w.t.ID, w.admin.ID); err != nil {
		t.Fatal(err)
	}
	if got := w.member(t, w.owner.ID).Role; got != "standard" {
		t.Fatalf("old owner's role %q, want the configured successor standard", got)
	}
}

func TestRolePresets(t *testing.T) {
	for _, tc := range []struct {
		preset sdk.RolePreset
		names  []string
	}{
		{sdk.PresetStandard, []string{"owner", "admin", "standard"}},
		{sdk.PresetCampaigns, []string{"owner", "account_manager", "campaign_creator"}},
		{sdk.PresetPrimaryAdmin, []string{"primary_admin", "admin"}},
	} {
		t.Run(string(tc.preset), func(t *testing.T) {
			w := newWorld(t, sdk.CreateTenantRequest{RolePreset: tc.preset})
			var names []string
			for i, r := range w.t.Roles {
				names = append(names, r.Name)
				if i > 0 && r.Rank >= w.t.Roles[i-1].Rank {
					t.Fatalf("roles not ranked: %+v", w.t.Roles)
				}
			}
			if strings.Join(names, ">") != strings.Join(tc.names, ">") {
				t.Fatalf("roles %v, want %v", names, tc.names)
			}
			if w.owner.Role != tc.names[0] {
				t.Fatalf("owner role %q, want %q", w.owner.Role, tc.names[0])
			}
		})
	}
	_, _, err := sdk.New(nil).CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "x", OwnerEmail: "a@b.test", IncludedSeats: 1, RolePreset: "nope"})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
}

func TestDefaultPermissionTable(t *testing.T) {
	roles, _ := sdk.PresetRoles(sdk.PresetStandard)
	want := map[sdk.Permission][3]bool{ // owner, admin, standard
		sdk.PermDataSourcesManage: {true, true, true},
		sdk.PermChannelsManage:    {true, true, true},
		sdk.PermSegmentsManage:    {true, true, true},
		sdk.PermCampaignsCreate:   {true, true, true},
		sdk.PermCampaignsSend:     {true, true, true},
		sdk.PermTemplatesManage:   {true, true, true},
		sdk.PermTeamManage:        {true, true, false},
		sdk.PermBillingManage:     {true, true, false},
		sdk.PermBillingReminders:  {true, false, false},
		sdk.PermTenantDelete:      {true, false, false},
	}
	for p, has := range want {
		for i := range 3 {
			if roles[i].Has(p) != has[i] {
				t.Errorf("%s has %s = %v, want %v", roles[i].Name, p, roles[i].Has(p), has[i])
			}
		}
	}
	camp, _ := sdk.PresetRoles(sdk.PresetCampaigns)
	if !camp[2].Has(sdk.PermCampaignsCreate) || camp[2].Has(sdk.PermCampaignsSend) {
		t.Errorf("campaign_creator must create but not send: %v", camp[2].Permissions)
	}
	// Only owners delete the tenant.
	w := newWorld(t, sdk.CreateTenantRequest{})
	p, err := w.c.Policy(t.Context(), w.adminA, w.t.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Check(sdk.ActionDeleteTenant, nil); d.Allowed || d.Reason != sdk.ReasonMissingPermission {
		t.Fatalf("admin deleting the tenant: %+v", d)
	}
}

func TestInvitePolicySetting(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t, sdk.CreateTenantRequest{Settings: sdk.Settings{InvitePolicy: sdk.InviteOwnerOnly}})
	_, err := w.c.AddMember(ctx, w.adminA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "x@acme.test"})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	if _, err := w.c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "x@acme.test"}); err != nil {
		t.Fatalf("owner adding under owner_only: %v", err)
	}
	w2 := newWorld(t, sdk.CreateTenantRequest{})
	if _, err := w2.c.AddMember(ctx, w2.adminA, sdk.AddMemberRequest{TenantID: w2.t.ID, Email: "x@acme.test"}); err != nil {
		t.Fatalf("admin adding under team_manage: %v", err)
	}
	_, err = w2.c.AddMember(ctx, w2.stdA, sdk.AddMemberRequest{TenantID: w2.t.ID, Email: "y@acme.test"})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
}

func TestCustomRoles(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	roles := append(w.t.Clone().Roles, sdk.Role{Name: "billing", Rank: 150, Permissions: []sdk.Permission{sdk.PermBillingManage}})
	_, err := w.c.UpdateTenant(ctx, w.adminA, sdk.UpdateTenantRequest{TenantID: w.t.ID, Roles: roles})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonOwnerOnly)
	tn, err := w.c.UpdateTenant(ctx, w.ownerA, sdk.UpdateTenantRequest{TenantID: w.t.ID, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	if r := tn.Role("billing"); r == nil || tn.Roles[2].Name != "billing" {
		t.Fatalf("custom role not ranked in: %+v", tn.Roles)
	}
	b := w.add(t, "bill@acme.test", "billing")
	if _, err := w.c.AddSeats(ctx, sdk.MemberActor(b.ID), w.t.ID, 1); err != nil {
		t.Fatalf("billing role buying seats: %v", err)
	}
	// Admin (200) outranks billing (150); billing cannot manage the team.
	if _, err := w.c.Deactivate(ctx, w.adminA, w.t.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	// A role in use cannot be dropped; duplicate ranks and names are refused.
	_, err = w.c.UpdateTenant(ctx, w.ownerA, sdk.UpdateTenantRequest{TenantID: w.t.ID, Roles: w.t.Roles})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonUnknownRole)
	dup := append(w.t.Clone().Roles, sdk.Role{Name: "x", Rank: 200})
	_, err = w.c.UpdateTenant(ctx, w.ownerA, sdk.UpdateTenantRequest{TenantID: w.t.ID, Roles: dup})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	bad := append(w.t.Clone().Roles, sdk.Role{Name: "Bad Name", Rank: 50})
	_, err = w.c.UpdateTenant(ctx, w.ownerA, sdk.UpdateTenantRequest{TenantID: w.t.ID, Roles: bad})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	if sdk.FieldOf(err) != "Roles[3].Name" {
		t.Fatalf("field %q, want Roles[3].Name", sdk.FieldOf(err))
	}
}

// Members — DESIGN.md "Members and invitations" (the parts without invitations).

func TestEmailUniqueCaseInsensitively(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	_, err := w.c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "STD@Acme.Test"})
	wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
	if _, err := w.c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "std+tag@acme.test"}); err != nil {
		t.Fatalf("plus-addressed email is a different address: %v", err)
	}
	m, err := w.c.MemberByEmail(ctx, w.t.ID, "Std@ACME.test")
	if err != nil || m.ID != w.std.ID {
		t.Fatalf("MemberByEmail = %v, %v", m, err)
	}
	// Changing an email into a taken one is refused.
	taken := "Admin@acme.test"
	_, err = w.c.UpdateProfile(ctx, w.ownerA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, Email: &taken})
	wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonEmailTaken)
}

func TestEmailUniqueAcrossTenants(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []sdk.Option
		set  bool
	}{{"tenant setting", nil, true}, {"deployment option", []sdk.Option{sdk.WithGlobalEmailUniqueness()}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, sdk.CreateTenantRequest{Settings: sdk.Settings{UniqueEmailAcrossTenants: tc.set}}, tc.opts...)
			ctx := t.Context()
			other, otherOwner, err := w.c.CreateTenant(ctx, w.system, sdk.CreateTenantRequest{Slug: "globex", OwnerEmail: "boss@globex.test", IncludedSeats: 5})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.c.AddMember(ctx, sdk.MemberActor(otherOwner.ID), sdk.AddMemberRequest{TenantID: other.ID, Email: "pat@partner.test"}); err != nil {
				t.Fatal(err)
			}
			_, err = w.c.AddMember(ctx, w.ownerA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "PAT@partner.test"})
			wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
			if strings.Contains(err.Error(), "globex") || strings.Contains(err.Error(), other.ID) {
				t.Fatalf("error reveals the other account: %v", err)
			}
			pat := "pat@partner.test"
			_, err = w.c.UpdateProfile(ctx, w.ownerA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, Email: &pat})
			wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
		})
	}
	// Without the setting the same address may be in two tenants.
	w := newWorld(t, sdk.CreateTenantRequest{})
	if _, _, err := w.c.CreateTenant(t.Context(), w.system, sdk.CreateTenantRequest{Slug: "globex", OwnerEmail: "std@acme.test", IncludedSeats: 5}); err != nil {
		t.Fatalf("same email in two tenants without the setting: %v", err)
	}
}

func TestUpdateProfile(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	given, family, email := "Sam", "Stone", "Sam.Stone@acme.test"
	m, err := w.c.UpdateProfile(ctx, w.adminA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, GivenName: &given, FamilyName: &family, Email: &email})
	if err != nil {
		t.Fatal(err)
	}
	if m.GivenName != "Sam" || m.FamilyName != "Stone" || m.Email != email || m.EmailKey != "sam.stone@acme.test" || m.Version != 2 {
		t.Fatalf("UpdateProfile = %+v", m)
	}
	// Members edit themselves; not peers or higher ranks.
	if _, err := w.c.UpdateProfile(ctx, w.stdA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, GivenName: &given}); err != nil {
		t.Fatalf("self edit: %v", err)
	}
	_, err = w.c.UpdateProfile(ctx, w.stdA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std2.ID, GivenName: &given})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	_, err = w.c.UpdateProfile(ctx, w.adminA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.admin2.ID, GivenName: &given})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonRankTooLow)
	// A no-op update writes nothing.
	before := w.member(t, w.std.ID)
	if _, err := w.c.UpdateProfile(ctx, w.adminA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, GivenName: &given}); err != nil {
		t.Fatal(err)
	}
	if after := w.member(t, w.std.ID); after.Version != before.Version {
		t.Fatalf("no-op update bumped the version %d → %d", before.Version, after.Version)
	}
}

func TestVersionsRefuseStaleUpdates(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	a, b := "A", "B"
	v := w.member(t, w.std.ID).Version
	if _, err := w.c.UpdateProfile(ctx, w.adminA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, Title: &a, ExpectedVersion: v}); err != nil {
		t.Fatal(err)
	}
	_, err := w.c.UpdateProfile(ctx, w.adminA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, Title: &b, ExpectedVersion: v})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	if got := w.member(t, w.std.ID).Title; got != "A" {
		t.Fatalf("stale update landed: title %q", got)
	}
	name := "New"
	_, err = w.c.UpdateTenant(ctx, w.ownerA, sdk.UpdateTenantRequest{TenantID: w.t.ID, Name: &name, ExpectedVersion: w.t.Version + 7})
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
}

func TestDeactivateReactivateAndSessions(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	epoch := w.member(t, w.std.ID).SessionEpoch
	if ok, err := w.c.SessionValid(ctx, w.t.ID, w.std.ID, epoch); err != nil || !ok {
		t.Fatalf("fresh session invalid: %v %v", ok, err)
	}
	m, err := w.c.ForceLogout(ctx, w.adminA, w.t.ID, w.std.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := w.c.SessionValid(ctx, w.t.ID, w.std.ID, epoch); ok {
		t.Fatal("session still valid after force logout")
	}
	epoch = m.SessionEpoch
	m, err = w.c.Deactivate(ctx, w.adminA, w.t.ID, w.std.ID)
	if err != nil || m.Status != sdk.StatusDeactivated {
		t.Fatalf("Deactivate = %+v, %v", m, err)
	}
	if ok, _ := w.c.SessionValid(ctx, w.t.ID, w.std.ID, epoch); ok {
		t.Fatal("session still valid after deactivation")
	}
	// Deactivating twice changes nothing.
	again, err := w.c.Deactivate(ctx, w.adminA, w.t.ID, w.std.ID)
	if err != nil || again.Version != m.Version {
		t.Fatalf("second Deactivate = %+v, %v", again, err)
	}
	// A deactivated member can act on nobody.
	_, err = w.c.ForceLogout(ctx, sdk.MemberActor(w.std.ID), w.t.ID, w.std2.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonInactive)
	m, err = w.c.Reactivate(ctx, w.adminA, w.t.ID, w.std.ID)
	if err != nil || m.Status != sdk.StatusActive {
		t.Fatalf("Reactivate = %+v, %v", m, err)
	}
	if ok, _ := w.c.SessionValid(ctx, w.t.ID, w.std.ID, m.SessionEpoch); !ok {
		t.Fatal("a new session after reactivation is invalid")
	}
	if err := w.c.RemoveMember(ctx, w.adminA, w.t.ID, w.std.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := w.c.SessionValid(ctx, w.t.ID, w.std.ID, m.SessionEpoch); ok {
		t.Fatal("session of a removed member is valid")
	}
	_, err = w.c.Member(ctx, w.t.ID, w.std.ID)
	wantRefused(t, err, sdk.ErrNotFound, "")
}

func TestActorFromAnotherTenantIsNotMember(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	_, stranger, err := w.c.CreateTenant(ctx, w.system, sdk.CreateTenantRequest{Slug: "globex", OwnerEmail: "boss@globex.test", IncludedSeats: 5})
	if err != nil {
		t.Fatal(err)
	}
	err = w.c.RemoveMember(ctx, sdk.MemberActor(stranger.ID), w.t.ID, w.std.ID)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonNotMember)
	_, err = w.c.AddMember(ctx, sdk.MemberActor(stranger.ID), sdk.AddMemberRequest{TenantID: w.t.ID, Email: "x@acme.test"})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonNotMember)
}

func TestBadInputIsRefusedAndNothingWritten(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	long := strings.Repeat("x", 257)
	cases := []struct {
		name   string
		req    sdk.AddMemberRequest
		code   error
		reason sdk.Reason
		field  string
	}{
		{"no email", sdk.AddMemberRequest{TenantID: w.t.ID}, sdk.ErrInvalidArgument, sdk.ReasonInvalid, "emails"},
		{"malformed email", sdk.AddMemberRequest{TenantID: w.t.ID, Email: "not-an-email"}, sdk.ErrInvalidArgument, sdk.ReasonInvalid, "Email"},
		{"email with spaces", sdk.AddMemberRequest{TenantID: w.t.ID, Email: "a b@c.test"}, sdk.ErrInvalidArgument, sdk.ReasonInvalid, "Email"},
		{"long given name", sdk.AddMemberRequest{TenantID: w.t.ID, Email: "a@acme.test", Profile: sdk.Profile{GivenName: long}}, sdk.ErrInvalidArgument, sdk.ReasonInvalid, "givenName"},
		{"invalid utf-8", sdk.AddMemberRequest{TenantID: w.t.ID, Email: "a@acme.test", Profile: sdk.Profile{FamilyName: "\xff"}}, sdk.ErrInvalidArgument, sdk.ReasonInvalid, "familyName"},
		{"unknown role", sdk.AddMemberRequest{TenantID: w.t.ID, Email: "a@acme.test", Role: "wizard"}, sdk.ErrInvalidArgument, sdk.ReasonUnknownRole, "Role"},
		{"owner role", sdk.AddMemberRequest{TenantID: w.t.ID, Email: "a@acme.test", Role: "owner"}, sdk.ErrFailedPrecondition, sdk.ReasonOwnerRole, ""},
		{"bad status", sdk.AddMemberRequest{TenantID: w.t.ID, Email: "a@acme.test", Status: "zombie"}, sdk.ErrInvalidArgument, sdk.ReasonInvalid, "Status"},
		{"unknown tenant", sdk.AddMemberRequest{TenantID: "nope", Email: "a@acme.test"}, sdk.ErrNotFound, "", ""},
	}
	before := w.count(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.c.AddMember(ctx, w.ownerA, c.req)
			wantRefused(t, err, c.code, c.reason)
			if sdk.FieldOf(err) != c.field {
				t.Fatalf("field %q, want %q", sdk.FieldOf(err), c.field)
			}
		})
	}
	if after := w.count(t); after != before {
		t.Fatalf("bad input wrote members: %d → %d", before, after)
	}
	// Tenants.
	for _, c := range []struct {
		name  string
		req   sdk.CreateTenantRequest
		field string
	}{
		{"malformed slug", sdk.CreateTenantRequest{Slug: "Not OK", OwnerEmail: "a@b.test", IncludedSeats: 1}, "Slug"},
		{"negative seats", sdk.CreateTenantRequest{Slug: "ok", OwnerEmail: "a@b.test", IncludedSeats: 1, ExtraSeats: -1}, "ExtraSeats"},
		{"no seats", sdk.CreateTenantRequest{Slug: "ok", OwnerEmail: "a@b.test"}, "IncludedSeats"},
		{"bad owner email", sdk.CreateTenantRequest{Slug: "ok", OwnerEmail: "nope", IncludedSeats: 1}, "OwnerEmail"},
		{"long name", sdk.CreateTenantRequest{Slug: "ok", OwnerEmail: "a@b.test", IncludedSeats: 1, Name: strings.Repeat("n", 201)}, "Name"},
		{"bad invite policy", sdk.CreateTenantRequest{Slug: "ok", OwnerEmail: "a@b.test", IncludedSeats: 1, Settings: sdk.Settings{InvitePolicy: "anyone"}}, "Settings.InvitePolicy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := w.c.CreateTenant(ctx, w.system, c.req)
			wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
			if sdk.FieldOf(err) != c.field {
				t.Fatalf("field %q, want %q", sdk.FieldOf(err), c.field)
			}
		})
	}
	_, _, err := w.c.CreateTenant(ctx, w.system, sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "a@b.test", IncludedSeats: 1})
	wantRefused(t, err, sdk.ErrAlreadyExists, sdk.ReasonSlugTaken)
	_, _, err = w.c.CreateTenant(ctx, w.ownerA, sdk.CreateTenantRequest{Slug: "mine", OwnerEmail: "a@b.test", IncludedSeats: 1})
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	page, err := w.c.ListTenants(ctx, sdk.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("bad tenant input wrote tenants: %d, %v", len(page.Items), err)
	}
	_, err = w.c.ListMembers(ctx, w.t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{Cursor: "!!!"}})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
	_, err = w.c.ListMembers(ctx, w.t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: 5000}})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
}

func TestListMembersPagesInStableOrder(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	ctx := t.Context()
	for i := range 40 {
		w.add(t, fmt.Sprintf("user%02d@acme.test", i), "standard")
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		p, err := w.c.ListMembers(ctx, w.t.ID, sdk.ListMembersOptions{ListOptions: sdk.ListOptions{PageSize: 7, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range p.Items {
			if seen[m.ID] {
				t.Fatalf("member %s listed twice", m.ID)
			}
			seen[m.ID] = true
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(seen) != 45 || pages != 7 {
		t.Fatalf("listed %d members in %d pages, want 45 in 7", len(seen), pages)
	}
	p, err := w.c.ListMembers(ctx, w.t.ID, sdk.ListMembersOptions{Prefix: "USER0", Status: sdk.StatusActive})
	if err != nil || len(p.Items) != 10 {
		t.Fatalf("prefix filter = %d members, %v; want 10", len(p.Items), err)
	}
}

func TestDecisionErrorsCarryReasons(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	err := w.c.RemoveMember(t.Context(), w.adminA, w.t.ID, w.owner.ID)
	var se *sdk.Error
	if !errors.As(err, &se) || se.Reason != sdk.ReasonTargetIsOwner || se.Op != "sdk.RemoveMember" || se.Message == "" {
		t.Fatalf("errors.As = %+v", se)
	}
	if !strings.Contains(err.Error(), "target_is_owner") {
		t.Fatalf("message %q lacks the reason", err)
	}
}
