package sdk

import (
	"context"
	"fmt"
	"strings"
)

// AddMemberRequest describes a member added directly, without an
// invitation.
type AddMemberRequest struct {
	TenantID string `validate:"required,max=64"`
	// Email is a shorthand for a profile with one email: when the profile
	// has no emails, it becomes the one (type "work", primary). When the
	// profile has emails, Email must be the member email they give.
	Email string `validate:"omitempty,max=254,email"`
	// Profile is the member's profile. UserName defaults to the member's
	// email; the member's email is derived by [Profile.MemberEmail]. It is
	// checked by [Profile.Validate].
	Profile `validate:"-"`
	// Role defaults to the tenant's default role.
	Role string `validate:"max=64"`
	// Status is StatusActive (the default) or StatusDeactivated (an
	// identity provider may create a suspended user). Invited members come
	// from invitations.
	Status Status `validate:"status"`
	// Password, when not empty, becomes the member's password in the same
	// write as the member. It must pass [CheckPasswordFrom] for the actor.
	Password string `json:"-"`
}

// AddMember adds an active member. It refuses a profile that does not
// validate ([Profile.Validate]) or a password that does not pass
// [CheckPasswordFrom], and refuses when the tenant has no free seat
// (ReasonSeatLimit), the email or userName is taken (ReasonEmailTaken,
// ReasonUserNameTaken, or ReasonEmailTakenElsewhere when addresses are
// unique across tenants), or policy denies the actor. Nothing is written
// when it refuses.
func (c *Client) AddMember(ctx context.Context, actor Actor, req AddMemberRequest) (*Member, error) {
	const op = "sdk.AddMember"
	req.Email = strings.TrimSpace(req.Email)
	if err := check(op, &req); err != nil {
		return nil, err
	}
	switch req.Status {
	case "":
		req.Status = StatusActive
	case StatusInvited:
		return nil, invalid(op, "Status", "members are invited with Invite, not added as invited")
	}
	var hash *string
	if req.Password != "" {
		if err := CheckPasswordFrom(actor, req.Password); err != nil {
			return nil, withField(op, err, "Password")
		}
		h, err := c.hashPassword(req.Password)
		if err != nil {
			return nil, withOp(op, err)
		}
		hash = &h
	}
	if req.Email != "" && len(req.Emails) > 0 && NormalizeEmail(req.MemberEmail()) != NormalizeEmail(req.Email) {
		// Both forms given and they disagree: keeping one would drop the other.
		return nil, invalid(op, "Email", fmt.Sprintf("%q is not the member email of Profile.Emails (%q): give the address in one place", req.Email, req.MemberEmail()))
	}
	prof := withEmail(req.Profile.Clone(), req.Email)
	t, m, a, err := c.admitMember(ctx, op, actor, req.TenantID, req.Status, req.Role, hash, EventMemberAdded, func(t *Tenant, role string) (*Member, error) {
		return c.newMember(op, t, prof, role, req.Status)
	})
	if err != nil {
		return nil, err
	}
	c.recordWritten(ctx, Event{Type: EventMemberAdded, TenantID: t.ID, Actor: actor, MemberID: m.ID, After: m.Clone()}, a)
	return m, nil
}

// withEmail gives a profile without emails the shorthand address email.
func withEmail(p Profile, email string) Profile {
	if len(p.Emails) == 0 && email != "" {
		p.Emails = []Email{{Value: email, Type: "work", Primary: true}}
	}
	return p
}

// newMember builds a member of t from a profile, validated against t, with
// its derived fields set.
func (c *Client) newMember(op string, t *Tenant, p Profile, role string, st Status) (*Member, error) {
	now := c.Now()
	m := &Member{ID: c.newID(), TenantID: t.ID, Profile: p, Role: role, Status: st, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := derive(op, t, m); err != nil {
		return nil, err
	}
	return m, nil
}

// derive validates m's profile against t and sets what the SDK derives
// from it: UserName when empty (the member's email), Email, EmailKey and
// UserNameKey.
func derive(op string, t *Tenant, m *Member) error {
	if err := m.Profile.Validate(op, t); err != nil {
		return err
	}
	m.Email = m.MemberEmail()
	m.EmailKey = NormalizeEmail(m.Email)
	if strings.TrimSpace(m.UserName) == "" {
		m.UserName = m.Email
	}
	m.UserNameKey = NormalizeUserName(m.UserName)
	return nil
}

// createMember enforces cross-tenant email uniqueness and stores m, taking
// a seat when its state holds one, if the tenant is still at t's version.
// a, when not nil, is the write's audit entry ([MemberWrite.Audit]); it
// must be nil in a tenant whose addresses are unique across tenants, where
// a member written may be deleted again ([Client.settleEmailRace]).
func (c *Client) createMember(ctx context.Context, op string, t *Tenant, m *Member, hash *string, a *AuditEvent) error {
	if err := c.checkEmailElsewhere(ctx, op, t, m.EmailKey); err != nil {
		return err
	}
	if err := c.checkManager(ctx, op, t, m, nil); err != nil {
		return err
	}
	global := c.uniqueEmails(t)
	if err := c.store.CreateMember(ctx, MemberWrite{Member: m, Seat: seatTaken(t, m.Status), TenantVersion: t.Version, PasswordHash: hash, GlobalEmail: global, Audit: a}); err != nil {
		return withOp(op, err)
	}
	if global {
		// Of two tenants requiring unique addresses, the store lets one
		// write an address ([MemberWrite.GlobalEmail]). A tenant that does
		// not require it may still have added the address since the check
		// above; such a member never gives way, so this one does.
		if err := c.settleEmailRace(ctx, op, t, m); err != nil {
			return err
		}
	}
	return nil
}

// uniqueEmails reports whether t's members' addresses must be unique
// across tenants.
func (c *Client) uniqueEmails(t *Tenant) bool {
	return t.Settings.UniqueEmailAcrossTenants || c.globalEmails
}

// updateStored is the store's UpdateMember for a member of t, marking the
// write [MemberWrite.GlobalEmail] when t requires unique addresses (on
// every write, so the store's cross-tenant key follows the member's email).
func (c *Client) updateStored(ctx context.Context, t *Tenant, w MemberWrite) error {
	w.GlobalEmail = c.uniqueEmails(t)
	return c.store.UpdateMember(ctx, w)
}

// checkManager refuses, with ReasonUnknownManager, a manager id that names
// no member of t (or m itself); before is the member as stored (nil for a
// new one), whose manager, unchanged, is not checked again.
func (c *Client) checkManager(ctx context.Context, op string, t *Tenant, m, before *Member) error {
	id := m.ManagerID
	if id == "" || (before != nil && before.ManagerID == id) {
		return nil
	}
	if id == m.ID {
		return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonManagerCycle, Field: string(FieldManagerID),
			Message: "a member cannot be their own manager"}
	}
	_, err := c.store.GetMember(ctx, t.ID, id)
	if isNotFound(err) {
		return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonUnknownManager, Field: string(FieldManagerID),
			Message: fmt.Sprintf("manager %q is not a member of this tenant", id)}
	}
	return withOp(op, err)
}

func (c *Client) checkEmailElsewhere(ctx context.Context, op string, t *Tenant, emailKey string) error {
	if !c.uniqueEmails(t) {
		return nil
	}
	taken, err := c.store.EmailInOtherTenant(ctx, t.ID, emailKey)
	if err != nil {
		return withOp(op, err)
	}
	if taken {
		return errEmailElsewhere(op)
	}
	return nil
}

func (c *Client) settleEmailRace(ctx context.Context, op string, t *Tenant, m *Member) error {
	taken, err := c.store.EmailInOtherTenant(ctx, t.ID, m.EmailKey)
	if err != nil || !taken {
		return withOp(op, err)
	}
	if err := c.store.DeleteMember(ctx, memberDelete(t, m)); err != nil && !isNotFound(err) {
		return withOp(op, err)
	}
	return errEmailElsewhere(op)
}

// Member returns a member of a tenant. Reads are not policy-checked: the
// host decides who may see a tenant's members.
func (c *Client) Member(ctx context.Context, tenantID, memberID string) (*Member, error) {
	m, err := c.store.GetMember(ctx, tenantID, memberID)
	return m, withOp("sdk.Member", err)
}

// MemberByEmail returns the member with that email address, compared
// case-insensitively.
func (c *Client) MemberByEmail(ctx context.Context, tenantID, email string) (*Member, error) {
	m, err := c.store.GetMemberBy(ctx, tenantID, KeyEmail, NormalizeEmail(email))
	return m, withOp("sdk.MemberByEmail", err)
}

// MemberByUserName returns the member with that userName, compared
// case-insensitively.
func (c *Client) MemberByUserName(ctx context.Context, tenantID, userName string) (*Member, error) {
	m, err := c.store.GetMemberBy(ctx, tenantID, KeyUserName, NormalizeUserName(userName))
	return m, withOp("sdk.MemberByUserName", err)
}

// MemberByExternalID returns the member with that external id.
func (c *Client) MemberByExternalID(ctx context.Context, tenantID, externalID string) (*Member, error) {
	m, err := c.store.GetMemberBy(ctx, tenantID, KeyExternalID, externalID)
	return m, withOp("sdk.MemberByExternalID", err)
}

// ListMembersOptions filter and page a member list.
type ListMembersOptions struct {
	ListOptions
	Status Status // only members in this state
	Role   string // only members with this role
	// Prefix keeps members whose email, given, family or display name
	// starts with it, case-insensitively.
	Prefix string
}

// ListMembers returns a page of a tenant's members in a stable order
// (creation order): a cursor resumes exactly after the last member
// returned, and every page costs the same however deep it is.
func (c *Client) ListMembers(ctx context.Context, tenantID string, opts ListMembersOptions) (*Page[*Member], error) {
	const op = "sdk.ListMembers"
	size, after, err := pageParams(op, opts.ListOptions)
	if err != nil {
		return nil, err
	}
	f, err := memberFilter(op, opts)
	if err != nil {
		return nil, err
	}
	ms, err := c.store.ListMembers(ctx, tenantID, MemberQuery{Filter: f, After: after, Limit: size + 1})
	if err != nil {
		return nil, withOp(op, err)
	}
	return makePage(ms, size, func(m *Member) string { return m.ID }), nil
}

// CountMembers returns how many members match the filter (the page options
// are ignored).
func (c *Client) CountMembers(ctx context.Context, tenantID string, opts ListMembersOptions) (int, error) {
	const op = "sdk.CountMembers"
	f, err := memberFilter(op, opts)
	if err != nil {
		return 0, err
	}
	n, err := c.store.CountMembers(ctx, tenantID, f)
	return n, withOp(op, err)
}

func memberFilter(op string, o ListMembersOptions) (MemberFilter, error) {
	if o.Status != "" && !o.Status.Valid() {
		return MemberFilter{}, invalid(op, "Status", fmt.Sprintf("%q is not a member status", o.Status))
	}
	if len(o.Prefix) > 254 {
		return MemberFilter{}, invalid(op, "Prefix", "must be at most 254 characters")
	}
	return MemberFilter{Status: o.Status, Role: o.Role, Prefix: strings.ToLower(o.Prefix)}, nil
}

// UpdateProfileRequest changes a member's names, email and directory
// fields. Nil fields are left as they are; a non-nil empty string clears
// the field (except Email). For the whole profile, status and password in
// one write, use [Client.UpdateMember].
type UpdateProfileRequest struct {
	TenantID string `validate:"required,max=64"`
	MemberID string `validate:"required,max=64"`
	// Email replaces the member's email: the primary email's value (or a
	// new primary work email when there is none). When the userName was
	// the old email, it follows.
	Email       *string `validate:"omitempty,max=254,email"`
	GivenName   *string `validate:"omitempty,max=256,utf8"`
	FamilyName  *string `validate:"omitempty,max=256,utf8"`
	DisplayName *string `validate:"omitempty,max=256,utf8"`
	ExternalID  *string `validate:"omitempty,max=256,utf8"`
	Department  *string `validate:"omitempty,max=256,utf8"`
	Title       *string `validate:"omitempty,max=256,utf8"`
	ManagerID   *string `validate:"omitempty,max=64"`
	// ExpectedVersion, when non-zero, refuses the update with
	// ReasonVersionMismatch if the member changed since it was read.
	ExpectedVersion int64
}

// UpdateProfile changes a member's names, email and directory fields, as
// [Client.UpdateMember] does. A member may edit their own profile; editing
// someone else's needs team:manage and a higher rank, and the owner's
// profile is theirs alone. An update that changes nothing writes nothing.
func (c *Client) UpdateProfile(ctx context.Context, actor Actor, req UpdateProfileRequest) (*Member, error) {
	const op = "sdk.UpdateProfile"
	if req.Email != nil {
		e := strings.TrimSpace(*req.Email)
		req.Email = &e
	}
	if err := check(op, &req); err != nil {
		return nil, err
	}
	up := UpdateMemberRequest{TenantID: req.TenantID, MemberID: req.MemberID, ExpectedVersion: req.ExpectedVersion}
	set := func(f Field, dst *string, v *string) {
		if v != nil {
			*dst = *v
			up.Fields = append(up.Fields, f)
		}
	}
	set(FieldGivenName, &up.GivenName, req.GivenName)
	set(FieldFamilyName, &up.FamilyName, req.FamilyName)
	set(FieldDisplayName, &up.DisplayName, req.DisplayName)
	set(FieldExternalID, &up.ExternalID, req.ExternalID)
	set(FieldDepartment, &up.Department, req.Department)
	set(FieldTitle, &up.Title, req.Title)
	set(FieldManagerID, &up.ManagerID, req.ManagerID)
	if req.Email != nil {
		up.setEmail = req.Email
	}
	return c.updateMember(ctx, op, actor, up)
}

// ChangeRole gives a member another role. The actor must outrank the member
// and may not grant a role above their own; the owner role moves only by
// [Client.TransferOwnership].
func (c *Client) ChangeRole(ctx context.Context, actor Actor, tenantID, memberID, role string) (*Member, error) {
	const op = "sdk.ChangeRole"
	if role == "" {
		return nil, invalid(op, "Role", "is required")
	}
	return c.mutate(ctx, op, actor, tenantID, memberID, 0, EventMemberRoleChanged,
		func(p *Policy, before, m *Member) (SeatChange, error) {
			if err := p.CheckGrant(before, role).Err(op); err != nil {
				return 0, err
			}
			if before.Role == role {
				return 0, errNoChange
			}
			m.Role = role
			return 0, nil
		})
}

// Deactivate suspends a member: their sessions end at once and, by default,
// they keep their seat until removed. Deactivating a deactivated member
// changes nothing.
func (c *Client) Deactivate(ctx context.Context, actor Actor, tenantID, memberID string) (*Member, error) {
	st := StatusDeactivated
	return c.updateMember(ctx, "sdk.Deactivate", actor, UpdateMemberRequest{TenantID: tenantID, MemberID: memberID, Status: &st})
}

// Reactivate makes a deactivated member active again, taking a seat if
// deactivated members do not hold one. Reactivating an active member
// changes nothing; an invited member becomes active by accepting.
func (c *Client) Reactivate(ctx context.Context, actor Actor, tenantID, memberID string) (*Member, error) {
	st := StatusActive
	return c.updateMember(ctx, "sdk.Reactivate", actor, UpdateMemberRequest{TenantID: tenantID, MemberID: memberID, Status: &st})
}

// ForceLogout ends every session of a member at once by bumping their
// session epoch (see [Client.SessionValid]).
func (c *Client) ForceLogout(ctx context.Context, actor Actor, tenantID, memberID string) (*Member, error) {
	const op = "sdk.ForceLogout"
	return c.mutate(ctx, op, actor, tenantID, memberID, 0, EventMemberLoggedOut,
		func(p *Policy, before, m *Member) (SeatChange, error) {
			if err := p.Check(ActionForceLogout, before).Err(op); err != nil {
				return 0, err
			}
			m.SessionEpoch++
			return 0, nil
		})
}

// SessionValid reports whether a session that recorded epoch at sign-in is
// still valid: the member exists, is active and has not been logged out
// since. It is one store read, cheap enough for every request.
func (c *Client) SessionValid(ctx context.Context, tenantID, memberID string, epoch int64) (bool, error) {
	m, err := c.store.GetMember(ctx, tenantID, memberID)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, withOp("sdk.SessionValid", err)
	}
	return m.Status == StatusActive && m.SessionEpoch == epoch, nil
}

// TransferOwnership makes another active member the owner. Only the owner
// (or the host system) may. The old owner receives the tenant's successor
// role (default: the role ranked just below the owner).
//
// It takes three single-document writes. First the new owner receives the
// owner role, in a write conditional on the version whose state was
// checked: a removal or deactivation decided on that version then fails,
// and one decided afterwards finds a member holding the owner role, whom
// policy protects like the owner (ReasonTargetIsOwner). Then the tenant's
// owner switches in one atomic write, so at no instant does the tenant have
// zero or two owners. Last the old owner receives the successor role. A
// crash between two of them is repaired by [Client.Reconcile]; when the
// owner changed in between, the new owner's role is put back and the
// transfer fails with ReasonVersionMismatch.
func (c *Client) TransferOwnership(ctx context.Context, actor Actor, tenantID, toMemberID string) (*Tenant, error) {
	const op = "sdk.TransferOwnership"
	for range maxRetries {
		t, p, to, err := c.loadTarget(ctx, op, actor, tenantID, toMemberID)
		if err != nil {
			return nil, err
		}
		if err := p.Check(ActionTransferOwnership, to).Err(op); err != nil {
			return nil, err
		}
		marked, err := c.markOwner(ctx, op, t, to, actor)
		if ReasonOf(err) == ReasonVersionMismatch {
			continue // the member changed since it was checked: check again
		}
		if err != nil {
			return nil, err
		}
		nt, err := c.store.SetOwner(ctx, tenantID, t.OwnerID, to.ID, c.Now())
		if err != nil {
			if marked != nil {
				// The owner changed since t was read: the member does
				// not become owner, so it gets its role back.
				c.unmarkOwner(ctx, op, t, marked, to.Role, actor)
			}
			return nil, withOp(op, err)
		}
		c.tenants.putAt(nt, c.Now())
		if _, err := c.fixOwnerRoles(ctx, op, nt, actor); err != nil {
			return nil, err
		}
		c.record(ctx, Event{Type: EventTenantOwnershipTransferred, TenantID: tenantID, Actor: actor, MemberID: to.ID, Tenant: nt.Clone()})
		return nt, nil
	}
	return nil, errStale(op)
}

// markOwner gives to the owner role with a write conditional on to's
// version, and returns the member as written (nil when it held the role
// already).
func (c *Client) markOwner(ctx context.Context, op string, t *Tenant, to *Member, actor Actor) (*Member, error) {
	if to.Role == t.OwnerRole() {
		return nil, nil
	}
	m := to.Clone()
	m.Role = t.OwnerRole()
	m.UpdatedAt = c.Now()
	if err := c.updateStored(ctx, t, MemberWrite{Member: m, ExpectedVersion: to.Version}); err != nil {
		return nil, withOp(op, err)
	}
	c.record(ctx, Event{Type: EventMemberRoleChanged, TenantID: t.ID, Actor: actor, MemberID: m.ID, Before: to, After: m.Clone()})
	return m, nil
}

// unmarkOwner puts back the role of a member markOwner wrote, unless it
// changed since; a failure is left to [Client.Reconcile], which gives such
// a member the successor role.
func (c *Client) unmarkOwner(ctx context.Context, op string, t *Tenant, m *Member, role string, actor Actor) {
	back := m.Clone()
	back.Role = role
	back.UpdatedAt = c.Now()
	ctx = context.WithoutCancel(ctx)
	if err := c.updateStored(ctx, t, MemberWrite{Member: back, ExpectedVersion: m.Version}); err != nil {
		c.log.Warn("roster: could not give back the role of a member an interrupted ownership transfer marked; reconcile repairs it",
			"op", op, "tenant", t.ID, "member", m.ID, "err", err)
		return
	}
	c.record(ctx, Event{Type: EventMemberRoleChanged, TenantID: t.ID, Actor: actor, MemberID: m.ID, Before: m, After: back.Clone()})
}

// loadTarget reads what an operation on one member needs: the tenant, the
// actor's policy in it and the target member.
func (c *Client) loadTarget(ctx context.Context, op string, actor Actor, tenantID, memberID string) (*Tenant, *Policy, *Member, error) {
	t, err := c.getTenant(ctx, op, tenantID)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := c.policyFor(ctx, op, t, actor)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := c.store.GetMember(ctx, tenantID, memberID)
	if err != nil {
		return nil, nil, nil, withOp(op, err)
	}
	return t, p, m, nil
}

// fixOwnerRoles makes member roles agree with t.OwnerID: the owner holds
// the owner role and nobody else does. It is idempotent and returns how
// many members it changed.
func (c *Client) fixOwnerRoles(ctx context.Context, op string, t *Tenant, actor Actor) (int, error) {
	ownerRole := t.OwnerRole()
	n := 0
	changed, err := c.setRole(ctx, op, t, t.OwnerID, ownerRole, actor)
	if err != nil && !isNotFound(err) {
		return n, err
	}
	if changed {
		n++
	}
	after := ""
	for {
		ms, err := c.store.ListMembers(ctx, t.ID, MemberQuery{Filter: MemberFilter{Role: ownerRole}, After: after, Limit: 100})
		if err != nil {
			return n, withOp(op, err)
		}
		for _, m := range ms {
			if m.ID == t.OwnerID {
				continue
			}
			changed, err := c.setRole(ctx, op, t, m.ID, t.SuccessorRole(), actor)
			if err != nil && !isNotFound(err) {
				return n, err
			}
			if changed {
				n++
			}
		}
		if len(ms) < 100 {
			return n, nil
		}
		after = ms[len(ms)-1].ID
	}
}

// setRole writes a role without policy checks, for ownership bookkeeping.
func (c *Client) setRole(ctx context.Context, op string, t *Tenant, memberID, role string, actor Actor) (bool, error) {
	for range maxRetries {
		m, err := c.store.GetMember(ctx, t.ID, memberID)
		if err != nil {
			return false, withOp(op, err)
		}
		if m.Role == role {
			return false, nil
		}
		before := m.Clone()
		m.Role = role
		m.UpdatedAt = c.Now()
		err = c.updateStored(ctx, t, MemberWrite{Member: m, ExpectedVersion: before.Version})
		if ReasonOf(err) == ReasonVersionMismatch {
			continue
		}
		if err != nil {
			return false, withOp(op, err)
		}
		c.record(ctx, Event{Type: EventMemberRoleChanged, TenantID: t.ID, Actor: actor, MemberID: m.ID, Before: before, After: m.Clone()})
		return true, nil
	}
	return false, errStale(op)
}

// ReconcileReport says what [Client.Reconcile] repaired.
type ReconcileReport struct {
	TenantID      string
	SeatsBefore   int // the seat counter before the repair
	SeatsAfter    int // the number of seats actually held
	RolesRepaired int // members whose role disagreed with the tenant's owner
}

// Reconcile repairs what a crash between two store steps can leave behind:
// a seat counter that disagrees with the members holding seats, and member
// roles that disagree with the tenant's owner after an interrupted
// transfer. It is idempotent and safe to run at any time, beside live
// traffic included: the store's recount ([TenantStore.RecountSeats]) never
// takes a seat from a member write in flight. When seats keep moving while
// it counts, it returns CodeFailedPrecondition with ReasonVersionMismatch
// and lowers nothing (the counter only ever errs high); run it again.
func (c *Client) Reconcile(ctx context.Context, tenantID string) (*ReconcileReport, error) {
	const op = "sdk.Reconcile"
	t, err := c.getTenant(ctx, op, tenantID)
	if err != nil {
		return nil, err
	}
	rep := &ReconcileReport{TenantID: t.ID, SeatsBefore: t.SeatsUsed, SeatsAfter: t.SeatsUsed}
	nt, prev, err := c.store.RecountSeats(ctx, t.ID, seatStates(&t.Settings))
	if err != nil {
		return nil, withOp(op, err)
	}
	rep.SeatsBefore, rep.SeatsAfter = prev, nt.SeatsUsed
	if rep.RolesRepaired, err = c.fixOwnerRoles(ctx, op, t, SystemActor()); err != nil {
		return nil, err
	}
	if rep.RolesRepaired > 0 || rep.SeatsBefore != rep.SeatsAfter {
		c.record(ctx, Event{Type: EventTenantReconciled, TenantID: t.ID, Actor: SystemActor(), Tenant: t})
	}
	return rep, nil
}

const maxRetries = 16

// errNoChange tells mutate that the update would change nothing.
var errNoChange = &Error{Code: CodeUnknown, Message: "no change"}

// mutate runs a read-check-write cycle on one member with optimistic
// concurrency: fn receives the tenant policy, the stored member and a copy
// to modify, and returns the seat delta of the change. When the member
// changed in between, the cycle repeats on fresh data (unless the caller
// demanded an expected version).
func (c *Client) mutate(ctx context.Context, op string, actor Actor, tenantID, memberID string, expected int64,
	ev EventType, fn func(p *Policy, before, m *Member) (SeatChange, error)) (*Member, error) {
	if tenantID == "" {
		return nil, invalid(op, "TenantID", "is required")
	}
	if memberID == "" {
		return nil, invalid(op, "MemberID", "is required")
	}
	for range maxRetries {
		t, err := c.getTenant(ctx, op, tenantID)
		if err != nil {
			return nil, err
		}
		p, err := c.policyFor(ctx, op, t, actor)
		if err != nil {
			return nil, err
		}
		if p.refusal != "" {
			return nil, deny(p.refusal).Err(op)
		}
		before, err := c.store.GetMember(ctx, tenantID, memberID)
		if err != nil {
			return nil, withOp(op, err)
		}
		if expected != 0 && before.Version != expected {
			return nil, errStale(op)
		}
		m := before.Clone()
		delta, err := fn(p, before, m)
		if err == errNoChange {
			return before, nil
		}
		if err != nil {
			return nil, err
		}
		m.UpdatedAt = c.Now()
		err = c.updateStored(ctx, t, MemberWrite{Member: m, ExpectedVersion: before.Version, Seat: delta})
		if ReasonOf(err) == ReasonVersionMismatch && expected == 0 {
			continue
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		c.record(ctx, Event{Type: ev, TenantID: tenantID, Actor: actor, MemberID: m.ID, Before: before, After: m.Clone()})
		return m, nil
	}
	return nil, errStale(op)
}

// seatChange is the seat step of a member going from state from to to.
func seatChange(t *Tenant, from, to Status) SeatChange {
	a, b := t.Settings.HoldsSeat(from), t.Settings.HoldsSeat(to)
	switch {
	case a && !b:
		return SeatRelease
	case !a && b:
		return SeatTake
	}
	return SeatKeep
}

// seatTaken is the seat step of creating a member in state st.
func seatTaken(t *Tenant, st Status) SeatChange {
	if t.Settings.HoldsSeat(st) {
		return SeatTake
	}
	return SeatKeep
}

// memberDelete is the conditional deletion of m as read, giving back its
// seat when it holds one.
func memberDelete(t *Tenant, m *Member) MemberDelete {
	d := MemberDelete{TenantID: t.ID, ID: m.ID, ExpectedVersion: m.Version}
	if t.Settings.HoldsSeat(m.Status) {
		d.Seat = SeatRelease
	}
	return d
}
