package sdk

import "context"

// CheckPermission decides whether member m of tenant t may use perm — "may
// this member send campaigns?" — with a reason when not: ReasonNotMember
// (m is nil or of another tenant), ReasonInactive (invited or deactivated:
// a role grants nothing until the member is active), ReasonMissingPermission
// (the member's role lacks perm). The owner holds every permission. Like
// [Policy.Check] it does no I/O and allocates nothing, so a host can ask it
// on every request; [Role.Has] answers for a role alone, whatever the
// member's state.
func CheckPermission(t *Tenant, m *Member, perm Permission) Decision {
	if m == nil || t == nil || m.TenantID != t.ID {
		return deny(ReasonNotMember)
	}
	if m.Status != StatusActive {
		return deny(ReasonInactive)
	}
	if m.ID == t.OwnerID {
		return allow
	}
	if r := memberRole(t, m); r != nil && r.Has(perm) {
		return allow
	}
	return deny(ReasonMissingPermission)
}

// CheckPermissionAll is [CheckPermission] for each of members, written
// into dst (grown as needed) and returned: decisions[i] is about
// members[i]. One call covers a whole members page without allocating when
// dst has room.
func CheckPermissionAll(dst []Decision, t *Tenant, perm Permission, members []*Member) []Decision {
	dst = dst[:0]
	for _, m := range members {
		dst = append(dst, CheckPermission(t, m, perm))
	}
	return dst
}

// CheckPermission decides whether the policy's actor may use perm: for a
// member, as the package-level [CheckPermission] does; a SCIM token or HR
// sync holds team:manage only; the host system holds every permission.
func (p *Policy) CheckPermission(perm Permission) Decision {
	if p.refusal != "" {
		return deny(p.refusal)
	}
	if p.has(perm) {
		return allow
	}
	return deny(ReasonMissingPermission)
}

// CheckPermission loads the tenant and the member and decides whether the
// member may use perm (see the package-level [CheckPermission]). A member
// that does not exist is a refusal with ReasonNotMember, not an error; the
// error reports an unknown tenant or a failed read.
func (c *Client) CheckPermission(ctx context.Context, tenantID, memberID string, perm Permission) (Decision, error) {
	const op = "sdk.CheckPermission"
	t, err := c.getTenant(ctx, op, tenantID)
	if err != nil {
		return Decision{}, err
	}
	m, err := c.store.GetMember(ctx, tenantID, memberID)
	if isNotFound(err) {
		return deny(ReasonNotMember), nil
	}
	if err != nil {
		return Decision{}, withOp(op, err)
	}
	return CheckPermission(t, m, perm), nil
}
