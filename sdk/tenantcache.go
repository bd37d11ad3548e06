package sdk

import (
	"context"
	"sync"
	"time"
)

// tenantCacheSize bounds how many tenant snapshots a Client keeps.
const tenantCacheSize = 1024

// maxAdmitAttempts bounds how often adding a member re-decides after the
// tenant changed between the decision and the write.
const maxAdmitAttempts = 4

// tenantCache keeps the last tenant record a Client read, by id, so that
// adding a member (the hot path of a provisioning run) decides its policy
// without a read. A snapshot may be stale: it is only ever used for a
// decision whose write is conditional on the snapshot's Version (see
// [MemberStore.CreateMember]), and a refusal made on a snapshot is made
// again on fresh data. Seat counts in a snapshot are not trusted: the store
// takes seats atomically.
//
// Member updates ([Client.UpdateMember]) write no tenant record, so their
// writes cannot be conditional on its version: they decide on a snapshot
// only while it is younger than [MemberSnapshotMaxAge], which bounds how
// long a change made through another server (a role's rank, the owner)
// can go unseen, as the SCIM token cache bounds a revocation.
type tenantCache struct {
	mu sync.Mutex
	m  map[string]snapshot
}

type snapshot struct {
	t  *Tenant
	at time.Time // when it was read
}

// MemberSnapshotMaxAge is how old a tenant snapshot may be for a member
// update to decide on it without reading the tenant.
const MemberSnapshotMaxAge = 2 * time.Second

func (tc *tenantCache) get(id string) *Tenant {
	t, _ := tc.getAt(id)
	return t
}

// getAt returns a copy of the snapshot and when it was read.
func (tc *tenantCache) getAt(id string) (*Tenant, time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	s := tc.m[id]
	return s.t.Clone(), s.at
}

func (tc *tenantCache) putAt(t *Tenant, at time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.m == nil {
		tc.m = make(map[string]snapshot)
	}
	cur, ok := tc.m[t.ID]
	if ok && cur.t.Version > t.Version {
		return // a read that raced with a newer one
	}
	if !ok && len(tc.m) >= tenantCacheSize {
		for id := range tc.m { // map order: an arbitrary victim
			delete(tc.m, id)
			break
		}
	}
	tc.m[t.ID] = snapshot{t: t.Clone(), at: at}
}

func (tc *tenantCache) forget(id string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	delete(tc.m, id)
}

// tenantSnapshot returns the cached snapshot of the tenant, or, when there
// is none or fresh is set, reads it and caches it.
func (c *Client) tenantSnapshot(ctx context.Context, op, id string, fresh bool) (t *Tenant, cached bool, err error) {
	if !fresh {
		if t := c.tenants.get(id); t != nil {
			return t, true, nil
		}
	}
	t, err = c.getTenant(ctx, op, id)
	return t, false, err
}

// getTenant reads the tenant, refreshing the snapshot kept for it.
func (c *Client) getTenant(ctx context.Context, op, id string) (*Tenant, error) {
	at := c.Now()
	t, err := c.store.GetTenant(ctx, id)
	if err == nil && t.Deleting {
		err = errDeleting(op)
	}
	if err != nil {
		if isNotFound(err) {
			c.tenants.forget(id)
		}
		return nil, withOp(op, err)
	}
	c.tenants.putAt(t, at)
	return t, nil
}

// errDeleting is the answer for a tenant whose deletion has not finished.
func errDeleting(op string) error {
	return E(op, CodeNotFound, ReasonTenantDeleting, "the tenant's deletion has not finished; delete it again to finish it", nil)
}

// RecentTenant returns the client's snapshot of the tenant when it is
// younger than [MemberSnapshotMaxAge], else reads the tenant (refreshing
// the snapshot). It suits a transport that needs the tenant's declarations
// (such as its custom attributes) on every request: a change made through
// another client is seen within that age.
func (c *Client) RecentTenant(ctx context.Context, tenantID string) (*Tenant, error) {
	t, _, err := c.recentTenant(ctx, "sdk.RecentTenant", tenantID, false)
	return t, err
}

// recentTenant returns the snapshot of the tenant when it is younger than
// [MemberSnapshotMaxAge] and fresh is not set; otherwise it reads the
// tenant. cached tells which.
func (c *Client) recentTenant(ctx context.Context, op, id string, fresh bool) (t *Tenant, cached bool, err error) {
	if !fresh {
		if t, at := c.tenants.getAt(id); t != nil && c.Now().Sub(at) < MemberSnapshotMaxAge {
			return t, true, nil
		}
	}
	t, err = c.getTenant(ctx, op, id)
	return t, false, err
}

// admitMember decides whether actor may add a member of the tenant in
// state st with role (the tenant's default role when empty), then stores
// the member build returns for the tenant and the role decided (with the
// password hash, when not nil). The
// decision is made on a snapshot of the tenant and the write is
// conditional on its version: when the tenant changed in between, or the
// snapshot refused, it decides again on fresh data.
//
// When event is set and the store can ([Client.carriedAudit]), the write
// carries the audit entry of that event of actor about the member, which
// admitMember returns (the caller then only notifies observers); it
// returns nil when the caller is to record the event.
func (c *Client) admitMember(ctx context.Context, op string, actor Actor, tenantID string, st Status, role string,
	hash *string, event EventType, build func(t *Tenant, role string) (*Member, error)) (*Tenant, *Member, *AuditEvent, error) {
	for attempt := 1; ; attempt++ {
		t, cached, err := c.tenantSnapshot(ctx, op, tenantID, attempt > 1)
		if err != nil {
			return nil, nil, nil, err
		}
		p, err := c.policyFor(ctx, op, t, actor)
		if err != nil {
			return nil, nil, nil, err
		}
		r := role
		if r == "" {
			r = t.DefaultRole()
		}
		if err := p.checkAddAs(st, r).Err(op); err != nil {
			if cached {
				continue
			}
			return nil, nil, nil, err
		}
		m, err := build(t, r)
		if err != nil {
			return nil, nil, nil, err
		}
		var a *AuditEvent
		if event != "" && !c.uniqueEmails(t) {
			a = c.carriedAudit(Event{Type: event, TenantID: t.ID, Actor: actor, MemberID: m.ID, After: m})
		}
		err = c.createMember(ctx, op, t, m, hash, a)
		if ReasonOf(err) == ReasonVersionMismatch && attempt < maxAdmitAttempts {
			continue
		}
		if err != nil {
			return nil, nil, nil, err
		}
		return t, m, a, nil
	}
}
