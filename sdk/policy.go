package sdk

import (
	"context"
	"math"
)

// Action is something an actor may try to do in a tenant. Policy decides
// whether it may.
type Action string

// Actions that policy decides.
const (
	ActionAddMember         Action = "member.add"
	ActionInviteMember      Action = "member.invite"
	ActionUpdateProfile     Action = "member.update"
	ActionChangeRole        Action = "member.change_role"
	ActionDeactivate        Action = "member.deactivate"
	ActionReactivate        Action = "member.reactivate"
	ActionRemove            Action = "member.remove"
	ActionForceLogout       Action = "member.logout"
	ActionSetPassword       Action = "member.set_password"
	ActionTransferOwnership Action = "tenant.transfer_ownership"
	ActionManageSeats       Action = "tenant.manage_seats"
	ActionUpdateSettings    Action = "tenant.update_settings"
	ActionManageRoles       Action = "tenant.manage_roles"
	ActionDeleteTenant      Action = "tenant.delete"
)

// Decision is the outcome of a policy check. When Allowed is false, Reason
// is a stable code and Message a sentence fit for an end user.
type Decision struct {
	Allowed bool
	Reason  Reason
	Message string
}

var allow = Decision{Allowed: true}

// reasonMessage returns the sentence for a refusal. Messages are constants
// chosen by a switch, so a check neither allocates nor hashes.
func reasonMessage(r Reason) string {
	switch r {
	case ReasonSeatLimit:
		return "the tenant's seat limit is reached; buy more seats or remove a member first"
	case ReasonTargetIsOwner:
		return "the owner cannot be changed this way; transfer ownership first"
	case ReasonSelfAction:
		return "you cannot do this to yourself"
	case ReasonRankTooLow:
		return "you can only act on members ranked below you (or at your rank, where the tenant allows it)"
	case ReasonRoleAboveActor:
		return "you cannot grant a role ranked above your own"
	case ReasonMissingPermission:
		return "your role does not allow this"
	case ReasonNotMember:
		return "you are not a member of this tenant"
	case ReasonInactive:
		return "your membership is not active"
	case ReasonOwnerOnly:
		return "only the owner can do this"
	case ReasonOwnerRole:
		return "the owner role can only be given by transferring ownership"
	case ReasonTargetNotActive:
		return "the member must be active"
	case ReasonUnknownRole:
		return "the role does not exist in this tenant"
	}
	return "not allowed"
}

func deny(r Reason) Decision { return Decision{Reason: r, Message: reasonMessage(r)} }

// Err returns nil when d allows, and otherwise the [*Error] an operation
// refused by d returns: CodeResourceExhausted for the seat limit,
// CodeFailedPrecondition for owner protection and inactive targets,
// CodeInvalidArgument for an unknown role, CodePermissionDenied otherwise.
func (d Decision) Err(op string) error {
	if d.Allowed {
		return nil
	}
	code := CodePermissionDenied
	switch d.Reason {
	case ReasonSeatLimit:
		code = CodeResourceExhausted
	case ReasonTargetIsOwner, ReasonOwnerRole, ReasonTargetNotActive:
		code = CodeFailedPrecondition
	case ReasonUnknownRole:
		return &Error{Op: op, Code: CodeInvalidArgument, Reason: d.Reason, Field: "Role", Message: d.Message}
	}
	return &Error{Op: op, Code: code, Reason: d.Reason, Message: d.Message}
}

// Policy answers "may this actor do this?" for one actor in one tenant,
// from data loaded once. Its checks do no I/O and allocate nothing, so a UI
// can ask about every row of a members page. Build one with
// [Client.Policy], or [NewPolicy] from data the host already holds.
//
// A Policy is a snapshot: a write made after it was built is not seen.
// Every SDK operation checks policy again on fresh data before writing.
type Policy struct {
	tenant  *Tenant
	actor   Actor
	self    *Member // the acting member, for ActorMember
	rank    int
	perms   []Permission
	owner   bool
	refusal Reason // set when the actor may do nothing at all
}

// NewPolicy returns the policy of actor in t. For ActorMember, actorMember
// must be the acting member as stored (nil when the actor is not a member
// of t, which denies everything with ReasonNotMember).
func NewPolicy(t *Tenant, actor Actor, actorMember *Member) *Policy {
	p := &Policy{tenant: t, actor: actor}
	switch actor.Kind {
	case ActorMember:
		if actorMember == nil || actorMember.TenantID != t.ID || actorMember.ID != actor.ID {
			p.refusal = ReasonNotMember
			return p
		}
		p.self = actorMember
		if actorMember.Status != StatusActive {
			p.refusal = ReasonInactive
			return p
		}
		if actorMember.ID == t.OwnerID {
			p.owner = true
			p.rank = math.MaxInt
			if len(t.Roles) > 0 {
				p.perms = t.Roles[0].Permissions
			}
			return p
		}
		if r := memberRole(t, actorMember); r != nil {
			p.rank, p.perms = r.Rank, r.Permissions
		} else {
			p.refusal = ReasonMissingPermission
		}
	case ActorToken, ActorSync:
		// Provisioning principals manage the team on the tenant's behalf:
		// they outrank every member but the owner and hold team:manage only.
		p.rank = math.MaxInt - 1
		p.perms = provisioningPerms
	case ActorSystem:
		p.rank = math.MaxInt - 1
	default:
		p.refusal = ReasonNotMember
	}
	return p
}

var provisioningPerms = []Permission{PermTeamManage}

// memberRole returns the role a member effectively holds. A non-owner whose
// stored role is the owner role (a transfer interrupted by a crash) holds
// the successor role until reconciliation fixes the record.
func memberRole(t *Tenant, m *Member) *Role {
	if m.ID != t.OwnerID && len(t.Roles) > 0 && m.Role == t.Roles[0].Name {
		return t.Role(t.SuccessorRole())
	}
	return t.Role(m.Role)
}

// Tenant returns the tenant the policy was built from.
func (p *Policy) Tenant() *Tenant { return p.tenant }

// Actor returns the actor the policy is about.
func (p *Policy) Actor() Actor { return p.actor }

func (p *Policy) has(perm Permission) bool {
	if p.actor.Kind == ActorSystem || p.owner {
		return true
	}
	for _, q := range p.perms {
		if q == perm {
			return true
		}
	}
	return false
}

func (p *Policy) targetRank(m *Member) int {
	if m.ID == p.tenant.OwnerID {
		return math.MaxInt
	}
	if r := memberRole(p.tenant, m); r != nil {
		return r.Rank
	}
	return 0
}

// Check decides whether the actor may perform action on target. target is
// nil for actions without one (adding a member, managing seats or
// settings). A target of another tenant is reported as ReasonNotMember.
func (p *Policy) Check(action Action, target *Member) Decision {
	if p.refusal != "" {
		return deny(p.refusal)
	}
	if target != nil && target.TenantID != p.tenant.ID {
		return deny(ReasonNotMember)
	}
	t := p.tenant
	isSelf := target != nil && p.self != nil && target.ID == p.self.ID
	// A member holding the owner role without being named owner is one an
	// ownership transfer is making owner (or was, when a crash interrupted
	// it, until [Client.Reconcile]): protected like the owner, so that no
	// removal or deactivation can slip between the transfer's two writes.
	targetOwner := target != nil && (target.ID == t.OwnerID || (len(t.Roles) > 0 && target.Role == t.Roles[0].Name))
	system := p.actor.Kind == ActorSystem

	switch action {
	case ActionAddMember:
		return p.checkAdd(StatusActive)
	case ActionInviteMember:
		return p.checkAdd(StatusInvited)
	}
	return p.checkTarget(action, target, isSelf, targetOwner, system)
}

// checkInviteRights decides whether the actor may add, invite, or manage
// pending invitations, whatever the seats.
func (p *Policy) checkInviteRights() Decision {
	if p.refusal != "" {
		return deny(p.refusal)
	}
	if p.tenant.Settings.InvitePolicy == InviteOwnerOnly && p.actor.Kind == ActorMember && !p.owner {
		return deny(ReasonOwnerOnly)
	}
	if !p.has(PermTeamManage) {
		return deny(ReasonMissingPermission)
	}
	return allow
}

// checkAdd decides whether the actor may add a member in state st.
func (p *Policy) checkAdd(st Status) Decision {
	t := p.tenant
	if d := p.checkInviteRights(); !d.Allowed {
		return d
	}
	if t.SeatsFree() <= 0 && t.Settings.HoldsSeat(st) {
		return deny(ReasonSeatLimit)
	}
	return allow
}

func (p *Policy) checkTarget(action Action, target *Member, isSelf, targetOwner, system bool) Decision {
	switch action {
	case ActionUpdateProfile:
		if target == nil {
			return deny(ReasonNotMember)
		}
		if isSelf {
			return allow
		}
		if targetOwner && !system {
			return deny(ReasonTargetIsOwner)
		}
		return p.manage(target)

	case ActionChangeRole, ActionDeactivate, ActionReactivate, ActionRemove:
		if target == nil {
			return deny(ReasonNotMember)
		}
		if isSelf {
			return deny(ReasonSelfAction)
		}
		if targetOwner && !(system && action == ActionReactivate) {
			// The tenant must always have exactly one owner, so not even
			// the host system may remove, deactivate or demote them; it
			// may reactivate an owner found deactivated.
			return deny(ReasonTargetIsOwner)
		}
		return p.manage(target)

	case ActionForceLogout, ActionSetPassword:
		if target == nil {
			return deny(ReasonNotMember)
		}
		if isSelf {
			if action == ActionForceLogout {
				// "Sign out everywhere" from one's own account page.
				return allow
			}
			return deny(ReasonSelfAction)
		}
		if targetOwner && !system {
			return deny(ReasonTargetIsOwner)
		}
		return p.manage(target)

	case ActionTransferOwnership:
		if !p.owner && !system {
			return deny(ReasonOwnerOnly)
		}
		if target == nil {
			return deny(ReasonNotMember)
		}
		if target.ID == p.tenant.OwnerID {
			return deny(ReasonSelfAction)
		}
		if target.Status != StatusActive {
			return deny(ReasonTargetNotActive)
		}
		return allow

	case ActionManageSeats:
		if !p.has(PermBillingManage) {
			return deny(ReasonMissingPermission)
		}
		return allow

	case ActionManageGroups:
		if !p.has(PermTeamManage) {
			return deny(ReasonMissingPermission)
		}
		return allow

	case ActionUpdateSettings, ActionManageRoles, ActionManageTokens:
		if !p.owner && !system {
			return deny(ReasonOwnerOnly)
		}
		return allow

	case ActionDeleteTenant:
		if !p.has(PermTenantDelete) {
			return deny(ReasonMissingPermission)
		}
		return allow
	}
	return deny(ReasonMissingPermission)
}

// manage applies the rules shared by actions on another member: the actor
// needs team:manage and must outrank the target — or equal its rank, when
// the tenant's [Settings.ActOnEqualRank] is on.
func (p *Policy) manage(target *Member) Decision {
	if p.actor.Kind == ActorSystem {
		return allow
	}
	if !p.has(PermTeamManage) {
		return deny(ReasonMissingPermission)
	}
	r := p.targetRank(target)
	if r > p.rank || (r == p.rank && !p.tenant.Settings.ActOnEqualRank) {
		return deny(ReasonRankTooLow)
	}
	return allow
}

// CheckGrant decides whether the actor may give role to target (target nil
// for a new member). On top of [Policy.Check] for the change (or for adding
// a member), the role must exist, must not be the owner role, and must not
// rank above the actor's own.
func (p *Policy) CheckGrant(target *Member, role string) Decision {
	action := ActionChangeRole
	if target == nil {
		action = ActionAddMember
	}
	if d := p.Check(action, target); !d.Allowed {
		return d
	}
	return p.grantable(role)
}

// checkAddAs decides whether the actor may add a member in state st with
// role.
func (p *Policy) checkAddAs(st Status, role string) Decision {
	if p.refusal != "" {
		return deny(p.refusal)
	}
	if d := p.checkAdd(st); !d.Allowed {
		return d
	}
	return p.grantable(role)
}

func (p *Policy) grantable(role string) Decision {
	r := p.tenant.Role(role)
	if r == nil {
		return deny(ReasonUnknownRole)
	}
	if len(p.tenant.Roles) > 0 && role == p.tenant.Roles[0].Name {
		return deny(ReasonOwnerRole)
	}
	if r.Rank > p.rank {
		return deny(ReasonRoleAboveActor)
	}
	return allow
}

// Allowed is Check reduced to a boolean, for UIs deciding whether to show a
// control ("show the Delete button?").
func (p *Policy) Allowed(action Action, target *Member) bool {
	return p.Check(action, target).Allowed
}

// CheckAll checks action against every target, writing decisions into dst
// (grown as needed) and returning it, so that one call covers a whole
// members page without allocating when dst has room.
func (p *Policy) CheckAll(dst []Decision, action Action, targets []*Member) []Decision {
	dst = dst[:0]
	for _, m := range targets {
		dst = append(dst, p.Check(action, m))
	}
	return dst
}

// Target names what a [Client.Check] is about.
type Target struct {
	TenantID string
	MemberID string // "" for actions without a member target
	Role     string // for ActionChangeRole and ActionAddMember: the role to grant, if any
}

// Policy loads the tenant and the acting member and returns their policy.
func (c *Client) Policy(ctx context.Context, actor Actor, tenantID string) (*Policy, error) {
	const op = "sdk.Policy"
	t, err := c.getTenant(ctx, op, tenantID)
	if err != nil {
		return nil, err
	}
	return c.policyFor(ctx, op, t, actor)
}

func (c *Client) policyFor(ctx context.Context, op string, t *Tenant, actor Actor) (*Policy, error) {
	var self *Member
	if actor.Kind == ActorMember {
		m, err := c.store.GetMember(ctx, t.ID, actor.ID)
		if err != nil && !isNotFound(err) {
			return nil, withOp(op, err)
		}
		self = m
	}
	return NewPolicy(t, actor, self), nil
}

// Check loads what it needs and decides whether actor may perform action on
// target. A refusal is a Decision, not an error; the error reports lookups
// that failed (an unknown tenant or target member is CodeNotFound).
func (c *Client) Check(ctx context.Context, actor Actor, action Action, target Target) (Decision, error) {
	const op = "sdk.Check"
	p, err := c.Policy(ctx, actor, target.TenantID)
	if err != nil {
		return Decision{}, err
	}
	var m *Member
	if target.MemberID != "" {
		if m, err = c.store.GetMember(ctx, target.TenantID, target.MemberID); err != nil {
			return Decision{}, withOp(op, err)
		}
	}
	if target.Role != "" && (action == ActionChangeRole || action == ActionAddMember || action == ActionInviteMember) {
		if d := p.Check(action, m); !d.Allowed {
			return d, nil
		}
		return p.grantable(target.Role), nil
	}
	return p.Check(action, m), nil
}

// Can is Check reduced to a boolean; lookup failures count as "no".
func (c *Client) Can(ctx context.Context, actor Actor, action Action, target Target) bool {
	d, err := c.Check(ctx, actor, action, target)
	return err == nil && d.Allowed
}

// CheckMembers decides action for each of members (for example a members
// page) with one policy load: decisions[i] is about members[i].
func (c *Client) CheckMembers(ctx context.Context, actor Actor, tenantID string, action Action, members []*Member) ([]Decision, error) {
	p, err := c.Policy(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	return p.CheckAll(make([]Decision, 0, len(members)), action, members), nil
}
