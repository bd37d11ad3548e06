package sdk

import "context"

// DeleteTenant deletes the tenant and everything it holds — members,
// credentials, invitations, groups, tokens and the audit log —
// permanently; its slug is free again afterwards. It needs tenant:delete
// (the owner's, by default) or the system actor.
//
// The deletion is decided on the tenant as read and is conditional on its
// version: a change to the tenant in between fails it with
// ReasonVersionMismatch, and nothing is deleted. A member added while it
// runs is either deleted with the rest or refused.
//
// A deletion that stopped half-way (a crash, on a store that deletes in
// steps) leaves the tenant marked ([Tenant.Deleting]); every other
// operation then answers CodeNotFound with [ReasonTenantDeleting], and
// DeleteTenant by the system actor finishes it.
//
// Observers get [EventTenantDeleted]; no audit entry is written, since the
// tenant's audit log goes with it (hosts that keep a record of deletions
// log the event).
func (c *Client) DeleteTenant(ctx context.Context, actor Actor, tenantID string) error {
	const op = "sdk.DeleteTenant"
	t, err := c.store.GetTenant(ctx, tenantID)
	if err != nil {
		return withOp(op, err)
	}
	switch {
	case t.Deleting && actor.Kind != ActorSystem:
		return errDeleting(op)
	case !t.Deleting:
		p, err := c.policyFor(ctx, op, t, actor)
		if err != nil {
			return err
		}
		if err := p.Check(ActionDeleteTenant, nil).Err(op); err != nil {
			return err
		}
	}
	err = c.store.DeleteTenant(ctx, t.ID, t.Version)
	c.tenants.forget(t.ID)
	if err != nil {
		return withOp(op, err)
	}
	ev := Event{Type: EventTenantDeleted, TenantID: t.ID, Actor: actor, Tenant: t}
	c.announce(ctx, ev, c.auditEvent(ev))
	return nil
}
