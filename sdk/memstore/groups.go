package memstore

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"
	"weak"

	"github.com/rosterhq/roster/sdk"
)

var (
	_ sdk.GroupStore = (*Store)(nil)
	_ sdk.TokenStore = (*Store)(nil)
)

// extra holds the state of the optional capabilities (groups, tokens). It
// lives beside the Store rather than in it so that those capabilities stay
// in their own files; every access happens under the Store's mutex, so
// group, token and member writes are atomic with respect to each other.
type extra struct {
	groups map[string]*tenantGroups // by tenant id
	tokens map[string]*tenantTokens // by tenant id
}

// extras maps each Store (weakly, so a dropped store is collected) to its
// extra state.
var extras sync.Map // weak.Pointer[Store] → *extra

func (s *Store) ext() *extra {
	wp := weak.Make(s)
	if e, ok := extras.Load(wp); ok {
		return e.(*extra)
	}
	e, loaded := extras.LoadOrStore(wp, &extra{groups: map[string]*tenantGroups{}, tokens: map[string]*tenantTokens{}})
	if !loaded {
		runtime.AddCleanup(s, func(wp weak.Pointer[Store]) { extras.Delete(wp) }, wp)
	}
	return e.(*extra)
}

type tenantGroups struct {
	byID     map[string]*sdk.Group
	ids      idSet
	byName   map[string]string
	byExt    map[string]string
	members  map[string]*idSet // group id → member ids
	memberOf map[string]*idSet // member id → group ids
}

// groupsOf returns the tenant's groups, creating the record when create
// is set (nil otherwise for a tenant without groups).
func (s *Store) groupsOf(tenantID string, create bool) *tenantGroups {
	e := s.ext()
	tg := e.groups[tenantID]
	if tg == nil && create {
		tg = &tenantGroups{
			byID: map[string]*sdk.Group{}, byName: map[string]string{}, byExt: map[string]string{},
			members: map[string]*idSet{}, memberOf: map[string]*idSet{},
		}
		e.groups[tenantID] = tg
	}
	return tg
}

func (tg *tenantGroups) conflict(op string, g *sdk.Group) error {
	if id, ok := tg.byName[g.NameKey]; ok && id != g.ID {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonGroupNameTaken, "a group with this display name exists", nil)
	}
	if g.ExternalID != "" {
		if id, ok := tg.byExt[g.ExternalID]; ok && id != g.ID {
			return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonExternalIDTaken, "a group with this external id exists", nil)
		}
	}
	return nil
}

func (tg *tenantGroups) index(g *sdk.Group) {
	tg.byID[g.ID] = g
	tg.byName[g.NameKey] = g.ID
	if g.ExternalID != "" {
		tg.byExt[g.ExternalID] = g.ID
	}
}

func (tg *tenantGroups) unindex(g *sdk.Group) {
	delete(tg.byID, g.ID)
	delete(tg.byName, g.NameKey)
	if g.ExternalID != "" {
		delete(tg.byExt, g.ExternalID)
	}
}

// CreateGroup implements sdk.GroupStore.
func (s *Store) CreateGroup(ctx context.Context, g *sdk.Group) error {
	const op = "memstore.CreateGroup"
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[g.TenantID]; !ok {
		return notFound(op, "tenant")
	}
	tg := s.groupsOf(g.TenantID, true)
	if _, ok := tg.byID[g.ID]; ok {
		return sdk.E(op, sdk.CodeAlreadyExists, "", "group id exists", nil)
	}
	if err := tg.conflict(op, g); err != nil {
		return err
	}
	tg.index(g.Clone())
	tg.ids.add(g.ID)
	return nil
}

func (s *Store) group(op, tenantID, id string) (*sdk.Group, *tenantGroups, error) {
	tg := s.groupsOf(tenantID, false)
	if tg == nil {
		return nil, nil, notFound(op, "group")
	}
	g, ok := tg.byID[id]
	if !ok {
		return nil, nil, notFound(op, "group")
	}
	return g, tg, nil
}

// GetGroup implements sdk.GroupStore.
func (s *Store) GetGroup(ctx context.Context, tenantID, id string) (*sdk.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, _, err := s.group("memstore.GetGroup", tenantID, id)
	if err != nil {
		return nil, err
	}
	return g.Clone(), nil
}

// GetGroups implements sdk.GroupStore.
func (s *Store) GetGroups(ctx context.Context, tenantID string, ids []string) ([]*sdk.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*sdk.Group{}
	tg := s.groupsOf(tenantID, false)
	if tg == nil {
		return out, nil
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for _, id := range slices.Compact(sorted) {
		if g, ok := tg.byID[id]; ok {
			out = append(out, g.Clone())
		}
	}
	return out, nil
}

// ListGroups implements sdk.GroupStore.
func (s *Store) ListGroups(ctx context.Context, tenantID string, q sdk.GroupQuery) ([]*sdk.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*sdk.Group{}
	tg := s.groupsOf(tenantID, false)
	if tg == nil {
		return out, nil
	}
	skip := q.Offset
	tg.ids.scan(q.After, func(id string) bool {
		if q.Limit > 0 && len(out) >= q.Limit {
			return false
		}
		if g := tg.byID[id]; q.Where.MatchGroup(g) {
			if skip > 0 {
				skip--
				return true
			}
			out = append(out, g.Clone())
		}
		return true
	})
	return out, nil
}

// CountGroups implements sdk.GroupStore.
func (s *Store) CountGroups(ctx context.Context, tenantID string, where *sdk.Cond) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tg := s.groupsOf(tenantID, false)
	if tg == nil {
		return 0, nil
	}
	n := 0
	for _, g := range tg.byID {
		if where.MatchGroup(g) {
			n++
		}
	}
	return n, nil
}

// UpdateGroup implements sdk.GroupStore.
func (s *Store) UpdateGroup(ctx context.Context, g *sdk.Group, expected int64) error {
	const op = "memstore.UpdateGroup"
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, tg, err := s.group(op, g.TenantID, g.ID)
	if err != nil {
		return err
	}
	if cur.Version != expected {
		return stale(op)
	}
	if err := tg.conflict(op, g); err != nil {
		return err
	}
	tg.unindex(cur)
	ng := cur.Clone()
	ng.DisplayName, ng.NameKey, ng.ExternalID, ng.Role, ng.UpdatedAt = g.DisplayName, g.NameKey, g.ExternalID, g.Role, g.UpdatedAt
	ng.Version = expected + 1
	tg.index(ng)
	g.Version = ng.Version
	return nil
}

// DeleteGroup implements sdk.GroupStore.
func (s *Store) DeleteGroup(ctx context.Context, tenantID, id string, expected int64) error {
	const op = "memstore.DeleteGroup"
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, tg, err := s.group(op, tenantID, id)
	if err != nil {
		return err
	}
	if cur.Version != expected {
		return stale(op)
	}
	tg.unindex(cur)
	tg.ids.remove(id)
	if ms := tg.members[id]; ms != nil {
		ms.scan("", func(mid string) bool {
			if of := tg.memberOf[mid]; of != nil {
				of.remove(id)
				if of.n == 0 {
					delete(tg.memberOf, mid)
				}
			}
			return true
		})
	}
	delete(tg.members, id)
	return nil
}

func (tg *tenantGroups) link(gid, mid string) bool {
	ms := tg.members[gid]
	if ms == nil {
		ms = &idSet{}
		tg.members[gid] = ms
	}
	if !ms.add(mid) {
		return false
	}
	of := tg.memberOf[mid]
	if of == nil {
		of = &idSet{}
		tg.memberOf[mid] = of
	}
	of.add(gid)
	return true
}

func (tg *tenantGroups) unlink(gid, mid string) bool {
	ms := tg.members[gid]
	if ms == nil || !ms.remove(mid) {
		return false
	}
	if of := tg.memberOf[mid]; of != nil {
		of.remove(gid)
		if of.n == 0 {
			delete(tg.memberOf, mid)
		}
	}
	return true
}

// AddGroupMembers implements sdk.GroupStore.
func (s *Store) AddGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	return s.editEdges(ctx, "memstore.AddGroupMembers", tenantID, groupID, memberIDs, now, false)
}

// missing returns the ids that are not members of the tenant; s.mu is held.
func (s *Store) missing(tenantID string, ids []string) []string {
	var out []string
	tm := s.members[tenantID]
	for _, id := range ids {
		if tm == nil || tm.byID[id] == nil {
			out = append(out, id)
		}
	}
	return out
}

// RemoveGroupMembers implements sdk.GroupStore.
func (s *Store) RemoveGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	return s.editEdges(ctx, "memstore.RemoveGroupMembers", tenantID, groupID, memberIDs, now, true)
}

// editEdges links (or, with remove, unlinks) each member under one lock,
// bumps the group's version and returns how many edges changed. Linking
// an unknown member refuses the call.
func (s *Store) editEdges(ctx context.Context, op, tenantID, groupID string, memberIDs []string, now time.Time,
	remove bool) (*sdk.Group, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, tg, err := s.group(op, tenantID, groupID)
	if err != nil {
		return nil, 0, err
	}
	edit := (*tenantGroups).unlink
	if !remove {
		if m := s.missing(tenantID, memberIDs); len(m) > 0 {
			return nil, 0, sdk.UnknownMembersError(op, m)
		}
		edit = (*tenantGroups).link
	}
	n := 0
	for _, mid := range memberIDs {
		if edit(tg, groupID, mid) {
			n++
		}
	}
	g.Version++
	g.UpdatedAt = now
	return g.Clone(), n, nil
}

// ListGroupMembers implements sdk.GroupStore.
func (s *Store) ListGroupMembers(ctx context.Context, tenantID, groupID, after string, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []string{}
	tg := s.groupsOf(tenantID, false)
	if tg == nil || tg.members[groupID] == nil {
		return out, nil
	}
	tg.members[groupID].scan(after, func(id string) bool {
		if limit > 0 && len(out) >= limit {
			return false
		}
		out = append(out, id)
		return true
	})
	return out, nil
}

// ListMemberGroups implements sdk.GroupStore.
func (s *Store) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []sdk.GroupEdge{}
	tg := s.groupsOf(tenantID, false)
	if tg == nil {
		return out, nil
	}
	ids := slices.Clone(memberIDs)
	slices.Sort(ids)
	for _, mid := range slices.Compact(ids) {
		if of := tg.memberOf[mid]; of != nil {
			of.scan("", func(gid string) bool {
				out = append(out, sdk.GroupEdge{GroupID: gid, MemberID: mid})
				return true
			})
		}
	}
	return out, nil
}

// DeleteEdges implements sdk.GroupStore.
func (s *Store) DeleteEdges(ctx context.Context, tenantID string, edges []sdk.GroupEdge) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tg := s.groupsOf(tenantID, false)
	if tg == nil {
		return 0, nil
	}
	n := 0
	for _, e := range edges {
		if tg.unlink(e.GroupID, e.MemberID) {
			n++
		}
	}
	return n, nil
}

// MissingMembers implements sdk.GroupStore.
func (s *Store) MissingMembers(ctx context.Context, tenantID string, ids []string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.missing(tenantID, ids), nil
}

// idSet is an ordered set of ids kept as a list of sorted chunks, so that
// adding or removing one id moves at most one chunk, whatever the size of
// the set: a 100k-member group is never shifted whole.
type idSet struct {
	chunks [][]string // each sorted and non-empty; chunk i's ids precede chunk i+1's
	n      int
}

const chunkMax = 512

// chunk returns the index of the chunk that holds id or where it belongs.
func (s *idSet) chunk(id string) int {
	i, _ := slices.BinarySearchFunc(s.chunks, id, func(c []string, id string) int {
		if last := c[len(c)-1]; last < id {
			return -1
		} else if last > id {
			return 1
		}
		return 0
	})
	return min(i, len(s.chunks)-1)
}

func (s *idSet) add(id string) bool {
	if len(s.chunks) == 0 {
		s.chunks = [][]string{{id}}
		s.n = 1
		return true
	}
	ci := s.chunk(id)
	c := s.chunks[ci]
	i, found := slices.BinarySearch(c, id)
	if found {
		return false
	}
	c = slices.Insert(c, i, id)
	if len(c) > chunkMax {
		half := len(c) / 2
		right := slices.Clone(c[half:])
		c = slices.Clip(c[:half])
		s.chunks = slices.Insert(s.chunks, ci+1, right)
	}
	s.chunks[ci] = c
	s.n++
	return true
}

func (s *idSet) remove(id string) bool {
	if len(s.chunks) == 0 {
		return false
	}
	ci := s.chunk(id)
	c := s.chunks[ci]
	i, found := slices.BinarySearch(c, id)
	if !found {
		return false
	}
	c = slices.Delete(c, i, i+1)
	if len(c) == 0 {
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
	} else {
		s.chunks[ci] = c
	}
	s.n--
	return true
}

// scan calls fn for each id greater than after, in order, until fn returns
// false.
func (s *idSet) scan(after string, fn func(id string) bool) {
	if len(s.chunks) == 0 {
		return
	}
	ci := 0
	if after != "" {
		ci = s.chunk(after)
	}
	for ; ci < len(s.chunks); ci++ {
		c := s.chunks[ci]
		i := 0
		if after != "" {
			i, _ = slices.BinarySearch(c, after)
			for i < len(c) && c[i] <= after {
				i++
			}
		}
		for ; i < len(c); i++ {
			if !fn(c[i]) {
				return
			}
		}
	}
}
