package sdk

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Group is a named set of a tenant's members, such as a SCIM Group pushed
// by an identity provider. Membership is not a field: it is stored one
// record per (group, member) edge, so a group of 100k members is never
// loaded or rewritten whole. A group may map to a role: a member's role is
// then the highest-ranked role among their mapped groups (see
// [Client.SetGroupRole]).
type Group struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName"`
	// NameKey is DisplayName lower-cased: display names are unique per
	// tenant, compared case-insensitively. The SDK sets it; stores index it.
	NameKey    string `json:"nameKey"`
	ExternalID string `json:"externalId,omitempty"` // id in the identity provider, unique per tenant when set
	// Role is the role membership grants, "" for none.
	Role string `json:"role,omitempty"`
	// Version counts changes to the group's fields and to its membership.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Clone returns a copy of g.
func (g *Group) Clone() *Group {
	if g == nil {
		return nil
	}
	c := *g
	return &c
}

// NormalizeGroupName returns the uniqueness key of a group display name.
func NormalizeGroupName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// GroupEdge is one membership: member MemberID belongs to group GroupID.
type GroupEdge struct {
	GroupID  string
	MemberID string
}

// GroupQuery selects a page of groups.
type GroupQuery struct {
	Where *Cond  // validated by the SDK; see [Cond] for the semantics
	After string // exclusive lower bound on ID; "" for the first page
	// Offset skips this many matching groups after After before the first
	// one returned, as [MemberQuery.Offset] does for members. It is never
	// negative (the SDK checks); 0 skips none.
	Offset int
	Limit  int
}

// GroupStore persists groups and their membership edges; it is part of
// [Store]. Like the rest of the store it knows nothing of policy, returns
// [*Error] values for the outcomes documented and passes context errors
// through.
//
// Every index a store keeps for groups and edges starts with the tenant
// id, and no method may read or write a whole group's membership at once.
type GroupStore interface {
	// CreateGroup stores g. A duplicate NameKey within the tenant returns
	// CodeAlreadyExists with ReasonGroupNameTaken, a duplicate ExternalID
	// CodeAlreadyExists with ReasonExternalIDTaken, a duplicate ID
	// CodeAlreadyExists.
	CreateGroup(ctx context.Context, g *Group) error
	// GetGroup returns the group, or CodeNotFound.
	GetGroup(ctx context.Context, tenantID, id string) (*Group, error)
	// GetGroups returns the groups of the tenant among ids, ordered by ID;
	// ids that are not groups are skipped.
	GetGroups(ctx context.Context, tenantID string, ids []string) ([]*Group, error)
	// ListGroups returns up to q.Limit groups of the tenant matching
	// q.Where whose ID is greater than q.After, ordered by ID, after
	// skipping the first q.Offset of them (an Offset at or past the end
	// returns none, without error). Every store MUST implement Offset, with
	// the costs described for [MemberStore.ListMembers].
	ListGroups(ctx context.Context, tenantID string, q GroupQuery) ([]*Group, error)
	// CountGroups returns how many groups of the tenant match where.
	CountGroups(ctx context.Context, tenantID string, where *Cond) (int, error)
	// UpdateGroup replaces the stored DisplayName, NameKey, ExternalID, Role
	// and UpdatedAt with g's if the stored Version equals expectedVersion,
	// setting Version (and g.Version) to expectedVersion+1. Outcomes:
	// CodeNotFound; CodeFailedPrecondition with ReasonVersionMismatch;
	// the uniqueness errors of CreateGroup (nothing written).
	UpdateGroup(ctx context.Context, g *Group, expectedVersion int64) error
	// DeleteGroup deletes the group if its Version equals expectedVersion,
	// then every edge of it. Outcomes as for UpdateGroup. Edges that a crash
	// between the two steps leaves behind are harmless and removed by
	// [Client.ReconcileGroups].
	DeleteGroup(ctx context.Context, tenantID, id string, expectedVersion int64) error
	// AddGroupMembers adds an edge from the group to each of memberIDs that
	// is not already one (idempotent: existing edges are kept as they are),
	// bumps the group's Version, sets its UpdatedAt to now and returns the
	// group after, with the number of edges created. A missing group
	// returns CodeNotFound; an id that is no member of the tenant returns
	// the error of [UnknownMembersError]; either way no edge is left
	// written. It MUST cost the same whatever the size of the group. The
	// SDK passes at most 1000 distinct ids, sorted.
	AddGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*Group, int, error)
	// RemoveGroupMembers deletes the edges from the group to memberIDs
	// (ids without one are ignored), bumps Version and UpdatedAt and returns
	// the group after, with the number of edges deleted; CodeNotFound for a
	// missing group.
	RemoveGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*Group, int, error)
	// ListGroupMembers returns the ids of up to limit members of the group
	// greater than after, in ascending order. A missing group has none.
	ListGroupMembers(ctx context.Context, tenantID, groupID, after string, limit int) ([]string, error)
	// ListMemberGroups returns the edges of the given members, ordered by
	// member id then group id.
	ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]GroupEdge, error)
	// DeleteEdges deletes the given edges wherever they are (without
	// touching any group) and returns how many existed. It is for cleaning
	// up after deleted members and groups.
	DeleteEdges(ctx context.Context, tenantID string, edges []GroupEdge) (int, error)
	// MissingMembers returns, in the order given, the ids among ids that are
	// not members of the tenant.
	MissingMembers(ctx context.Context, tenantID string, ids []string) ([]string, error)
}

// Events and actions of groups.
const (
	EventGroupCreated        EventType = "group.created"
	EventGroupUpdated        EventType = "group.updated"
	EventGroupDeleted        EventType = "group.deleted"
	EventGroupMembersAdded   EventType = "group.members_added"
	EventGroupMembersRemoved EventType = "group.members_removed"
	EventGroupRoleMapped     EventType = "group.role_mapped"

	// ActionManageGroups is creating, changing and deleting groups and
	// their membership: members holding team:manage, and provisioning
	// principals (SCIM tokens, HR sync, the host system), may.
	ActionManageGroups Action = "group.manage"
)

// Reasons of group and token refusals.
const (
	ReasonGroupNameTaken Reason = "group_name_taken"
	ReasonUnknownMember  Reason = "unknown_member"
)

// Batch sizes: how many ids one store call carries.
const edgeBatch = 1000

// checkGroups decides ActionManageGroups. Provisioning principals and the
// system need no read; a member actor is checked on fresh data.
func (c *Client) checkGroups(ctx context.Context, op, tenantID string, actor Actor) error {
	switch actor.Kind {
	case ActorToken, ActorSync, ActorSystem:
		return nil
	case ActorMember:
		p, err := c.Policy(ctx, actor, tenantID)
		if err != nil {
			return withOp(op, err)
		}
		return p.Check(ActionManageGroups, nil).Err(op)
	}
	return deny(ReasonNotMember).Err(op)
}

// recordDetail writes an audit event with explicit before/after fields and
// notifies observers, like record does for member and tenant events.
func (c *Client) recordDetail(ctx context.Context, ev Event, target string, before, after map[string]string) {
	a := c.auditEvent(ev)
	a.TargetID, a.Before, a.After = target, before, after
	c.publish(ctx, ev, a)
}

func groupFields(g *Group) map[string]string {
	if g == nil {
		return nil
	}
	f := map[string]string{"displayName": g.DisplayName}
	if g.ExternalID != "" {
		f["externalId"] = g.ExternalID
	}
	if g.Role != "" {
		f["role"] = g.Role
	}
	return f
}

// idList renders member ids for an audit event: the first 50 and a count.
func idList(ids []string) map[string]string {
	const show = 50
	s := strings.Join(ids[:min(len(ids), show)], ",")
	if len(ids) > show {
		s += fmt.Sprintf(",… (%d in all)", len(ids))
	}
	return map[string]string{"members": s, "count": strconv.Itoa(len(ids))}
}

// CreateGroupRequest describes a new group and, optionally, its first
// members.
type CreateGroupRequest struct {
	TenantID    string `validate:"required,max=64"`
	DisplayName string `validate:"required,max=256,utf8"`
	ExternalID  string `validate:"max=256,utf8"`
	// Members are member ids; an unknown one refuses the whole request
	// (CodeInvalidArgument, ReasonUnknownMember) and nothing is written.
	Members []string
}

// CreateGroup creates a group. Display names are unique per tenant,
// case-insensitively (CodeAlreadyExists, ReasonGroupNameTaken), as are
// external ids.
func (c *Client) CreateGroup(ctx context.Context, actor Actor, req CreateGroupRequest) (*Group, error) {
	const op = "sdk.CreateGroup"
	req.DisplayName = strings.TrimSpace(req.DisplayName)
	if err := check(op, &req); err != nil {
		return nil, err
	}
	if _, err := c.getTenant(ctx, op, req.TenantID); err != nil {
		return nil, err
	}
	if err := c.checkGroups(ctx, op, req.TenantID, actor); err != nil {
		return nil, err
	}
	members, err := c.checkMembers(ctx, op, req.TenantID, req.Members)
	if err != nil {
		return nil, err
	}
	now := c.Now()
	g := &Group{
		ID: c.newID(), TenantID: req.TenantID, DisplayName: req.DisplayName, NameKey: NormalizeGroupName(req.DisplayName),
		ExternalID: req.ExternalID, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := c.store.CreateGroup(ctx, g); err != nil {
		return nil, withOp(op, err)
	}
	c.recordDetail(ctx, Event{Type: EventGroupCreated, TenantID: g.TenantID, Actor: actor}, g.ID, nil, groupFields(g))
	if len(members) == 0 {
		return g, nil
	}
	return c.changeEdges(ctx, op, actor, g.TenantID, g.ID, members, true)
}

// checkMembers dedupes and sorts ids, checks they are well formed and
// members of the tenant, and returns them.
func (c *Client) checkMembers(ctx context.Context, op string, tenantID string, ids []string) ([]string, error) {
	out, err := memberIDList(op, ids)
	if err != nil {
		return nil, err
	}
	return out, c.requireMembers(ctx, op, tenantID, out)
}

// memberIDList dedupes and sorts ids and checks they are well formed.
func memberIDList(op string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := slices.Clone(ids)
	for _, id := range out {
		if id == "" || len(id) > 128 || !utf8.ValidString(id) {
			return nil, &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonUnknownMember, Field: "Members",
				Message: fmt.Sprintf("%.140q is not a member id", id)}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// requireMembers returns the error of UnknownMembersError when an id of
// out is not a member of the tenant.
func (c *Client) requireMembers(ctx context.Context, op string, tenantID string, out []string) error {
	for b := 0; b < len(out); b += edgeBatch {
		missing, err := c.store.MissingMembers(ctx, tenantID, out[b:min(b+edgeBatch, len(out))])
		if err != nil {
			return withOp(op, err)
		}
		if len(missing) > 0 {
			return UnknownMembersError(op, missing)
		}
	}
	return nil
}

// UnknownMembersError returns the refusal of a membership change that
// names ids of no member of the tenant: CodeInvalidArgument with
// ReasonUnknownMember on field Members, its message naming the first of
// missing and counting the others. Stores return it from
// [GroupStore.AddGroupMembers].
func UnknownMembersError(op string, missing []string) error {
	msg := "a member does not exist in this tenant"
	switch {
	case len(missing) == 1:
		msg = fmt.Sprintf("member %.140q does not exist in this tenant", missing[0])
	case len(missing) > 1:
		msg = fmt.Sprintf("members %.140q and %d other(s) do not exist in this tenant", missing[0], len(missing)-1)
	}
	return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonUnknownMember, Field: "Members", Message: msg}
}

// RequireMembers returns nil when every id is a member of the tenant, and
// otherwise the CodeInvalidArgument error with ReasonUnknownMember, naming
// an unknown one, that AddGroupMembers would return. A caller about to make
// several writes uses it to refuse before the first.
func (c *Client) RequireMembers(ctx context.Context, tenantID string, ids []string) error {
	const op = "sdk.RequireMembers"
	_, err := c.checkMembers(ctx, op, tenantID, ids)
	return err
}

// Group returns a group of a tenant. Reads are not policy-checked.
func (c *Client) Group(ctx context.Context, tenantID, groupID string) (*Group, error) {
	const op = "sdk.Group"
	g, err := c.store.GetGroup(ctx, tenantID, groupID)
	return g, withOp(op, err)
}

// GroupSearch selects a page of groups by a [Cond] over group fields.
type GroupSearch struct {
	Where *Cond
	ListOptions
	// Offset pages by position, as SCIM's startIndex does: the page starts
	// after skipping this many matching groups, counted from the Cursor
	// when one is set. It costs one store query at any position and
	// shifts with writes, as [MemberSearch.Offset] explains; walk a whole
	// list by NextCursor when you can. A negative Offset is a
	// CodeInvalidArgument error and nothing is read.
	Offset int
	// Total asks for the number of groups matching Where.
	Total bool
}

// SearchGroups returns a page of the tenant's groups matching s.Where in id
// order and, when s.Total is set, how many match in all (otherwise -1).
func (c *Client) SearchGroups(ctx context.Context, tenantID string, s GroupSearch) (*Page[*Group], int, error) {
	const op = "sdk.SearchGroups"
	size, after, err := pageParams(op, s.ListOptions)
	if err != nil {
		return nil, 0, err
	}
	if s.Offset < 0 {
		return nil, 0, invalid(op, "Offset", "must not be negative")
	}
	if err := s.Where.Validate(true); err != nil {
		return nil, 0, withOp(op, err)
	}
	total := -1
	if _, id, rest, ok := s.Where.pinned(FieldID); ok {
		g, err := c.store.GetGroup(ctx, tenantID, id)
		if err != nil && !isNotFound(err) {
			return nil, 0, withOp(op, err)
		}
		items := []*Group{}
		if s.Total {
			total = 0
		}
		if g != nil && rest.MatchGroup(g) {
			if s.Total {
				total = 1
			}
			if g.ID > after && s.Offset == 0 {
				items = append(items, g)
			}
		}
		return &Page[*Group]{Items: items}, total, nil
	}
	groups, err := c.store.ListGroups(ctx, tenantID, GroupQuery{Where: s.Where, After: after, Offset: s.Offset, Limit: size + 1})
	if err != nil {
		return nil, 0, withOp(op, err)
	}
	if s.Total {
		if total, err = c.store.CountGroups(ctx, tenantID, s.Where); err != nil {
			return nil, 0, withOp(op, err)
		}
	}
	return makePage(groups, size, func(g *Group) string { return g.ID }), total, nil
}

// CountGroupsMatching returns how many of the tenant's groups match where:
// the Total of [Client.SearchGroups] without a page, one store command.
func (c *Client) CountGroupsMatching(ctx context.Context, tenantID string, where *Cond) (int, error) {
	const op = "sdk.CountGroupsMatching"
	if err := where.Validate(true); err != nil {
		return 0, withOp(op, err)
	}
	n, err := c.store.CountGroups(ctx, tenantID, where)
	return n, withOp(op, err)
}

// ListGroups returns a page of the tenant's groups in creation order.
func (c *Client) ListGroups(ctx context.Context, tenantID string, opts ListOptions) (*Page[*Group], error) {
	p, _, err := c.SearchGroups(ctx, tenantID, GroupSearch{ListOptions: opts})
	return p, err
}

// UpdateGroupRequest changes a group's display name or external id. Nil
// fields are left as they are.
type UpdateGroupRequest struct {
	TenantID    string  `validate:"required,max=64"`
	GroupID     string  `validate:"required,max=128"`
	DisplayName *string `validate:"omitempty,min=1,max=256,utf8"`
	ExternalID  *string `validate:"omitempty,max=256,utf8"`
	// ExpectedVersion, when non-zero, refuses the update with
	// ReasonVersionMismatch if the group changed since it was read.
	ExpectedVersion int64
}

// UpdateGroup renames a group or changes its external id. An update that
// changes nothing writes nothing.
func (c *Client) UpdateGroup(ctx context.Context, actor Actor, req UpdateGroupRequest) (*Group, error) {
	const op = "sdk.UpdateGroup"
	if req.DisplayName != nil {
		n := strings.TrimSpace(*req.DisplayName)
		req.DisplayName = &n
	}
	if err := check(op, &req); err != nil {
		return nil, err
	}
	if err := c.checkGroups(ctx, op, req.TenantID, actor); err != nil {
		return nil, err
	}
	return c.mutateGroup(ctx, op, actor, req.TenantID, req.GroupID, req.ExpectedVersion, EventGroupUpdated,
		func(g *Group) error {
			if req.DisplayName != nil {
				g.DisplayName = *req.DisplayName
				g.NameKey = NormalizeGroupName(g.DisplayName)
			}
			if req.ExternalID != nil {
				g.ExternalID = *req.ExternalID
			}
			return nil
		})
}

// mutateGroup runs a read-modify-write cycle on a group's own fields with
// optimistic concurrency, like mutate does for members.
func (c *Client) mutateGroup(ctx context.Context, op string, actor Actor, tenantID, groupID string, expected int64,
	ev EventType, fn func(g *Group) error) (*Group, error) {
	for range maxRetries {
		before, err := c.store.GetGroup(ctx, tenantID, groupID)
		if err != nil {
			return nil, withOp(op, err)
		}
		if expected != 0 && before.Version != expected {
			return nil, errStale(op)
		}
		g := before.Clone()
		if err := fn(g); err != nil {
			return nil, err
		}
		if *g == *before {
			return before, nil
		}
		g.UpdatedAt = c.Now()
		err = c.store.UpdateGroup(ctx, g, before.Version)
		if ReasonOf(err) == ReasonVersionMismatch && expected == 0 {
			continue
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		c.recordDetail(ctx, Event{Type: ev, TenantID: tenantID, Actor: actor}, g.ID, groupFields(before), groupFields(g))
		return g, nil
	}
	return nil, errStale(op)
}

// DeleteGroup deletes a group and its membership (the members stay).
// expectedVersion, when non-zero, refuses the delete with
// ReasonVersionMismatch if the group changed since it was read. Members
// whose role came from the group get their role recomputed.
func (c *Client) DeleteGroup(ctx context.Context, actor Actor, tenantID, groupID string, expectedVersion int64) error {
	const op = "sdk.DeleteGroup"
	if err := c.checkGroups(ctx, op, tenantID, actor); err != nil {
		return err
	}
	for range maxRetries {
		g, err := c.store.GetGroup(ctx, tenantID, groupID)
		if err != nil {
			return withOp(op, err)
		}
		if expectedVersion != 0 && g.Version != expectedVersion {
			return errStale(op)
		}
		var affected []string
		if g.Role != "" {
			if affected, err = c.allGroupMembers(ctx, op, tenantID, groupID); err != nil {
				return err
			}
		}
		err = c.store.DeleteGroup(ctx, tenantID, groupID, g.Version)
		if ReasonOf(err) == ReasonVersionMismatch && expectedVersion == 0 {
			continue
		}
		if err != nil {
			return withOp(op, err)
		}
		c.recordDetail(ctx, Event{Type: EventGroupDeleted, TenantID: tenantID, Actor: actor}, g.ID, groupFields(g), nil)
		return c.recomputeRoles(ctx, op, tenantID, actor, affected)
	}
	return errStale(op)
}

func (c *Client) allGroupMembers(ctx context.Context, op string, tenantID, groupID string) ([]string, error) {
	var all []string
	after := ""
	for {
		ids, err := c.store.ListGroupMembers(ctx, tenantID, groupID, after, edgeBatch)
		if err != nil {
			return nil, withOp(op, err)
		}
		all = append(all, ids...)
		if len(ids) < edgeBatch {
			return all, nil
		}
		after = ids[len(ids)-1]
	}
}

// AddGroupMembers adds members to a group; members already in it are
// left as they are. An unknown member refuses the whole call
// (CodeInvalidArgument, ReasonUnknownMember, naming it) and nothing is
// written. Adding one member costs the same whatever the size of the
// group. It returns the group after the change.
func (c *Client) AddGroupMembers(ctx context.Context, actor Actor, tenantID, groupID string, memberIDs []string) (*Group, error) {
	const op = "sdk.AddGroupMembers"
	if err := c.checkGroups(ctx, op, tenantID, actor); err != nil {
		return nil, err
	}
	ids, err := memberIDList(op, memberIDs)
	if err != nil {
		return nil, err
	}
	// The store refuses unknown members within one batch; ids spanning
	// several are all checked before the first is written.
	if len(ids) > edgeBatch {
		if err := c.requireMembers(ctx, op, tenantID, ids); err != nil {
			return nil, err
		}
	}
	if len(ids) == 0 {
		g, err := c.store.GetGroup(ctx, tenantID, groupID)
		return g, withOp(op, err)
	}
	return c.changeEdges(ctx, op, actor, tenantID, groupID, ids, true)
}

// writeEdges adds (or, with add false, removes) checked member ids in
// batches of edgeBatch, auditing each batch that changed something. It
// leaves roles alone; changeEdges recomputes them.
func (c *Client) writeEdges(ctx context.Context, op string, actor Actor, tenantID, groupID string, ids []string, add bool) (*Group, error) {
	var g *Group
	for batch := range slices.Chunk(ids, edgeBatch) {
		var n int
		var err error
		ev, before, after := EventGroupMembersAdded, map[string]string(nil), idList(batch)
		if add {
			g, n, err = c.store.AddGroupMembers(ctx, tenantID, groupID, batch, c.Now())
		} else {
			g, n, err = c.store.RemoveGroupMembers(ctx, tenantID, groupID, batch, c.Now())
			ev, before, after = EventGroupMembersRemoved, after, nil
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		if n > 0 {
			c.recordDetail(ctx, Event{Type: ev, TenantID: tenantID, Actor: actor, MemberID: soleID(batch)}, g.ID, before, after)
		}
	}
	return g, nil
}

// changeEdges is writeEdges followed, when the group maps to a role, by
// recomputing the roles of the members it touched.
func (c *Client) changeEdges(ctx context.Context, op string, actor Actor, tenantID, groupID string, ids []string, add bool) (*Group, error) {
	g, err := c.writeEdges(ctx, op, actor, tenantID, groupID, ids, add)
	if err != nil {
		return nil, err
	}
	if g.Role != "" {
		if err := c.recomputeRoles(ctx, op, tenantID, actor, ids); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func soleID(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return ""
}

// RemoveGroupMembers removes members from a group; ids that are not in it
// are ignored. It returns the group after the change.
func (c *Client) RemoveGroupMembers(ctx context.Context, actor Actor, tenantID, groupID string, memberIDs []string) (*Group, error) {
	const op = "sdk.RemoveGroupMembers"
	if err := c.checkGroups(ctx, op, tenantID, actor); err != nil {
		return nil, err
	}
	ids := slices.Clone(memberIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		g, err := c.store.GetGroup(ctx, tenantID, groupID)
		return g, withOp(op, err)
	}
	return c.changeEdges(ctx, op, actor, tenantID, groupID, ids, false)
}

// ReplaceGroupMembers makes memberIDs the group's exact membership (SCIM's
// full member replacement). It checks every id first (an unknown one
// refuses the call and nothing is written), then walks the stored
// membership in id order, merging it with the sorted new list: only the
// difference is written, in batches, and the stored list is never loaded
// whole. It returns the group after the change.
func (c *Client) ReplaceGroupMembers(ctx context.Context, actor Actor, tenantID, groupID string, memberIDs []string) (*Group, error) {
	const op = "sdk.ReplaceGroupMembers"
	if err := c.checkGroups(ctx, op, tenantID, actor); err != nil {
		return nil, err
	}
	want, err := c.checkMembers(ctx, op, tenantID, memberIDs)
	if err != nil {
		return nil, err
	}
	g, err := c.store.GetGroup(ctx, tenantID, groupID)
	if err != nil {
		return nil, withOp(op, err)
	}
	var add, remove, changed []string
	flush := func(final bool) error {
		if len(add) >= edgeBatch || (final && len(add) > 0) {
			ng, err := c.writeEdges(ctx, op, actor, tenantID, groupID, add, true)
			if err != nil {
				return err
			}
			g, changed, add = ng, append(changed, add...), nil
		}
		if len(remove) >= edgeBatch || (final && len(remove) > 0) {
			ng, err := c.writeEdges(ctx, op, actor, tenantID, groupID, remove, false)
			if err != nil {
				return err
			}
			g, changed, remove = ng, append(changed, remove...), nil
		}
		return nil
	}
	i, after := 0, ""
	for {
		have, err := c.store.ListGroupMembers(ctx, tenantID, groupID, after, edgeBatch)
		if err != nil {
			return nil, withOp(op, err)
		}
		for _, id := range have {
			for i < len(want) && want[i] < id {
				add = append(add, want[i])
				i++
			}
			if i < len(want) && want[i] == id {
				i++
			} else {
				remove = append(remove, id)
			}
		}
		if err := flush(false); err != nil {
			return nil, err
		}
		if len(have) < edgeBatch {
			break
		}
		after = have[len(have)-1]
	}
	add = append(add, want[i:]...)
	if err := flush(true); err != nil {
		return nil, err
	}
	if g.Role != "" && len(changed) > 0 {
		if err := c.recomputeRoles(ctx, op, tenantID, actor, changed); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// GroupMembers returns a page of the ids of a group's members, in
// ascending id order. Edges left behind by deleted members are skipped (and
// cleaned up on the way).
func (c *Client) GroupMembers(ctx context.Context, tenantID, groupID string, opts ListOptions) (*Page[string], error) {
	const op = "sdk.GroupMembers"
	size, after, err := pageParams(op, opts)
	if err != nil {
		return nil, err
	}
	ids, err := c.store.ListGroupMembers(ctx, tenantID, groupID, after, size+1)
	if err != nil {
		return nil, withOp(op, err)
	}
	page := &Page[string]{Items: ids}
	if len(ids) > size {
		page.Items = ids[:size]
		page.NextCursor = encodeCursor(ids[size-1])
	}
	if len(page.Items) == 0 {
		page.Items = []string{}
		return page, nil
	}
	missing, err := c.store.MissingMembers(ctx, tenantID, page.Items)
	if err != nil {
		return nil, withOp(op, err)
	}
	if len(missing) > 0 {
		edges := make([]GroupEdge, len(missing))
		for i, id := range missing {
			edges[i] = GroupEdge{GroupID: groupID, MemberID: id}
		}
		if _, err := c.store.DeleteEdges(context.WithoutCancel(ctx), tenantID, edges); err != nil {
			c.log.Warn("roster: removing edges of deleted members failed", "tenant", tenantID, "group", groupID, "err", err)
		}
		page.Items = slices.DeleteFunc(slices.Clone(page.Items), func(id string) bool { return slices.Contains(missing, id) })
	}
	return page, nil
}

// GroupIDsOf returns the ids of the groups each of memberIDs belongs to,
// keyed by member id (members in no group are absent), with one store call.
func (c *Client) GroupIDsOf(ctx context.Context, tenantID string, memberIDs []string) (map[string][]string, error) {
	const op = "sdk.GroupIDsOf"
	out := map[string][]string{}
	if len(memberIDs) == 0 {
		return out, nil
	}
	edges, err := c.store.ListMemberGroups(ctx, tenantID, memberIDs)
	if err != nil {
		return nil, withOp(op, err)
	}
	for _, e := range edges {
		out[e.MemberID] = append(out[e.MemberID], e.GroupID)
	}
	return out, nil
}

// InlineMemberGroups is an optional capability of a [Store] that keeps a
// member's memberships on the member: every member it returns carries
// them in Member.Groups (an empty or nil slice: in no group), so that a
// page of members comes with its groups in the same query.
type InlineMemberGroups interface {
	// MemberGroupsInline reports whether the members the store returns
	// carry their groups (a store wrapping another answers for it).
	MemberGroupsInline() bool
}

// GroupIDsOfMembers is [Client.GroupIDsOf] for members already read: on a
// store with [InlineMemberGroups] it answers from their Groups, with no
// store call; otherwise it costs the one call of GroupIDsOf.
func (c *Client) GroupIDsOfMembers(ctx context.Context, tenantID string, ms []*Member) (map[string][]string, error) {
	if s, ok := c.store.(InlineMemberGroups); ok && s.MemberGroupsInline() {
		out := map[string][]string{}
		for _, m := range ms {
			if len(m.Groups) > 0 {
				out[m.ID] = slices.Clone(m.Groups)
			}
		}
		return out, nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return c.GroupIDsOf(ctx, tenantID, ids)
}

// GroupsOf returns the groups a member belongs to, in id order.
func (c *Client) GroupsOf(ctx context.Context, tenantID, memberID string) ([]*Group, error) {
	const op = "sdk.GroupsOf"
	edges, err := c.store.ListMemberGroups(ctx, tenantID, []string{memberID})
	if err != nil {
		return nil, withOp(op, err)
	}
	ids := make([]string, len(edges))
	for i, e := range edges {
		ids[i] = e.GroupID
	}
	if len(ids) == 0 {
		return []*Group{}, nil
	}
	groups, err := c.store.GetGroups(ctx, tenantID, ids)
	return groups, withOp(op, err)
}

// RemoveFromAllGroups takes a member out of every group and recomputes
// their role. Removing a member already drops their memberships; this is
// for a member who stays.
func (c *Client) RemoveFromAllGroups(ctx context.Context, actor Actor, tenantID, memberID string) error {
	const op = "sdk.RemoveFromAllGroups"
	if err := c.checkGroups(ctx, op, tenantID, actor); err != nil {
		return err
	}
	edges, err := c.store.ListMemberGroups(ctx, tenantID, []string{memberID})
	if err != nil || len(edges) == 0 {
		return withOp(op, err)
	}
	n, err := c.store.DeleteEdges(ctx, tenantID, edges)
	if err != nil {
		return withOp(op, err)
	}
	if n > 0 {
		groups := make([]string, len(edges))
		for i, e := range edges {
			groups[i] = e.GroupID
		}
		c.recordDetail(ctx, Event{Type: EventGroupMembersRemoved, TenantID: tenantID, Actor: actor, MemberID: memberID},
			memberID, map[string]string{"groups": strings.Join(groups, ",")}, nil)
	}
	if _, err := c.store.GetMember(ctx, tenantID, memberID); err == nil {
		return c.recomputeRoles(ctx, op, tenantID, actor, []string{memberID})
	}
	return nil
}

// dropMemberEdges takes a member that no longer exists out of every group
// it was in, without policy checks or audit (the removal was audited):
// each group loses the edge and gets a new version, so that an identity
// provider's cached copy (ETag, meta.version, lastModified) is seen to be
// stale. before is the member as read before its deletion: a store that
// keeps memberships on the member ([InlineMemberGroups]) has them there. It
// is for the member-removal paths of the SDK; a failure only leaves edges
// that reads skip and ReconcileGroups removes, or a group whose version
// did not move.
func (c *Client) dropMemberEdges(ctx context.Context, tenantID string, before *Member) {
	ctx = context.WithoutCancel(ctx)
	groups := before.Groups
	if s, ok := c.store.(InlineMemberGroups); !ok || !s.MemberGroupsInline() {
		edges, err := c.store.ListMemberGroups(ctx, tenantID, []string{before.ID})
		if err != nil {
			c.log.Warn("roster: reading a removed member's group memberships failed", "tenant", tenantID, "member", before.ID, "err", err)
			return
		}
		groups = groups[:0:0]
		for _, e := range edges {
			groups = append(groups, e.GroupID)
		}
	}
	for _, g := range groups {
		if _, _, err := c.store.RemoveGroupMembers(ctx, tenantID, g, []string{before.ID}, c.Now()); err != nil && !isNotFound(err) {
			c.log.Warn("roster: removing a removed member from a group failed", "tenant", tenantID, "member", before.ID, "group", g, "err", err)
		}
	}
}

// SetGroupRole maps a group to a role ("" removes the mapping). From then
// on a member's role is the highest-ranked role among the groups they
// belong to that map to one, or the tenant's default role when none does;
// the members of the group get their role recomputed at once. The owner's
// role never changes this way, and the owner role cannot be mapped.
// Mapping groups to roles is a tenant setting: only the owner or the host
// system may.
func (c *Client) SetGroupRole(ctx context.Context, actor Actor, tenantID, groupID, role string) (*Group, error) {
	const op = "sdk.SetGroupRole"
	p, err := c.Policy(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	if err := p.Check(ActionManageRoles, nil).Err(op); err != nil {
		return nil, err
	}
	t := p.Tenant()
	if role != "" {
		if t.Role(role) == nil {
			return nil, &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonUnknownRole, Field: "Role", Message: fmt.Sprintf("role %q does not exist", role)}
		}
		if role == t.OwnerRole() {
			return nil, &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonOwnerRole, Field: "Role", Message: "the owner role can only be given by transferring ownership"}
		}
	}
	var old string
	g, err := c.mutateGroup(ctx, op, actor, tenantID, groupID, 0, EventGroupRoleMapped, func(g *Group) error {
		old = g.Role
		g.Role = role
		return nil
	})
	if err != nil || old == role {
		return g, err
	}
	after := ""
	for {
		ids, err := c.store.ListGroupMembers(ctx, tenantID, groupID, after, edgeBatch)
		if err != nil {
			return nil, withOp(op, err)
		}
		if err := c.recomputeRoles(ctx, op, tenantID, actor, ids); err != nil {
			return nil, err
		}
		if len(ids) < edgeBatch {
			return g, nil
		}
		after = ids[len(ids)-1]
	}
}

// RoleFromGroups returns the role a member holds through groups: the
// highest-ranked mapped role among groups, or the tenant's default role
// when none maps to one (or maps to a role the tenant no longer has).
func RoleFromGroups(t *Tenant, groups []*Group) string {
	best := ""
	bestRank := -1
	for _, g := range groups {
		if g.Role == "" || g.Role == t.OwnerRole() {
			continue
		}
		if r := t.Role(g.Role); r != nil && r.Rank > bestRank {
			best, bestRank = r.Name, r.Rank
		}
	}
	if best == "" {
		return t.DefaultRole()
	}
	return best
}

// recomputeRoles sets each member's role to the one their groups give, in
// batches, skipping the owner and members that are gone.
func (c *Client) recomputeRoles(ctx context.Context, op, tenantID string, actor Actor, memberIDs []string) error {
	if len(memberIDs) == 0 {
		return nil
	}
	t, err := c.getTenant(ctx, op, tenantID)
	if err != nil {
		return err
	}
	for b := 0; b < len(memberIDs); b += edgeBatch / 2 {
		batch := memberIDs[b:min(b+edgeBatch/2, len(memberIDs))]
		edges, err := c.store.ListMemberGroups(ctx, tenantID, batch)
		if err != nil {
			return withOp(op, err)
		}
		var gids []string
		for _, e := range edges {
			gids = append(gids, e.GroupID)
		}
		slices.Sort(gids)
		groups, err := c.store.GetGroups(ctx, tenantID, slices.Compact(gids))
		if err != nil {
			return withOp(op, err)
		}
		byID := make(map[string]*Group, len(groups))
		for _, g := range groups {
			byID[g.ID] = g
		}
		of := map[string][]*Group{}
		for _, e := range edges {
			if g := byID[e.GroupID]; g != nil {
				of[e.MemberID] = append(of[e.MemberID], g)
			}
		}
		for _, id := range batch {
			if id == t.OwnerID {
				continue
			}
			if _, err := c.setRole(ctx, op, t, id, RoleFromGroups(t, of[id]), actor); err != nil && !isNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// GroupReconcileReport says what [Client.ReconcileGroups] repaired.
type GroupReconcileReport struct {
	TenantID     string
	EdgesRemoved int // edges of deleted members or groups
	RolesChanged int // members whose role disagreed with their mapped groups
}

// ReconcileGroups repairs what crashes and races can leave behind in a
// tenant's groups: edges of deleted members or deleted groups, and roles
// of members in at least one mapped group that disagree with the mapping
// (members in no mapped group keep the role they were given by hand). It
// walks every group and every member once, in batches, and is safe to run
// at any time.
func (c *Client) ReconcileGroups(ctx context.Context, tenantID string) (*GroupReconcileReport, error) {
	const op = "sdk.ReconcileGroups"
	t, err := c.getTenant(ctx, op, tenantID)
	if err != nil {
		return nil, err
	}
	rep := &GroupReconcileReport{TenantID: tenantID}
	mapped, err := c.store.CountGroups(ctx, tenantID, Present(FieldRole))
	if err != nil {
		return nil, withOp(op, err)
	}
	// Edges of deleted members: walk each group's membership.
	gafter := ""
	for {
		groups, err := c.store.ListGroups(ctx, tenantID, GroupQuery{After: gafter, Limit: 100})
		if err != nil {
			return nil, withOp(op, err)
		}
		for _, g := range groups {
			after := ""
			for {
				ids, err := c.store.ListGroupMembers(ctx, tenantID, g.ID, after, edgeBatch)
				if err != nil {
					return nil, withOp(op, err)
				}
				missing, err := c.store.MissingMembers(ctx, tenantID, ids)
				if err != nil {
					return nil, withOp(op, err)
				}
				if len(missing) > 0 {
					edges := make([]GroupEdge, len(missing))
					for i, id := range missing {
						edges[i] = GroupEdge{GroupID: g.ID, MemberID: id}
					}
					n, err := c.store.DeleteEdges(ctx, tenantID, edges)
					if err != nil {
						return nil, withOp(op, err)
					}
					rep.EdgesRemoved += n
				}
				if len(ids) < edgeBatch {
					break
				}
				after = ids[len(ids)-1]
			}
		}
		if len(groups) < 100 {
			break
		}
		gafter = groups[len(groups)-1].ID
	}
	// Edges of deleted groups, and roles: walk the members.
	after := ""
	for {
		ms, err := c.store.ListMembers(ctx, tenantID, MemberQuery{After: after, Limit: edgeBatch / 2})
		if err != nil {
			return nil, withOp(op, err)
		}
		ids := make([]string, len(ms))
		for i, m := range ms {
			ids[i] = m.ID
		}
		edges, err := c.store.ListMemberGroups(ctx, tenantID, ids)
		if err != nil {
			return nil, withOp(op, err)
		}
		var gids []string
		for _, e := range edges {
			gids = append(gids, e.GroupID)
		}
		slices.Sort(gids)
		groups, err := c.store.GetGroups(ctx, tenantID, slices.Compact(gids))
		if err != nil {
			return nil, withOp(op, err)
		}
		byID := map[string]*Group{}
		for _, g := range groups {
			byID[g.ID] = g
		}
		var orphans []GroupEdge
		of := map[string][]*Group{}
		for _, e := range edges {
			if g := byID[e.GroupID]; g != nil {
				of[e.MemberID] = append(of[e.MemberID], g)
			} else {
				orphans = append(orphans, e)
			}
		}
		if len(orphans) > 0 {
			n, err := c.store.DeleteEdges(ctx, tenantID, orphans)
			if err != nil {
				return nil, withOp(op, err)
			}
			rep.EdgesRemoved += n
		}
		if mapped > 0 {
			for _, m := range ms {
				if m.ID == t.OwnerID {
					continue
				}
				inMapped := slices.ContainsFunc(of[m.ID], func(g *Group) bool { return g.Role != "" })
				if !inMapped {
					continue // roles of members outside mapped groups are managed by hand
				}
				changed, err := c.setRole(ctx, op, t, m.ID, RoleFromGroups(t, of[m.ID]), SystemActor())
				if err != nil && !isNotFound(err) {
					return nil, err
				}
				if changed {
					rep.RolesChanged++
				}
			}
		}
		if len(ms) < edgeBatch/2 {
			return rep, nil
		}
		after = ms[len(ms)-1].ID
	}
}
