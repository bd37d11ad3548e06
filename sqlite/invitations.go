package sqlite

import (
	"context"

	"github.com/rosterhq/roster/sdk"
)

var _ sdk.InvitationStore = (*Store)(nil)

// CreateInvitation implements [sdk.InvitationStore].
func (s *Store) CreateInvitation(ctx context.Context, inv *sdk.Invitation) error {
	const op = "sqlite.CreateInvitation"
	return s.write(ctx, op, func(x *wtx) error {
		args, err := invitationArgs(inv)
		return x.put(qInvInsert, args, err, func(error) error { return exists(op, "invitation") })
	})
}

// GetInvitation implements [sdk.InvitationStore].
func (s *Store) GetInvitation(ctx context.Context, tenantID, id string) (*sdk.Invitation, error) {
	return s.getInvitation(ctx, "sqlite.GetInvitation", qInvGet, tenantID, id)
}

// GetInvitationByMember implements [sdk.InvitationStore]: the member's
// invitation with the greatest id, from (tenant_id, member_id, id).
func (s *Store) GetInvitationByMember(ctx context.Context, tenantID, memberID string) (*sdk.Invitation, error) {
	return s.getInvitation(ctx, "sqlite.GetInvitationByMember", qInvByMember, tenantID, memberID)
}

func (s *Store) getInvitation(ctx context.Context, op string, q query, tenantID, key string) (*sdk.Invitation, error) {
	return readOne(ctx, s, op, "invitation", q, decodeInvitation, tenantID, key)
}

// UpdateInvitation implements [sdk.InvitationStore].
func (s *Store) UpdateInvitation(ctx context.Context, inv *sdk.Invitation, expected int64) error {
	const op = "sqlite.UpdateInvitation"
	n := *inv
	n.Version = expected + 1
	err := s.write(ctx, op, func(x *wtx) error {
		args, err := invitationArgs(&n)
		if err != nil {
			return err
		}
		// qInvUpdate: tenant, id, member, state, expires, version, doc, expected.
		k, err := x.exec(qInvUpdate, append(args, expected)...)
		if err != nil || k == 1 {
			return err
		}
		if found, err := x.found(qInvExists, inv.TenantID, inv.ID); err != nil || !found {
			return firstErr(err, notFound(op, "invitation"))
		}
		return stale(op)
	})
	if err == nil {
		inv.Version = n.Version
	}
	return err
}

// ListInvitations implements [sdk.InvitationStore], in id order from
// (tenant_id, id), or (tenant_id, state, id) for one state.
func (s *Store) ListInvitations(ctx context.Context, tenantID string, q sdk.InvitationQuery) ([]*sdk.Invitation, error) {
	const op = "sqlite.ListInvitations"
	var parts []cond
	if q.State != "" {
		parts = append(parts, cond{sql: "state = ?", args: []any{string(q.State)}, exact: true})
	}
	if !q.ExpiredBefore.IsZero() {
		parts = append(parts, cond{sql: "expires_ns <= ?", args: []any{unixNano(q.ExpiredBefore)}, exact: true})
	}
	if !q.ValidAfter.IsZero() {
		parts = append(parts, cond{sql: "expires_ns > ?", args: []any{unixNano(q.ValidAfter)}, exact: true})
	}
	out, err := pageOf(ctx, s, "invitations", tenantID, and(parts...), q.After, q.Limit, decodeInvitation, nil)
	return out, s.translate(ctx, op, err)
}
