package sdk

import (
	"context"
	"fmt"
)

// MaxBulkItems is the most items one bulk call takes.
const MaxBulkItems = 1000

// ReasonDuplicateItem marks a bulk item that repeats an earlier one.
const ReasonDuplicateItem Reason = "duplicate_item"

// BulkItem is the outcome of one item of a bulk operation.
type BulkItem struct {
	Index  int     // position in the input
	Key    string  // the member id (or, for invitations, the email) of the item
	Member *Member // the member after the change; nil on failure and for removals
	// Invite holds the invitation and its secret, for BulkInvite.
	Invite *InviteResult
	Err    error // nil on success; an *Error with a reason otherwise
}

// BulkResult reports every item of a bulk operation. One bad item never
// aborts the others; each is checked against policy on its own.
type BulkResult struct {
	Items     []BulkItem
	Succeeded int
	Failed    int
}

func bulkKeys(op string, keys []string, field string) error {
	if len(keys) == 0 {
		return invalid(op, field, "the list is empty")
	}
	if len(keys) > MaxBulkItems {
		return invalid(op, field, fmt.Sprintf("at most %d items per call (got %d)", MaxBulkItems, len(keys)))
	}
	return nil
}

// bulk runs fn for every key, marking repeats of an earlier key as failed
// without running them.
func bulk(op string, keys []string, fn func(i int, key string) BulkItem) *BulkResult {
	res := &BulkResult{Items: make([]BulkItem, len(keys))}
	seen := make(map[string]int, len(keys))
	for i, k := range keys {
		if first, dup := seen[k]; dup {
			res.Items[i] = BulkItem{Index: i, Key: k, Err: &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonDuplicateItem,
				Message: fmt.Sprintf("item %d repeats item %d", i, first)}}
		} else {
			seen[k] = i
			res.Items[i] = fn(i, k)
			res.Items[i].Index, res.Items[i].Key = i, k
		}
		if res.Items[i].Err != nil {
			res.Failed++
		} else {
			res.Succeeded++
		}
	}
	return res
}

func (c *Client) bulkMembers(ctx context.Context, op string, ids []string, fn func(id string) (*Member, error)) (*BulkResult, error) {
	if err := bulkKeys(op, ids, "MemberIDs"); err != nil {
		return nil, err
	}
	return bulk(op, ids, func(_ int, id string) BulkItem {
		if id == "" {
			return BulkItem{Err: invalid(op, "MemberIDs", "empty member id")}
		}
		m, err := fn(id)
		return BulkItem{Member: m, Err: err}
	}), nil
}

// BulkRemove removes members, each as [Client.RemoveMember] would.
func (c *Client) BulkRemove(ctx context.Context, actor Actor, tenantID string, memberIDs []string) (*BulkResult, error) {
	return c.bulkMembers(ctx, "sdk.BulkRemove", memberIDs, func(id string) (*Member, error) {
		return nil, c.RemoveMember(ctx, actor, tenantID, id)
	})
}

// BulkForceLogout ends every session of each member.
func (c *Client) BulkForceLogout(ctx context.Context, actor Actor, tenantID string, memberIDs []string) (*BulkResult, error) {
	return c.bulkMembers(ctx, "sdk.BulkForceLogout", memberIDs, func(id string) (*Member, error) {
		return c.ForceLogout(ctx, actor, tenantID, id)
	})
}

// BulkDeactivate deactivates each member.
func (c *Client) BulkDeactivate(ctx context.Context, actor Actor, tenantID string, memberIDs []string) (*BulkResult, error) {
	return c.bulkMembers(ctx, "sdk.BulkDeactivate", memberIDs, func(id string) (*Member, error) {
		return c.Deactivate(ctx, actor, tenantID, id)
	})
}

// BulkChangeRole gives each member the role.
func (c *Client) BulkChangeRole(ctx context.Context, actor Actor, tenantID string, memberIDs []string, role string) (*BulkResult, error) {
	if role == "" {
		return nil, invalid("sdk.BulkChangeRole", "Role", "is required")
	}
	return c.bulkMembers(ctx, "sdk.BulkChangeRole", memberIDs, func(id string) (*Member, error) {
		return c.ChangeRole(ctx, actor, tenantID, id, role)
	})
}

// BulkInvite invites each request's address into tenantID (the requests'
// TenantID fields are ignored). Repeated addresses, compared
// case-insensitively, fail as duplicates.
func (c *Client) BulkInvite(ctx context.Context, actor Actor, tenantID string, reqs []InviteRequest) (*BulkResult, error) {
	const op = "sdk.BulkInvite"
	keys := make([]string, len(reqs))
	for i, r := range reqs {
		keys[i] = NormalizeEmail(r.Email)
	}
	if err := bulkKeys(op, keys, "Requests"); err != nil {
		return nil, err
	}
	return bulk(op, keys, func(i int, _ string) BulkItem {
		r := reqs[i]
		r.TenantID = tenantID
		inv, err := c.Invite(ctx, actor, r)
		if err != nil {
			return BulkItem{Err: err}
		}
		return BulkItem{Member: inv.Member, Invite: inv}
	}), nil
}
