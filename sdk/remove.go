package sdk

import (
	"context"
	"fmt"
	"maps"
)

// Reassigner moves what a member owns in the host application (lists,
// accounts, deals, tasks…) to another member before the member is removed.
// The SDK calls it before deleting and does not delete when it fails. It
// may be called again for the same pair after a crash or a retry, so it
// must be idempotent.
type Reassigner interface {
	Reassign(ctx context.Context, tenantID, fromMemberID, toMemberID string) (ReassignResult, error)
}

// ReassignFunc adapts a function to [Reassigner].
type ReassignFunc func(ctx context.Context, tenantID, from, to string) (ReassignResult, error)

// Reassign calls f.
func (f ReassignFunc) Reassign(ctx context.Context, tenantID, from, to string) (ReassignResult, error) {
	return f(ctx, tenantID, from, to)
}

// ReassignResult says what a Reassigner moved and what stops working.
type ReassignResult struct {
	// Reassigned counts moved items by kind, e.g. {"lists": 3, "deals": 12}.
	Reassigned map[string]int
	// Broken lists what dies with the member and cannot be moved, e.g.
	// "API key ci-deploy", so the UI can warn the admin.
	Broken []string
}

// WithReassigner registers the host's reassignment hook.
func WithReassigner(r Reassigner) Option { return func(c *Client) { c.reassigner = r } }

// Reassigns reports whether a [Reassigner] is registered ([WithReassigner]):
// whether [Client.Remove] moves what a member owns, and so whether a
// screen should ask to whom.
func (c *Client) Reassigns() bool { return c.reassigner != nil }

// ReasonReassignFailed means the host's reassignment hook failed, so the
// member was not removed.
const ReasonReassignFailed Reason = "reassign_failed"

// RemoveRequest removes a member.
type RemoveRequest struct {
	TenantID string `validate:"required,max=64"`
	MemberID string `validate:"required,max=64"`
	// ReassignTo receives what the member owns; default: the owner. It
	// must be an active member other than the one removed, and is refused
	// when no [Reassigner] is registered (nothing would receive anything).
	ReassignTo string `validate:"max=64"`
	// ExpectedVersion, when non-zero, refuses the removal with
	// ReasonVersionMismatch if the member's version is another (an HTTP
	// If-Match); nothing is reassigned or removed.
	ExpectedVersion int64
}

// RemoveResult reports a removal.
type RemoveResult struct {
	Member       *Member // the member as it was
	ReassignedTo string
	Reassigned   map[string]int
	// Broken lists what stopped working: the member's credentials and
	// sessions always, plus what the reassignment hook reported.
	Broken []string
}

// Remove deletes a member permanently after reassigning what they own:
// the registered Reassigner runs first with (member, ReassignTo) and the
// delete does not happen if it fails (ReasonReassignFailed). The seat is
// freed, sessions end and credentials are deleted. The owner can never be
// removed.
func (c *Client) Remove(ctx context.Context, actor Actor, req RemoveRequest) (*RemoveResult, error) {
	const op = "sdk.RemoveMember"
	if err := check(op, &req); err != nil {
		return nil, err
	}
	for range maxRetries {
		t, p, m, err := c.loadTarget(ctx, op, actor, req.TenantID, req.MemberID)
		if err != nil {
			return nil, err
		}
		if req.ExpectedVersion != 0 && m.Version != req.ExpectedVersion {
			return nil, errStale(op)
		}
		if err := p.Check(ActionRemove, m).Err(op); err != nil {
			return nil, err
		}
		if req.ReassignTo != "" && c.reassigner == nil {
			return nil, invalid(op, "ReassignTo", "no reassignment hook is registered (sdk.WithReassigner): nothing would receive the member's items")
		}
		res := &RemoveResult{Member: m, ReassignedTo: req.ReassignTo, Reassigned: map[string]int{}}
		if res.ReassignedTo == "" {
			res.ReassignedTo = t.OwnerID
		}
		if c.reassigner != nil {
			if err := c.checkReassignTarget(ctx, op, t, m, res.ReassignedTo); err != nil {
				return nil, err
			}
			rr, err := c.reassigner.Reassign(ctx, t.ID, m.ID, res.ReassignedTo)
			if err != nil {
				if isContextErr(err) {
					return nil, err
				}
				return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonReassignFailed,
					Message: "reassigning the member's items failed; the member was not removed", Err: err}
			}
			maps.Copy(res.Reassigned, rr.Reassigned)
			res.Broken = append(res.Broken, rr.Broken...)
		}
		// Read the credentials first: a store may keep the password with
		// the member, gone once the member is.
		cr, crErr := c.store.GetCredentials(ctx, t.ID, m.ID)
		err = c.store.DeleteMember(ctx, memberDelete(t, m))
		if ReasonOf(err) == ReasonVersionMismatch {
			continue
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		c.dropMemberEdges(ctx, t.ID, m)
		res.Broken = append(res.Broken, "all sessions of "+m.Email)
		if crErr == nil {
			if cr.PasswordHash != "" {
				res.Broken = append(res.Broken, "password of "+m.Email)
			}
			if cr.TOTPSecret != "" {
				res.Broken = append(res.Broken, "TOTP enrolment of "+m.Email)
			}
		}
		if err := c.store.DeleteCredentials(ctx, t.ID, m.ID); err != nil {
			c.log.Error("roster: deleting credentials of a removed member failed", "member", m.ID, "err", err)
		}
		c.record(ctx, Event{Type: EventMemberRemoved, TenantID: t.ID, Actor: actor, MemberID: m.ID, Before: m})
		return res, nil
	}
	return nil, errStale(op)
}

func (c *Client) checkReassignTarget(ctx context.Context, op string, t *Tenant, m *Member, to string) error {
	if to == m.ID {
		return invalid(op, "ReassignTo", "cannot reassign a member's items to themself")
	}
	target, err := c.store.GetMember(ctx, t.ID, to)
	if isNotFound(err) {
		return invalid(op, "ReassignTo", fmt.Sprintf("member %q is not in this tenant", to))
	}
	if err != nil {
		return withOp(op, err)
	}
	if target.Status != StatusActive {
		return &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonTargetNotActive, Field: "ReassignTo",
			Message: "items can only be reassigned to an active member"}
	}
	return nil
}

// RemoveMember removes a member, reassigning their items to the owner. See
// [Client.Remove].
func (c *Client) RemoveMember(ctx context.Context, actor Actor, tenantID, memberID string) error {
	_, err := c.Remove(ctx, actor, RemoveRequest{TenantID: tenantID, MemberID: memberID})
	return err
}
