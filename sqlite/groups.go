package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/sdk"
)

var _ sdk.GroupStore = (*Store)(nil)

// CreateGroup implements [sdk.GroupStore].
func (s *Store) CreateGroup(ctx context.Context, g *sdk.Group) error {
	const op = "sqlite.CreateGroup"
	return s.write(ctx, op, func(x *wtx) error {
		if _, err := x.seats(op, g.TenantID); err != nil {
			return err
		}
		args, err := groupArgs(g)
		return x.put(qGroupInsert, args, err, func(cause error) error { return x.groupConflict(op, g, true, cause) })
	})
}

// groupConflict explains a violated unique index of a group write.
func (x *wtx) groupConflict(op string, g *sdk.Group, create bool, cause error) error {
	if create {
		if taken, err := x.found(qGroupIDTaken, g.TenantID, g.ID); err != nil || taken {
			return firstErr(err, sdk.E(op, sdk.CodeAlreadyExists, "", "group id exists", nil))
		}
	}
	if taken, err := x.found(qGroupNameTaken, g.TenantID, g.NameKey, g.ID); err != nil || taken {
		return firstErr(err, sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonGroupNameTaken, "a group with this display name exists", nil))
	}
	if taken, err := x.found(qGroupExternalIDTaken, g.TenantID, g.ExternalID, g.ID); err != nil || taken {
		return firstErr(err, sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonExternalIDTaken, "a group with this external id exists", nil))
	}
	return cause
}

// GetGroup implements [sdk.GroupStore].
func (s *Store) GetGroup(ctx context.Context, tenantID, id string) (*sdk.Group, error) {
	return readOne(ctx, s, "sqlite.GetGroup", "group", qGroupGet, decodeGroup, tenantID, id)
}

// GetGroups implements [sdk.GroupStore].
func (s *Store) GetGroups(ctx context.Context, tenantID string, ids []string) ([]*sdk.Group, error) {
	const op = "sqlite.GetGroups"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sorted := slices.Compact(slices.Sorted(slices.Values(ids)))
	out, err := byIDs(ctx, s, "SELECT doc FROM groups WHERE tenant_id = ? AND id IN (%s) ORDER BY id", tenantID, sorted, decodeGroup)
	return out, s.translate(ctx, op, err)
}

// byIDs runs query, whose %s is where the list of ids goes, for the ids
// of the tenant 500 at a time, decoding each row's one column with dec.
func byIDs[T any](ctx context.Context, s *Store, query, tenantID string, ids []string, dec func([]byte) (T, error)) ([]T, error) {
	out := []T{}
	for chunk := range slices.Chunk(ids, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, tenantID)
		for _, id := range chunk {
			args = append(args, id)
		}
		list := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
		rows, err := s.r.QueryContext(ctx, fmt.Sprintf(query, list), args...)
		vs, err := collect(ctx, rows, err, dec)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// text decodes a text column.
func text(b []byte) (string, error) { return string(b), nil }

// ListGroups implements [sdk.GroupStore]; SQL answers every group
// condition exactly.
func (s *Store) ListGroups(ctx context.Context, tenantID string, q sdk.GroupQuery) ([]*sdk.Group, error) {
	const op = "sqlite.ListGroups"
	out, err := pageAt(ctx, s, "groups", tenantID, groupWhere(q.Where), q.After, q.Offset, q.Limit, decodeGroup, nil)
	return out, s.translate(ctx, op, err)
}

// CountGroups implements [sdk.GroupStore].
func (s *Store) CountGroups(ctx context.Context, tenantID string, where *sdk.Cond) (int, error) {
	const op = "sqlite.CountGroups"
	n, err := countOf(ctx, s, "groups", tenantID, groupWhere(where), decodeGroup, where.MatchGroup)
	return n, s.translate(ctx, op, err)
}

// group reads a group for a write of it, checking its version when
// expected is not nil.
func (x *wtx) group(op, tenantID, id string, expected *int64) (*sdk.Group, error) {
	var doc []byte
	err := x.row(qGroupGet, tenantID, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "group")
	}
	if err != nil {
		return nil, err
	}
	g, err := decodeGroup(doc)
	if err != nil {
		return nil, err
	}
	if expected != nil && g.Version != *expected {
		return nil, stale(op)
	}
	return g, nil
}

// UpdateGroup implements [sdk.GroupStore].
func (s *Store) UpdateGroup(ctx context.Context, g *sdk.Group, expected int64) error {
	const op = "sqlite.UpdateGroup"
	err := s.write(ctx, op, func(x *wtx) error {
		cur, err := x.group(op, g.TenantID, g.ID, &expected)
		if err != nil {
			return err
		}
		cur.DisplayName, cur.NameKey, cur.ExternalID, cur.Role, cur.UpdatedAt = g.DisplayName, g.NameKey, g.ExternalID, g.Role, g.UpdatedAt
		cur.Version = expected + 1
		args, err := groupArgs(cur)
		return x.put(qGroupUpdate, args, err, func(cause error) error { return x.groupConflict(op, cur, false, cause) })
	})
	if err == nil {
		g.Version = expected + 1
	}
	return err
}

// DeleteGroup implements [sdk.GroupStore]: the group and all its edges in
// one transaction, so no edge outlives it.
func (s *Store) DeleteGroup(ctx context.Context, tenantID, id string, expected int64) error {
	const op = "sqlite.DeleteGroup"
	return s.write(ctx, op, func(x *wtx) error {
		if _, err := x.group(op, tenantID, id, &expected); err != nil {
			return err
		}
		if _, err := x.exec(qGroupDelete, tenantID, id); err != nil {
			return err
		}
		_, err := x.exec(qGroupEdgesDelete, tenantID, id)
		return err
	})
}

// AddGroupMembers implements [sdk.GroupStore]: a lookup of each member, an
// insert of each edge that is not there and the group's new version in
// one transaction; its cost depends on len(memberIDs) only.
func (s *Store) AddGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	const op = "sqlite.AddGroupMembers"
	return s.editEdges(ctx, op, tenantID, groupID, memberIDs, now, qEdgeInsert)
}

// RemoveGroupMembers implements [sdk.GroupStore].
func (s *Store) RemoveGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	const op = "sqlite.RemoveGroupMembers"
	return s.editEdges(ctx, op, tenantID, groupID, memberIDs, now, qEdgeDelete)
}

func (s *Store) editEdges(ctx context.Context, op, tenantID, groupID string, memberIDs []string, now time.Time, q query) (*sdk.Group, int, error) {
	var g *sdk.Group
	n := 0
	err := s.write(ctx, op, func(x *wtx) error {
		var err error
		if g, err = x.group(op, tenantID, groupID, nil); err != nil {
			return err
		}
		if q == qEdgeInsert {
			missing, err := x.missing(tenantID, memberIDs)
			if err != nil {
				return err
			}
			if len(missing) > 0 {
				return sdk.UnknownMembersError(op, missing)
			}
		}
		for _, mid := range memberIDs {
			k, err := x.exec(q, tenantID, groupID, mid)
			if err != nil {
				return err
			}
			n += int(k)
		}
		g.Version++
		g.UpdatedAt = now
		args, err := groupArgs(g)
		if err != nil {
			return err
		}
		// qGroupTouch: tenant, id, version, updated_s, doc.
		_, err = x.exec(qGroupTouch, tenantID, groupID, g.Version, g.UpdatedAt.Unix(), args[len(args)-1])
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return g, n, nil
}

// missing returns the ids among ids that are no member of the tenant.
func (x *wtx) missing(tenantID string, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		ok, err := x.found(qMemberIDTaken, tenantID, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// ListGroupMembers implements [sdk.GroupStore] from the edges' primary
// key (tenant_id, group_id, member_id).
func (s *Store) ListGroupMembers(ctx context.Context, tenantID, groupID, after string, limit int) ([]string, error) {
	const op = "sqlite.ListGroupMembers"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.st.r[qEdgeMembers].QueryContext(ctx, tenantID, groupID, after, sqlLimit(limit))
	out, err := collect(ctx, rows, err, text)
	return out, s.translate(ctx, op, err)
}

// ListMemberGroups implements [sdk.GroupStore] from the edges_member
// index (tenant_id, member_id, group_id).
func (s *Store) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	const op = "sqlite.ListMemberGroups"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []sdk.GroupEdge{}
	for _, mid := range slices.Compact(slices.Sorted(slices.Values(memberIDs))) {
		rows, err := s.st.r[qEdgesOfMember].QueryContext(ctx, tenantID, mid)
		gids, err := collect(ctx, rows, err, text)
		if err != nil {
			return nil, s.translate(ctx, op, err)
		}
		for _, gid := range gids {
			out = append(out, sdk.GroupEdge{GroupID: gid, MemberID: mid})
		}
	}
	return out, nil
}

// DeleteEdges implements [sdk.GroupStore].
func (s *Store) DeleteEdges(ctx context.Context, tenantID string, edges []sdk.GroupEdge) (int, error) {
	const op = "sqlite.DeleteEdges"
	n := 0
	err := s.write(ctx, op, func(x *wtx) error {
		for _, e := range edges {
			k, err := x.exec(qEdgeDelete, tenantID, e.GroupID, e.MemberID)
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	return n, err
}

// MissingMembers implements [sdk.GroupStore].
func (s *Store) MissingMembers(ctx context.Context, tenantID string, ids []string) ([]string, error) {
	const op = "sqlite.MissingMembers"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	found, err := byIDs(ctx, s, "SELECT id FROM members WHERE tenant_id = ? AND id IN (%s)", tenantID, ids, text)
	if err != nil {
		return nil, s.translate(ctx, op, err)
	}
	present := map[string]bool{}
	for _, id := range found {
		present[id] = true
	}
	var out []string
	for _, id := range ids {
		if !present[id] {
			out = append(out, id)
		}
	}
	return out, nil
}
