package ui

import "github.com/rosterhq/roster/sdk"

// acts says which actions on one member the actor may take — each
// control is drawn only when its flag is set.
type acts struct {
	Profile    bool
	Role       bool
	Deactivate bool
	Reactivate bool
	Logout     bool
	SignOut    bool // the actor's own "sign out everywhere"
	Delete     bool
	Resend     bool
	Revoke     bool
	Transfer   bool
	// Roles are the roles the actor may give this member (its own role
	// excluded).
	Roles []string
}

// Select reports whether the member can be picked for a bulk action.
func (a acts) Select() bool { return a.Delete || a.Logout || len(a.Roles) > 0 }

// Any reports whether any action on the member is allowed.
func (a acts) Any() bool {
	return a.Profile || a.Role || a.Deactivate || a.Reactivate || a.Logout || a.SignOut || a.Delete || a.Resend || a.Revoke || a.Transfer
}

// decide asks the policy about every member of ms at once, one action at a
// time over the whole slice ([sdk.Policy.CheckAll]: no I/O, no store read
// per row). States decide too, where an action would change nothing: only
// an active member is deactivated, only a deactivated one reactivated, only
// an invited one has an invitation to resend or revoke (they are revoked
// rather than deleted).
func decide(p *sdk.Policy, ms []*sdk.Member) []acts {
	out := make([]acts, len(ms))
	var d []sdk.Decision
	each := func(action sdk.Action, set func(a *acts, m *sdk.Member, ok bool)) {
		d = p.CheckAll(d, action, ms)
		for i, m := range ms {
			set(&out[i], m, d[i].Allowed)
		}
	}
	self := p.Actor().ID
	each(sdk.ActionUpdateProfile, func(a *acts, m *sdk.Member, ok bool) { a.Profile = ok })
	each(sdk.ActionDeactivate, func(a *acts, m *sdk.Member, ok bool) { a.Deactivate = ok && m.Status == sdk.StatusActive })
	each(sdk.ActionReactivate, func(a *acts, m *sdk.Member, ok bool) { a.Reactivate = ok && m.Status == sdk.StatusDeactivated })
	each(sdk.ActionRemove, func(a *acts, m *sdk.Member, ok bool) { a.Delete = ok && m.Status != sdk.StatusInvited })
	each(sdk.ActionTransferOwnership, func(a *acts, m *sdk.Member, ok bool) { a.Transfer = ok })
	each(sdk.ActionForceLogout, func(a *acts, m *sdk.Member, ok bool) {
		a.Logout = ok && m.ID != self && m.Status == sdk.StatusActive
		a.SignOut = ok && m.ID == self
	})
	invites := inviteRights(p)
	roles := p.Tenant().Roles
	for i, m := range ms {
		out[i].Resend = invites && m.Status == sdk.StatusInvited
		out[i].Revoke = out[i].Resend
		for _, r := range roles {
			if r.Name != m.Role && p.CheckGrant(m, r.Name).Allowed {
				out[i].Roles = append(out[i].Roles, r.Name)
			}
		}
		out[i].Role = len(out[i].Roles) > 0
	}
	return out
}

// inviteRights reports whether the actor may manage invitations (resend,
// revoke), which needs the right to invite but no free seat: the policy
// checks the right first, so a refusal for the seat limit means the right
// is there.
func inviteRights(p *sdk.Policy) bool {
	d := p.Check(sdk.ActionInviteMember, nil)
	return d.Allowed || d.Reason == sdk.ReasonSeatLimit
}

// grantable returns the roles the actor may give a new member, and the
// refusal when they may add none (the seat limit, the invite policy).
func grantable(p *sdk.Policy, action sdk.Action) ([]string, sdk.Decision) {
	if d := p.Check(action, nil); !d.Allowed {
		return nil, d
	}
	var rs []string
	for _, r := range p.Tenant().Roles {
		if p.CheckGrant(nil, r.Name).Allowed {
			rs = append(rs, r.Name)
		}
	}
	return rs, sdk.Decision{Allowed: len(rs) > 0, Reason: sdk.ReasonRoleAboveActor}
}

// mayTransfer reports whether the actor may hand ownership to an active
// member at all (only the owner may): the policy is asked about a
// stand-in active member of the tenant.
func mayTransfer(p *sdk.Policy) bool {
	return p.Check(sdk.ActionTransferOwnership, &sdk.Member{TenantID: p.Tenant().ID, Status: sdk.StatusActive}).Allowed
}
