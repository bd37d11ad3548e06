package sdk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// The seeds' rules, each with its exact reason.

// Partner Portal (preset primary_admin): every admin may add, edit (names,
// email, password), delete and force-logout other admins; only the primary
// admin is protected.
func TestSeedPartnerPortalAdminsManageAdmins(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{RolePreset: sdk.PresetPrimaryAdmin})
	ctx := t.Context()
	if !w.t.Settings.ActOnEqualRank {
		t.Fatal("a primary_admin tenant must act on equal ranks")
	}
	if w.admin.Role != "admin" || w.std.Role != "admin" {
		t.Fatalf("roles %s, %s; want admin", w.admin.Role, w.std.Role)
	}
	// The "add user" modal: first name, last name, email, password.
	added, err := w.c.AddMember(ctx, w.adminA, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "new@acme.test",
		Profile: sdk.Profile{GivenName: "Ada", FamilyName: "Lovelace"}, Password: "a sturdy passphrase"})
	if err != nil {
		t.Fatalf("admin adding a user with a password: %v", err)
	}
	if in, err := w.c.VerifyPassword(ctx, w.t.ID, "new@acme.test", "a sturdy passphrase"); err != nil || in.Member.ID != added.ID {
		t.Fatalf("signing in with the password the admin set: %v", err)
	}
	// Edit another admin: names, email, password.
	name, email := "Grace", "grace@acme.test"
	if _, err := w.c.UpdateProfile(ctx, w.adminA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.admin2.ID, GivenName: &name, Email: &email}); err != nil {
		t.Fatalf("admin editing another admin: %v", err)
	}
	if _, err := w.c.SetPassword(ctx, w.adminA, w.t.ID, w.admin2.ID, "another sturdy one"); err != nil {
		t.Fatalf("admin setting another admin's password: %v", err)
	}
	if _, err := w.c.ForceLogout(ctx, w.adminA, w.t.ID, w.admin2.ID); err != nil {
		t.Fatalf("admin force-logging-out another admin: %v", err)
	}
	if err := w.c.RemoveMember(ctx, w.adminA, w.t.ID, w.admin2.ID); err != nil {
		t.Fatalf("admin deleting another admin: %v", err)
	}
	// The primary admin is protected.
	for name, op := range map[string]func() error{
		"edit": func() error {
			_, err := w.c.UpdateProfile(ctx, w.adminA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.owner.ID, GivenName: &name})
			return err
		},
		"password": func() error {
			_, err := w.c.SetPassword(ctx, w.adminA, w.t.ID, w.owner.ID, "a sturdy passphrase")
			return err
		},
		"force logout": func() error { _, err := w.c.ForceLogout(ctx, w.adminA, w.t.ID, w.owner.ID); return err },
		"deactivate":   func() error { _, err := w.c.Deactivate(ctx, w.adminA, w.t.ID, w.owner.ID); return err },
	} {
		t.Run("primary admin/"+name, func(t *testing.T) {
			wantRefused(t, op(), sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
		})
	}
	wantRefused(t, w.c.RemoveMember(ctx, w.adminA, w.t.ID, w.owner.ID), sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
	// Still no acting on oneself through admin tools.
	wantRefused(t, w.c.RemoveMember(ctx, w.adminA, w.t.ID, w.admin.ID), sdk.ErrPermissionDenied, sdk.ReasonSelfAction)
}

// AmpliPhi (preset standard): acting on an equal rank is forbidden.
func TestSeedAmpliPhiForbidsEqualRank(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	if w.t.Settings.ActOnEqualRank {
		t.Fatal("the standard preset must not act on equal ranks")
	}
	name := "Peer"
	for opName, op := range map[string]func() error{
		"edit": func() error {
			_, err := w.c.UpdateProfile(ctx, w.adminA, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.admin2.ID, GivenName: &name})
			return err
		},
		"password": func() error {
			_, err := w.c.SetPassword(ctx, w.adminA, w.t.ID, w.admin2.ID, "a sturdy passphrase")
			return err
		},
		"force logout": func() error { _, err := w.c.ForceLogout(ctx, w.adminA, w.t.ID, w.admin2.ID); return err },
		"deactivate":   func() error { _, err := w.c.Deactivate(ctx, w.adminA, w.t.ID, w.admin2.ID); return err },
		"remove":       func() error { return w.c.RemoveMember(ctx, w.adminA, w.t.ID, w.admin2.ID) },
	} {
		t.Run(opName, func(t *testing.T) {
			wantRefused(t, op(), sdk.ErrPermissionDenied, sdk.ReasonRankTooLow)
		})
	}
	// The setting is the tenant's: turned on, the same admin may.
	on := w.tenant(t).Settings
	on.ActOnEqualRank = true
	if _, err := w.c.UpdateTenant(ctx, w.system, sdk.UpdateTenantRequest{TenantID: w.t.ID, Settings: &on}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.ForceLogout(ctx, w.adminA, w.t.ID, w.admin2.ID); err != nil {
		t.Fatalf("with ActOnEqualRank on: %v", err)
	}
	// Higher ranks stay out of reach either way.
	wantRefused(t, w.c.RemoveMember(ctx, w.stdA, w.t.ID, w.admin.ID), sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
}

// Constant Contact (preset campaigns): an account manager manages the team
// but has no access to billing.
func TestSeedConstantContactAccountManagerHasNoBilling(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{RolePreset: sdk.PresetCampaigns})
	ctx := t.Context()
	if w.admin.Role != "account_manager" {
		t.Fatalf("role %s", w.admin.Role)
	}
	_, err := w.c.AddSeats(ctx, w.adminA, w.t.ID, 1)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	_, err = w.c.RemoveSeats(ctx, w.adminA, w.t.ID, 1)
	wantRefused(t, err, sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)
	if d := sdk.CheckPermission(w.tenant(t), w.admin, sdk.PermBillingManage); d.Allowed || d.Reason != sdk.ReasonMissingPermission {
		t.Fatalf("account manager billing: %+v", d)
	}
	// The team is theirs to manage.
	if _, err := w.c.Deactivate(ctx, w.adminA, w.t.ID, w.std.ID); err != nil {
		t.Fatalf("account manager deactivating a campaign creator: %v", err)
	}
	// The owner buys seats.
	if _, err := w.c.AddSeats(ctx, w.ownerA, w.t.ID, 1); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPermission(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{RolePreset: sdk.PresetCampaigns})
	ctx := t.Context()
	if _, err := w.c.Deactivate(ctx, w.system, w.t.ID, w.std2.ID); err != nil {
		t.Fatal(err)
	}
	other := newWorld(t, sdk.CreateTenantRequest{Slug: "other"})
	tn := w.tenant(t)
	std2 := w.member(t, w.std2.ID)
	cases := []struct {
		name   string
		m      *sdk.Member
		perm   sdk.Permission
		reason sdk.Reason // "" when allowed
	}{
		{"creator may create", w.std, sdk.PermCampaignsCreate, ""},
		{"creator may not send", w.std, sdk.PermCampaignsSend, sdk.ReasonMissingPermission},
		{"account manager may send", w.admin, sdk.PermCampaignsSend, ""},
		{"owner holds everything", w.owner, sdk.PermTenantDelete, ""},
		{"deactivated member holds nothing", std2, sdk.PermCampaignsCreate, sdk.ReasonInactive},
		{"member of another tenant", other.std, sdk.PermCampaignsCreate, sdk.ReasonNotMember},
		{"no member", nil, sdk.PermCampaignsCreate, sdk.ReasonNotMember},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := sdk.CheckPermission(tn, c.m, c.perm)
			if d.Allowed != (c.reason == "") || d.Reason != c.reason || (!d.Allowed && d.Message == "") {
				t.Fatalf("CheckPermission = %+v; want reason %q", d, c.reason)
			}
		})
	}
	// Batch: one decision per member, in order, without allocating.
	ms := []*sdk.Member{w.std, w.admin, std2, nil}
	dst := make([]sdk.Decision, 0, len(ms))
	dst = sdk.CheckPermissionAll(dst, tn, sdk.PermCampaignsSend, ms)
	want := []sdk.Reason{sdk.ReasonMissingPermission, "", sdk.ReasonInactive, sdk.ReasonNotMember}
	for i, d := range dst {
		if d.Reason != want[i] {
			t.Fatalf("batch[%d] = %+v; want %q", i, d, want[i])
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		dst = sdk.CheckPermissionAll(dst, tn, sdk.PermCampaignsSend, ms)
		_ = sdk.CheckPermission(tn, w.std, sdk.PermCampaignsSend)
	}); n != 0 {
		t.Fatalf("CheckPermission allocates %v times", n)
	}
	// Through the client, and for the policy's own actor.
	d, err := w.c.CheckPermission(ctx, w.t.ID, w.std.ID, sdk.PermCampaignsSend)
	if err != nil || d.Reason != sdk.ReasonMissingPermission {
		t.Fatalf("Client.CheckPermission = %+v, %v", d, err)
	}
	if d, err := w.c.CheckPermission(ctx, w.t.ID, "nobody", sdk.PermCampaignsSend); err != nil || d.Reason != sdk.ReasonNotMember {
		t.Fatalf("Client.CheckPermission(unknown member) = %+v, %v", d, err)
	}
	p, err := w.c.Policy(ctx, sdk.MemberActor(w.std2.ID), w.t.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.CheckPermission(sdk.PermCampaignsCreate); d.Reason != sdk.ReasonInactive {
		t.Fatalf("Policy.CheckPermission(deactivated) = %+v", d)
	}
	p, _ = w.c.Policy(ctx, w.scimToken, w.t.ID)
	if d := p.CheckPermission(sdk.PermCampaignsSend); d.Reason != sdk.ReasonMissingPermission {
		t.Fatalf("a SCIM token sending campaigns: %+v", d)
	}
}

// "Sign out everywhere": a member ends their own sessions, audited.
func TestSignOutEverywhere(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	for _, m := range []*sdk.Member{w.std, w.owner} {
		before := w.member(t, m.ID)
		after, err := w.c.ForceLogout(ctx, sdk.MemberActor(m.ID), w.t.ID, m.ID)
		if err != nil {
			t.Fatalf("%s signing out everywhere: %v", m.Email, err)
		}
		if after.SessionEpoch != before.SessionEpoch+1 {
			t.Fatalf("epoch %d -> %d", before.SessionEpoch, after.SessionEpoch)
		}
		if ok, _ := w.c.SessionValid(ctx, w.t.ID, m.ID, before.SessionEpoch); ok {
			t.Fatal("an old session is still valid")
		}
		page, err := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{ActorID: m.ID, Action: string(sdk.EventMemberLoggedOut)})
		if err != nil || len(page.Items) != 1 || page.Items[0].TargetID != m.ID {
			t.Fatalf("audit of %s's sign-out: %+v, %v", m.Email, page, err)
		}
	}
}

func TestManagerMustBeAMemberOfTheTenant(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	other := newWorld(t, sdk.CreateTenantRequest{Slug: "other"})
	ctx := t.Context()
	n := w.count(t)
	for name, id := range map[string]string{"missing": "01NOSUCHMEMBER", "other tenant": other.admin.ID} {
		t.Run(name, func(t *testing.T) {
			_, err := w.c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "report@acme.test", Profile: sdk.Profile{ManagerID: id}})
			wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonUnknownManager)
			if w.count(t) != n {
				t.Fatal("a member was written")
			}
			_, err = w.c.UpdateProfile(ctx, w.system, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, ManagerID: &id})
			wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonUnknownManager)
			if got := w.member(t, w.std.ID); got.ManagerID != "" || got.Version != w.std.Version {
				t.Fatalf("member changed: %+v", got)
			}
		})
	}
	self := w.std.ID
	_, err := w.c.UpdateProfile(ctx, w.system, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, ManagerID: &self})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonManagerCycle)
	// A member of the tenant is accepted, by both.
	m, err := w.c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "report@acme.test", Profile: sdk.Profile{ManagerID: w.admin.ID}})
	if err != nil || m.ManagerID != w.admin.ID {
		t.Fatalf("AddMember with a manager: %v", err)
	}
	if _, err := w.c.UpdateProfile(ctx, w.system, sdk.UpdateProfileRequest{TenantID: w.t.ID, MemberID: w.std.ID, ManagerID: &w.admin.ID}); err != nil {
		t.Fatal(err)
	}
}

// crashAfterMark stops a transfer after its first write, as a crash
// would: the new owner holds the owner role, the tenant still names the
// old owner, and no later write happens.
type crashAfterMark struct {
	*memstore.Store
	crashed bool
}

func (s *crashAfterMark) SetOwner(context.Context, string, string, string, time.Time) (*sdk.Tenant, error) {
	s.crashed = true
	return nil, errors.New("simulated crash")
}

func (s *crashAfterMark) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	if s.crashed {
		return errors.New("simulated crash")
	}
	return s.Store.UpdateMember(ctx, w)
}

func TestTransferInterruptedBeforeTheSwitch(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	c := sdk.New(&crashAfterMark{Store: w.store}, sdk.WithClock(w.clock.Now))
	if _, err := c.TransferOwnership(ctx, w.ownerA, w.t.ID, w.admin.ID); err == nil {
		t.Fatal("the simulated crash did not interrupt the transfer")
	}
	if tn := w.tenant(t); tn.OwnerID != w.owner.ID {
		t.Fatal("the owner changed")
	}
	if got := w.member(t, w.admin.ID); got.Role != "owner" {
		t.Fatalf("role after the first write: %s", got.Role)
	}
	// Until repaired, the member is protected like the owner: nobody can
	// remove or deactivate the owner-to-be, not even the host system.
	_, err := w.c.Deactivate(ctx, w.system, w.t.ID, w.admin.ID)
	wantRefused(t, err, sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
	wantRefused(t, w.c.RemoveMember(ctx, w.ownerA, w.t.ID, w.admin.ID), sdk.ErrFailedPrecondition, sdk.ReasonTargetIsOwner)
	// ... and holds no more than the successor role's rights.
	if d := sdk.CheckPermission(w.tenant(t), w.member(t, w.admin.ID), sdk.PermTenantDelete); d.Allowed {
		t.Fatal("a half-made owner holds the owner's permissions")
	}
	rep, err := w.c.Reconcile(ctx, w.t.ID)
	if err != nil || rep.RolesRepaired != 1 {
		t.Fatalf("Reconcile = %+v, %v", rep, err)
	}
	if got := w.member(t, w.admin.ID); got.Role != "admin" {
		t.Fatalf("role after reconcile: %s", got.Role)
	}
}

// pauseSetOwner blocks SetOwner until released.
type pauseSetOwner struct {
	*memstore.Store
	reached, release chan struct{}
}

func (s *pauseSetOwner) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	close(s.reached)
	<-s.release
	return s.Store.SetOwner(ctx, tenantID, from, to, now)
}

// Two transfers at once: the one whose switch fails gives its member's
// role back, and the tenant ends with one owner holding the owner role.
func TestTransferLosingTheSwitchGivesTheRoleBack(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	ps := &pauseSetOwner{Store: w.store, reached: make(chan struct{}), release: make(chan struct{})}
	slow := sdk.New(ps, sdk.WithClock(w.clock.Now))
	errc := make(chan error, 1)
	go func() {
		_, err := slow.TransferOwnership(ctx, w.system, w.t.ID, w.admin2.ID)
		errc <- err
	}()
	<-ps.reached
	if _, err := w.c.TransferOwnership(ctx, w.system, w.t.ID, w.admin.ID); err != nil {
		t.Fatalf("the other transfer: %v", err)
	}
	close(ps.release)
	wantRefused(t, <-errc, sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch)
	tn := w.tenant(t)
	if tn.OwnerID != w.admin.ID {
		t.Fatalf("owner %s; want %s", tn.OwnerID, w.admin.ID)
	}
	owners, err := w.c.CountMembers(ctx, w.t.ID, sdk.ListMembersOptions{Role: "owner"})
	if err != nil || owners != 1 {
		t.Fatalf("%d members hold the owner role, %v", owners, err)
	}
	if got := w.member(t, w.admin2.ID); got.Role != "admin" {
		t.Fatalf("the losing transfer's member holds %s", got.Role)
	}
}
