// Package memstore is the in-memory [sdk.Store]: the reference
// implementation of the store contract, the fake a host application uses in
// its tests, the store of `roster serve --memory`, and the baseline of the
// benchmarks. Everything lives in one process and is lost when it exits.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// Store is an in-memory sdk.Store. The zero value is not usable; call New.
// It is safe for concurrent use: one mutex makes every method atomic.
type Store struct {
	mu      sync.RWMutex
	tenants map[string]*sdk.Tenant
	slugs   map[string]string
	members map[string]*tenantMembers
	audit   map[string][]*sdk.AuditEvent // per tenant, sorted by ID
	invs    *invitations
	creds   map[string]*sdk.Credentials // key: tenant/member
	// global holds the EmailKey of every member whose last write carried
	// sdk.MemberWrite.GlobalEmail, and whose member that is.
	global map[string]memberRef
}

// memberRef names one member of one tenant.
type memberRef struct{ tenantID, id string }

type tenantMembers struct {
	byID    map[string]*sdk.Member
	ids     []string // sorted
	byEmail map[string]string
	byUser  map[string]string // UserNameKey → id
	byExt   map[string]string
}

var (
	_ sdk.Store              = (*Store)(nil)
	_ sdk.PasswordHashReader = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		tenants: map[string]*sdk.Tenant{},
		slugs:   map[string]string{},
		members: map[string]*tenantMembers{},
		audit:   map[string][]*sdk.AuditEvent{},
		global:  map[string]memberRef{},
	}
}

func notFound(op, what string) error {
	return sdk.E(op, sdk.CodeNotFound, "", what+" not found", nil)
}

func stale(op string) error {
	return sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, "the record changed since it was read", nil)
}

// CreateTenant implements sdk.TenantStore.
func (s *Store) CreateTenant(ctx context.Context, t *sdk.Tenant, w sdk.MemberWrite) error {
	const op = "memstore.CreateTenant"
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.slugs[t.Slug]; ok {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonSlugTaken, "the slug "+t.Slug+" is taken", nil)
	}
	if _, ok := s.tenants[t.ID]; ok {
		return sdk.E(op, sdk.CodeAlreadyExists, "", "tenant id exists", nil)
	}
	owner := w.Member
	if w.GlobalEmail {
		if err := s.globalConflict(op, owner); err != nil {
			return err
		}
	}
	s.tenants[t.ID] = t.Clone()
	s.slugs[t.Slug] = t.ID
	tm := &tenantMembers{byID: map[string]*sdk.Member{}, byEmail: map[string]string{}, byUser: map[string]string{}, byExt: map[string]string{}}
	s.members[t.ID] = tm
	tm.insert(owner.Clone())
	s.setGlobal(nil, owner, w.GlobalEmail)
	s.setPasswordHash(owner.TenantID, owner.ID, w.PasswordHash, owner.UpdatedAt)
	return nil
}

// GetTenant implements sdk.TenantStore.
func (s *Store) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tenants[id]
	if !ok {
		return nil, notFound("memstore.GetTenant", "tenant")
	}
	return t.Clone(), nil
}

// GetTenantBySlug implements sdk.TenantStore.
func (s *Store) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.slugs[slug]
	if !ok {
		return nil, notFound("memstore.GetTenantBySlug", "tenant")
	}
	return s.tenants[id].Clone(), nil
}

// ListTenants implements sdk.TenantStore.
func (s *Store) ListTenants(ctx context.Context, q sdk.TenantQuery) ([]*sdk.Tenant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]string, 0, len(s.tenants))
	for id := range s.tenants {
		if id > q.After {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if q.Limit > 0 && len(ids) > q.Limit {
		ids = ids[:q.Limit]
	}
	out := make([]*sdk.Tenant, len(ids))
	for i, id := range ids {
		out[i] = s.tenants[id].Clone()
	}
	return out, nil
}

// UpdateTenant implements sdk.TenantStore.
func (s *Store) UpdateTenant(ctx context.Context, t *sdk.Tenant, expected int64) error {
	const op = "memstore.UpdateTenant"
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.tenants[t.ID]
	if !ok {
		return notFound(op, "tenant")
	}
	if cur.Version != expected {
		return stale(op)
	}
	nt := t.Clone()
	cur.Name, cur.Roles, cur.Settings = nt.Name, nt.Roles, nt.Settings
	cur.Version = expected + 1
	cur.UpdatedAt = t.UpdatedAt
	t.Version = cur.Version
	return nil
}

// AdjustExtraSeats implements sdk.TenantStore.
func (s *Store) AdjustExtraSeats(ctx context.Context, tenantID string, delta int, now time.Time) (*sdk.Tenant, error) {
	const op = "memstore.AdjustExtraSeats"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[tenantID]
	if !ok {
		return nil, notFound(op, "tenant")
	}
	if t.ExtraSeats+delta < 0 || (delta < 0 && t.SeatLimit()+delta < t.SeatsUsed) {
		return nil, sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonSeatsInUse, "cannot remove seats that are in use or included in the plan", nil)
	}
	t.ExtraSeats += delta
	t.Version++
	t.UpdatedAt = now
	return t.Clone(), nil
}

// SetOwner implements sdk.TenantStore.
func (s *Store) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	const op = "memstore.SetOwner"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[tenantID]
	if !ok {
		return nil, notFound(op, "tenant")
	}
	if t.OwnerID != from {
		return nil, stale(op)
	}
	t.OwnerID = to
	t.Version++
	t.UpdatedAt = now
	return t.Clone(), nil
}

// RecountSeats implements sdk.TenantStore. Under the store's one lock no
// member write is ever in flight while it counts, so it never gives up.
func (s *Store) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[tenantID]
	if !ok {
		return nil, 0, notFound("memstore.RecountSeats", "tenant")
	}
	n := 0
	for _, m := range s.members[tenantID].byID {
		if slices.Contains(holding, m.Status) {
			n++
		}
	}
	prev := t.SeatsUsed
	t.SeatsUsed = n
	return t.Clone(), prev, nil
}

func (tm *tenantMembers) insert(m *sdk.Member) {
	m.Groups = nil // read-only: this store keeps memberships apart
	tm.byID[m.ID] = m
	i, _ := slices.BinarySearch(tm.ids, m.ID)
	tm.ids = slices.Insert(tm.ids, i, m.ID)
	tm.byEmail[m.EmailKey] = m.ID
	tm.byUser[m.UserNameKey] = m.ID
	if m.ExternalID != "" {
		tm.byExt[m.ExternalID] = m.ID
	}
}

// replace swaps a member's record for a new version of it (same id).
func (tm *tenantMembers) replace(old, m *sdk.Member) {
	if old.EmailKey != m.EmailKey {
		delete(tm.byEmail, old.EmailKey)
	}
	if old.UserNameKey != m.UserNameKey {
		delete(tm.byUser, old.UserNameKey)
	}
	if old.ExternalID != "" && old.ExternalID != m.ExternalID {
		delete(tm.byExt, old.ExternalID)
	}
	tm.byID[m.ID] = m
	tm.byEmail[m.EmailKey] = m.ID
	tm.byUser[m.UserNameKey] = m.ID
	if m.ExternalID != "" {
		tm.byExt[m.ExternalID] = m.ID
	}
}

func (tm *tenantMembers) remove(m *sdk.Member) {
	delete(tm.byID, m.ID)
	if i, ok := slices.BinarySearch(tm.ids, m.ID); ok {
		tm.ids = slices.Delete(tm.ids, i, i+1)
	}
	delete(tm.byEmail, m.EmailKey)
	delete(tm.byUser, m.UserNameKey)
	if m.ExternalID != "" {
		delete(tm.byExt, m.ExternalID)
	}
}

// conflict reports a uniqueness violation of m against the other members.
func (tm *tenantMembers) conflict(op string, m *sdk.Member) error {
	if id, ok := tm.byEmail[m.EmailKey]; ok && id != m.ID {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonEmailTaken, "a member with this email address exists", nil)
	}
	if id, ok := tm.byUser[m.UserNameKey]; ok && id != m.ID {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonUserNameTaken, "a member with this userName exists", nil)
	}
	if m.ExternalID != "" {
		if id, ok := tm.byExt[m.ExternalID]; ok && id != m.ID {
			return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonExternalIDTaken, "a member with this external id exists", nil)
		}
	}
	return nil
}

func seatLimit(op string) error {
	return sdk.E(op, sdk.CodeResourceExhausted, sdk.ReasonSeatLimit, "the tenant's seat limit is reached", nil)
}

// globalConflict reports whether a write of m with GlobalEmail would make
// two members written with it share one address.
func (s *Store) globalConflict(op string, m *sdk.Member) error {
	if ref, ok := s.global[m.EmailKey]; ok && ref != (memberRef{m.TenantID, m.ID}) {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonEmailTakenElsewhere, "the email address is used in another tenant", nil)
	}
	return nil
}

// setGlobal makes the global index agree with the member's latest write:
// old (nil for a create) is the member as it was, m as it is now (nil for
// a delete), and global whether m was written with GlobalEmail.
func (s *Store) setGlobal(old, m *sdk.Member, global bool) {
	if old != nil && s.global[old.EmailKey] == (memberRef{old.TenantID, old.ID}) {
		delete(s.global, old.EmailKey)
	}
	if m != nil && global {
		s.global[m.EmailKey] = memberRef{m.TenantID, m.ID}
	}
}

func badSeat(op string, c sdk.SeatChange) error {
	return sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, fmt.Sprintf("seat change %d is not one this write takes", c), nil)
}

// CreateMember implements sdk.MemberStore.
func (s *Store) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	const op = "memstore.CreateMember"
	m := w.Member
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.Seat != sdk.SeatKeep && w.Seat != sdk.SeatTake {
		return badSeat(op, w.Seat)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[m.TenantID]
	if !ok {
		return notFound(op, "tenant")
	}
	if w.TenantVersion != 0 && t.Version != w.TenantVersion {
		return stale(op)
	}
	tm := s.members[m.TenantID]
	if _, ok := tm.byID[m.ID]; ok {
		return sdk.E(op, sdk.CodeAlreadyExists, "", "member id exists", nil)
	}
	if err := tm.conflict(op, m); err != nil {
		return err
	}
	if w.GlobalEmail {
		if err := s.globalConflict(op, m); err != nil {
			return err
		}
	}
	if w.Seat == sdk.SeatTake {
		if t.SeatsFree() <= 0 {
			return seatLimit(op)
		}
		t.SeatsUsed++
	}
	tm.insert(m.Clone())
	s.setGlobal(nil, m, w.GlobalEmail)
	s.setPasswordHash(m.TenantID, m.ID, w.PasswordHash, m.UpdatedAt)
	return nil
}

func (s *Store) member(op, tenantID, id string) (*sdk.Member, *tenantMembers, error) {
	tm, ok := s.members[tenantID]
	if !ok {
		return nil, nil, notFound(op, "member")
	}
	m, ok := tm.byID[id]
	if !ok {
		return nil, nil, notFound(op, "member")
	}
	return m, tm, nil
}

// GetMember implements sdk.MemberStore.
func (s *Store) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, _, err := s.member("memstore.GetMember", tenantID, id)
	if err != nil {
		return nil, err
	}
	return m.Clone(), nil
}

// GetMemberBy implements sdk.MemberStore.
func (s *Store) GetMemberBy(ctx context.Context, tenantID string, key sdk.MemberKey, value string) (*sdk.Member, error) {
	const op = "memstore.GetMemberBy"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tm, ok := s.members[tenantID]
	if !ok || value == "" {
		return nil, notFound(op, "member")
	}
	var idx map[string]string
	switch key {
	case sdk.KeyEmail:
		idx = tm.byEmail
	case sdk.KeyUserName:
		idx = tm.byUser
	case sdk.KeyExternalID:
		idx = tm.byExt
	default:
		return nil, sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, fmt.Sprintf("unknown member key %d", key), nil)
	}
	id, ok := idx[value]
	if !ok {
		return nil, notFound(op, "member")
	}
	return tm.byID[id].Clone(), nil
}

// Matches reports whether m passes f. Other stores may use it to check
// their query translation.
func Matches(m *sdk.Member, f sdk.MemberFilter) bool {
	if f.Status != "" && m.Status != f.Status {
		return false
	}
	if f.Role != "" && m.Role != f.Role {
		return false
	}
	if f.Where != nil && !f.Where.Match(m) {
		return false
	}
	if f.Prefix != "" {
		return strings.HasPrefix(m.EmailKey, f.Prefix) ||
			strings.HasPrefix(strings.ToLower(m.GivenName), f.Prefix) ||
			strings.HasPrefix(strings.ToLower(m.FamilyName), f.Prefix) ||
			strings.HasPrefix(strings.ToLower(m.DisplayName), f.Prefix)
	}
	return true
}

// ListMembers implements sdk.MemberStore.
func (s *Store) ListMembers(ctx context.Context, tenantID string, q sdk.MemberQuery) ([]*sdk.Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tm, ok := s.members[tenantID]
	if !ok {
		return []*sdk.Member{}, nil
	}
	start, found := slices.BinarySearch(tm.ids, q.After)
	if found {
		start++
	}
	out := []*sdk.Member{}
	skip := q.Offset
	if q.Filter == (sdk.MemberFilter{}) { // every member matches: jump
		start = min(start+skip, len(tm.ids))
		skip = 0
	}
	for _, id := range tm.ids[start:] {
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
		if m := tm.byID[id]; Matches(m, q.Filter) {
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, m.Clone())
		}
	}
	return out, nil
}

// CountMembers implements sdk.MemberStore.
func (s *Store) CountMembers(ctx context.Context, tenantID string, f sdk.MemberFilter) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tm, ok := s.members[tenantID]
	if !ok {
		return 0, nil
	}
	if f == (sdk.MemberFilter{}) {
		return len(tm.byID), nil
	}
	n := 0
	for _, m := range tm.byID {
		if Matches(m, f) {
			n++
		}
	}
	return n, nil
}

// EmailInOtherTenant implements sdk.MemberStore.
func (s *Store) EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for tid, tm := range s.members {
		if tid == tenantID {
			continue
		}
		if _, ok := tm.byEmail[emailKey]; ok {
			return true, nil
		}
	}
	return false, nil
}

// UpdateMember implements sdk.MemberStore.
func (s *Store) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	const op = "memstore.UpdateMember"
	m, expected := w.Member, w.ExpectedVersion
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.Seat != sdk.SeatKeep && w.Seat != sdk.SeatTake && w.Seat != sdk.SeatRelease {
		return badSeat(op, w.Seat)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, tm, err := s.member(op, m.TenantID, m.ID)
	if err != nil {
		return err
	}
	if cur.Version != expected {
		return stale(op)
	}
	if err := tm.conflict(op, m); err != nil {
		return err
	}
	if w.GlobalEmail {
		if err := s.globalConflict(op, m); err != nil {
			return err
		}
	}
	t := s.tenants[m.TenantID]
	switch w.Seat {
	case sdk.SeatTake:
		if t.SeatsFree() <= 0 {
			return seatLimit(op)
		}
		t.SeatsUsed++
	case sdk.SeatRelease:
		t.SeatsUsed = max(0, t.SeatsUsed-1)
	}
	nm := m.Clone()
	nm.Groups = nil
	nm.Version = expected + 1
	tm.replace(cur, nm)
	s.setGlobal(cur, nm, w.GlobalEmail)
	m.Version = nm.Version
	s.setPasswordHash(m.TenantID, m.ID, w.PasswordHash, m.UpdatedAt)
	return nil
}

// DeleteMember implements sdk.MemberStore.
func (s *Store) DeleteMember(ctx context.Context, d sdk.MemberDelete) error {
	const op = "memstore.DeleteMember"
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.Seat != sdk.SeatKeep && d.Seat != sdk.SeatRelease {
		return badSeat(op, d.Seat)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, tm, err := s.member(op, d.TenantID, d.ID)
	if err != nil {
		return err
	}
	if cur.Version != d.ExpectedVersion {
		return stale(op)
	}
	tm.remove(cur)
	s.setGlobal(cur, nil, false)
	if d.Seat == sdk.SeatRelease {
		t := s.tenants[d.TenantID]
		t.SeatsUsed = max(0, t.SeatsUsed-1)
	}
	return nil
}

// AppendAudit implements sdk.AuditStore.
func (s *Store) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.audit[e.TenantID]
	i, found := slices.BinarySearchFunc(evs, e.ID, func(a *sdk.AuditEvent, id string) int { return cmp.Compare(a.ID, id) })
	if found {
		return nil
	}
	cp := *e
	s.audit[e.TenantID] = slices.Insert(evs, i, &cp)
	return nil
}

// ListAudit implements sdk.AuditStore.
func (s *Store) ListAudit(ctx context.Context, tenantID string, q sdk.AuditQuery) ([]*sdk.AuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	evs := s.audit[tenantID]
	end := len(evs)
	if q.Before != "" {
		end, _ = slices.BinarySearchFunc(evs, q.Before, func(a *sdk.AuditEvent, id string) int { return cmp.Compare(a.ID, id) })
	}
	out := []*sdk.AuditEvent{}
	for i := end - 1; i >= 0; i-- {
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
		e := evs[i]
		if AuditMatches(e, q) {
			cp := *e
			out = append(out, &cp)
		}
	}
	return out, nil
}

// AuditMatches reports whether e passes the filters of q (not its paging).
func AuditMatches(e *sdk.AuditEvent, q sdk.AuditQuery) bool {
	switch {
	case q.ActorID != "" && e.ActorID != q.ActorID,
		q.TargetID != "" && e.TargetID != q.TargetID,
		q.Action != "" && e.Action != q.Action,
		q.Channel != "" && e.Channel != q.Channel,
		!q.Since.IsZero() && e.Time.Before(q.Since),
		!q.Until.IsZero() && !e.Time.Before(q.Until):
		return false
	}
	return true
}

// DeleteTenant implements sdk.TenantStore: everything of the tenant goes
// in one step under the store's lock.
func (s *Store) DeleteTenant(ctx context.Context, tenantID string, expected int64) error {
	const op = "memstore.DeleteTenant"
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[tenantID]
	if !ok {
		return notFound(op, "tenant")
	}
	if t.Version != expected {
		return stale(op)
	}
	if tm := s.members[tenantID]; tm != nil {
		for _, m := range tm.byID {
			s.setGlobal(m, nil, false)
		}
	}
	for k, c := range s.creds {
		if c.TenantID == tenantID {
			delete(s.creds, k)
		}
	}
	if s.invs != nil {
		for _, id := range s.invs.ids[tenantID] {
			delete(s.invs.byID, invKey(tenantID, id))
		}
		delete(s.invs.ids, tenantID)
	}
	e := s.ext()
	delete(e.groups, tenantID)
	delete(e.tokens, tenantID)
	delete(s.members, tenantID)
	delete(s.audit, tenantID)
	delete(s.slugs, t.Slug)
	delete(s.tenants, tenantID)
	return nil
}
