package embedded

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// Serialize returns s with its writes serialised per tenant: around every
// write method of [sdk.Store] and of the optional interfaces, the returned
// store holds a process-wide lock keyed by the tenant id (waiting for it
// honours the caller's context) and, when gate is not nil, gate shared
// (RLock), so that whoever holds gate exclusively holds off every write;
// nil is the usual gate. Reads pass through. The returned store has the
// optional interfaces s has — [sdk.BulkMemberStore], [sdk.MemberScanner],
// [sdk.PasswordHashReader] — and [sdk.InlineMemberGroups], answered for s.
//
// It exists for FerretDB v1, the mongo store's test double, which executes
// a conditional update as a read followed by a write, not atomically, so
// two concurrent conditional updates of one document can both pass their
// condition (measured: 100 concurrent seat increments left the counter at
// 7); every conditional write the mongo store makes is to a document of
// one tenant, so taking the tenant's lock around each store method makes
// them run alone. It covers this process's writes only; a FerretDB that
// several processes write to needs the proxy of [Config.TCP] instead.
// MongoDB applies each single-document update atomically: a store on
// MongoDB needs no wrapper.
func Serialize(s sdk.Store, gate *sync.RWMutex) sdk.Store {
	w := &serialized{s: s, gate: gate}
	bulk, isBulk := s.(sdk.BulkMemberStore)
	scan, isScan := s.(sdk.MemberScanner)
	hash, isHash := s.(sdk.PasswordHashReader)
	b := serializedBulk{w: w, b: bulk}
	switch {
	case isBulk && isScan && isHash:
		return struct {
			*serialized
			serializedBulk
			sdk.MemberScanner
			sdk.PasswordHashReader
		}{w, b, scan, hash}
	case isBulk && isScan:
		return struct {
			*serialized
			serializedBulk
			sdk.MemberScanner
		}{w, b, scan}
	case isBulk && isHash:
		return struct {
			*serialized
			serializedBulk
			sdk.PasswordHashReader
		}{w, b, hash}
	case isScan && isHash:
		return struct {
			*serialized
			sdk.MemberScanner
			sdk.PasswordHashReader
		}{w, scan, hash}
	case isBulk:
		return struct {
			*serialized
			serializedBulk
		}{w, b}
	case isScan:
		return struct {
			*serialized
			sdk.MemberScanner
		}{w, scan}
	case isHash:
		return struct {
			*serialized
			sdk.PasswordHashReader
		}{w, hash}
	}
	return w
}

// tenantLocks serialises the writes of each tenant within the process,
// whatever store they go through (tests open several stores on one
// database). It is striped: two tenants may share a stripe, which only
// serialises them needlessly. Each stripe is a one-slot channel so that waiting honours the
// caller's context.
var tenantLocks = newStripes()

type stripes struct {
	seed maphash.Seed
	ch   [256]chan struct{}
}

func newStripes() *stripes {
	l := &stripes{seed: maphash.MakeSeed()}
	for i := range l.ch {
		l.ch[i] = make(chan struct{}, 1)
	}
	return l
}

// lock takes the stripes of the tenants, in stripe order so that two callers
// never wait on each other crosswise.
func (l *stripes) lock(ctx context.Context, tenants ...string) (func(), error) {
	var idx [256]bool
	for _, t := range tenants {
		idx[maphash.String(l.seed, t)%uint64(len(l.ch))] = true
	}
	var held []int
	unlock := func() {
		for _, i := range held {
			<-l.ch[i]
		}
	}
	for i, want := range idx {
		if !want {
			continue
		}
		select {
		case l.ch[i] <- struct{}{}:
			held = append(held, i)
		case <-ctx.Done():
			unlock()
			return nil, ctx.Err()
		}
	}
	return unlock, nil
}

// serialized is the [sdk.Store] Serialize returns.
type serialized struct {
	s    sdk.Store
	gate *sync.RWMutex
}

// write runs fn holding the locks of tenants and the gate shared.
func (w *serialized) write(ctx context.Context, fn func() error, tenants ...string) error {
	unlock, err := tenantLocks.lock(ctx, tenants...)
	if err != nil {
		return err
	}
	defer unlock()
	if w.gate != nil {
		w.gate.RLock()
		defer w.gate.RUnlock()
	}
	return fn()
}

// MemberGroupsInline implements [sdk.InlineMemberGroups] for the wrapped
// store.
func (w *serialized) MemberGroupsInline() bool {
	ig, ok := w.s.(sdk.InlineMemberGroups)
	return ok && ig.MemberGroupsInline()
}

// Tenants.

func (w *serialized) CreateTenant(ctx context.Context, t *sdk.Tenant, owner sdk.MemberWrite) error {
	return w.write(ctx, func() error { return w.s.CreateTenant(ctx, t, owner) }, t.ID)
}

func (w *serialized) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	return w.s.GetTenant(ctx, id)
}

func (w *serialized) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	return w.s.GetTenantBySlug(ctx, slug)
}

func (w *serialized) ListTenants(ctx context.Context, q sdk.TenantQuery) ([]*sdk.Tenant, error) {
	return w.s.ListTenants(ctx, q)
}

func (w *serialized) UpdateTenant(ctx context.Context, t *sdk.Tenant, expectedVersion int64) error {
	return w.write(ctx, func() error { return w.s.UpdateTenant(ctx, t, expectedVersion) }, t.ID)
}

func (w *serialized) AdjustExtraSeats(ctx context.Context, tenantID string, delta int, now time.Time) (t *sdk.Tenant, err error) {
	err = w.write(ctx, func() error { t, err = w.s.AdjustExtraSeats(ctx, tenantID, delta, now); return err }, tenantID)
	return t, err
}

func (w *serialized) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (t *sdk.Tenant, err error) {
	err = w.write(ctx, func() error { t, err = w.s.SetOwner(ctx, tenantID, from, to, now); return err }, tenantID)
	return t, err
}

func (w *serialized) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (t *sdk.Tenant, previous int, err error) {
	err = w.write(ctx, func() error { t, previous, err = w.s.RecountSeats(ctx, tenantID, holding); return err }, tenantID)
	return t, previous, err
}

func (w *serialized) DeleteTenant(ctx context.Context, tenantID string, expectedVersion int64) error {
	return w.write(ctx, func() error { return w.s.DeleteTenant(ctx, tenantID, expectedVersion) }, tenantID)
}

// Members.

func (w *serialized) CreateMember(ctx context.Context, mw sdk.MemberWrite) error {
	return w.write(ctx, func() error { return w.s.CreateMember(ctx, mw) }, mw.Member.TenantID)
}

func (w *serialized) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	return w.s.GetMember(ctx, tenantID, id)
}

func (w *serialized) GetMemberBy(ctx context.Context, tenantID string, key sdk.MemberKey, value string) (*sdk.Member, error) {
	return w.s.GetMemberBy(ctx, tenantID, key, value)
}

func (w *serialized) ListMembers(ctx context.Context, tenantID string, q sdk.MemberQuery) ([]*sdk.Member, error) {
	return w.s.ListMembers(ctx, tenantID, q)
}

func (w *serialized) CountMembers(ctx context.Context, tenantID string, f sdk.MemberFilter) (int, error) {
	return w.s.CountMembers(ctx, tenantID, f)
}

func (w *serialized) EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error) {
	return w.s.EmailInOtherTenant(ctx, tenantID, emailKey)
}

func (w *serialized) UpdateMember(ctx context.Context, mw sdk.MemberWrite) error {
	return w.write(ctx, func() error { return w.s.UpdateMember(ctx, mw) }, mw.Member.TenantID)
}

func (w *serialized) DeleteMember(ctx context.Context, d sdk.MemberDelete) error {
	return w.write(ctx, func() error { return w.s.DeleteMember(ctx, d) }, d.TenantID)
}

// Audit.

func (w *serialized) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error {
	return w.write(ctx, func() error { return w.s.AppendAudit(ctx, e) }, e.TenantID)
}

func (w *serialized) ListAudit(ctx context.Context, tenantID string, q sdk.AuditQuery) ([]*sdk.AuditEvent, error) {
	return w.s.ListAudit(ctx, tenantID, q)
}

// Invitations.

func (w *serialized) CreateInvitation(ctx context.Context, inv *sdk.Invitation) error {
	return w.write(ctx, func() error { return w.s.CreateInvitation(ctx, inv) }, inv.TenantID)
}

func (w *serialized) GetInvitation(ctx context.Context, tenantID, id string) (*sdk.Invitation, error) {
	return w.s.GetInvitation(ctx, tenantID, id)
}

func (w *serialized) GetInvitationByMember(ctx context.Context, tenantID, memberID string) (*sdk.Invitation, error) {
	return w.s.GetInvitationByMember(ctx, tenantID, memberID)
}

func (w *serialized) ListInvitations(ctx context.Context, tenantID string, q sdk.InvitationQuery) ([]*sdk.Invitation, error) {
	return w.s.ListInvitations(ctx, tenantID, q)
}

func (w *serialized) UpdateInvitation(ctx context.Context, inv *sdk.Invitation, expectedVersion int64) error {
	return w.write(ctx, func() error { return w.s.UpdateInvitation(ctx, inv, expectedVersion) }, inv.TenantID)
}

// Credentials.

func (w *serialized) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	return w.s.GetCredentials(ctx, tenantID, memberID)
}

func (w *serialized) PutCredentials(ctx context.Context, c *sdk.Credentials) error {
	return w.write(ctx, func() error { return w.s.PutCredentials(ctx, c) }, c.TenantID)
}

func (w *serialized) AdvanceTOTPStep(ctx context.Context, tenantID, memberID string, step int64) (ok bool, err error) {
	err = w.write(ctx, func() error { ok, err = w.s.AdvanceTOTPStep(ctx, tenantID, memberID, step); return err }, tenantID)
	return ok, err
}

func (w *serialized) DeleteCredentials(ctx context.Context, tenantID, memberID string) error {
	return w.write(ctx, func() error { return w.s.DeleteCredentials(ctx, tenantID, memberID) }, tenantID)
}

// Groups.

func (w *serialized) CreateGroup(ctx context.Context, g *sdk.Group) error {
	return w.write(ctx, func() error { return w.s.CreateGroup(ctx, g) }, g.TenantID)
}

func (w *serialized) GetGroup(ctx context.Context, tenantID, id string) (*sdk.Group, error) {
	return w.s.GetGroup(ctx, tenantID, id)
}

func (w *serialized) GetGroups(ctx context.Context, tenantID string, ids []string) ([]*sdk.Group, error) {
	return w.s.GetGroups(ctx, tenantID, ids)
}

func (w *serialized) ListGroups(ctx context.Context, tenantID string, q sdk.GroupQuery) ([]*sdk.Group, error) {
	return w.s.ListGroups(ctx, tenantID, q)
}

func (w *serialized) CountGroups(ctx context.Context, tenantID string, where *sdk.Cond) (int, error) {
	return w.s.CountGroups(ctx, tenantID, where)
}

func (w *serialized) UpdateGroup(ctx context.Context, g *sdk.Group, expectedVersion int64) error {
	return w.write(ctx, func() error { return w.s.UpdateGroup(ctx, g, expectedVersion) }, g.TenantID)
}

func (w *serialized) DeleteGroup(ctx context.Context, tenantID, id string, expectedVersion int64) error {
	return w.write(ctx, func() error { return w.s.DeleteGroup(ctx, tenantID, id, expectedVersion) }, tenantID)
}

func (w *serialized) AddGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (g *sdk.Group, n int, err error) {
	err = w.write(ctx, func() error { g, n, err = w.s.AddGroupMembers(ctx, tenantID, groupID, memberIDs, now); return err }, tenantID)
	return g, n, err
}

func (w *serialized) RemoveGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (g *sdk.Group, n int, err error) {
	err = w.write(ctx, func() error { g, n, err = w.s.RemoveGroupMembers(ctx, tenantID, groupID, memberIDs, now); return err }, tenantID)
	return g, n, err
}

func (w *serialized) ListGroupMembers(ctx context.Context, tenantID, groupID, after string, limit int) ([]string, error) {
	return w.s.ListGroupMembers(ctx, tenantID, groupID, after, limit)
}

func (w *serialized) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	return w.s.ListMemberGroups(ctx, tenantID, memberIDs)
}

func (w *serialized) DeleteEdges(ctx context.Context, tenantID string, edges []sdk.GroupEdge) (n int, err error) {
	err = w.write(ctx, func() error { n, err = w.s.DeleteEdges(ctx, tenantID, edges); return err }, tenantID)
	return n, err
}

func (w *serialized) MissingMembers(ctx context.Context, tenantID string, ids []string) ([]string, error) {
	return w.s.MissingMembers(ctx, tenantID, ids)
}

// Tokens.

func (w *serialized) CreateToken(ctx context.Context, t *sdk.Token) error {
	return w.write(ctx, func() error { return w.s.CreateToken(ctx, t) }, t.TenantID)
}

func (w *serialized) GetTokenByHash(ctx context.Context, tenantID, hash string) (*sdk.Token, error) {
	return w.s.GetTokenByHash(ctx, tenantID, hash)
}

func (w *serialized) ListTokens(ctx context.Context, tenantID string) ([]*sdk.Token, error) {
	return w.s.ListTokens(ctx, tenantID)
}

func (w *serialized) DeleteToken(ctx context.Context, tenantID, id string) error {
	return w.write(ctx, func() error { return w.s.DeleteToken(ctx, tenantID, id) }, tenantID)
}

func (w *serialized) TouchToken(ctx context.Context, tenantID, id string, at time.Time) error {
	return w.write(ctx, func() error { return w.s.TouchToken(ctx, tenantID, id, at) }, tenantID)
}

// serializedBulk serialises a wrapped [sdk.BulkMemberStore].
type serializedBulk struct {
	w *serialized
	b sdk.BulkMemberStore
}

func (sb serializedBulk) CreateMembers(ctx context.Context, ws []sdk.MemberWrite) []error {
	tenants := make([]string, 0, 1)
	for _, mw := range ws {
		tenants = append(tenants, mw.Member.TenantID)
	}
	var errs []error
	if err := sb.w.write(ctx, func() error { errs = sb.b.CreateMembers(ctx, ws); return nil }, tenants...); err != nil {
		errs = make([]error, len(ws))
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

func (sb serializedBulk) AppendAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	tenants := make([]string, 0, 1)
	for _, e := range es {
		tenants = append(tenants, e.TenantID)
	}
	return sb.w.write(ctx, func() error { return sb.b.AppendAudits(ctx, es) }, tenants...)
}

var (
	_ sdk.Store              = (*serialized)(nil)
	_ sdk.InlineMemberGroups = (*serialized)(nil)
)
