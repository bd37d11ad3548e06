package memstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/rosterhq/roster/sdk"
)

var _ sdk.BulkMemberStore = (*Store)(nil)

// CreateMembers implements sdk.BulkMemberStore under one lock.
func (s *Store) CreateMembers(ctx context.Context, tenantID string, ms []*sdk.Member, holds []bool) []error {
	const op = "memstore.CreateMembers"
	errs := make([]error, len(ms))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[tenantID]
	if !ok {
		for i := range errs {
			errs[i] = notFound(op, "tenant")
		}
		return errs
	}
	tm := s.members[tenantID]
	for i, m := range ms {
		if m.TenantID != tenantID {
			errs[i] = sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, "member of another tenant", nil)
			continue
		}
		if _, ok := tm.byID[m.ID]; ok {
			errs[i] = sdk.E(op, sdk.CodeAlreadyExists, "", "member id exists", nil)
			continue
		}
		if err := tm.conflict(op, m); err != nil {
			errs[i] = err
			continue
		}
		if holds[i] {
			if t.SeatsFree() <= 0 {
				errs[i] = seatLimit(op)
				continue
			}
			t.SeatsUsed++
		}
		tm.insert(m.Clone())
	}
	return errs
}

// UpdateMembers implements sdk.BulkMemberStore.
func (s *Store) UpdateMembers(ctx context.Context, _ string, us []sdk.MemberUpdate) []error {
	errs := make([]error, len(us))
	for i, u := range us {
		errs[i] = s.UpdateMember(ctx, sdk.MemberWrite{Member: u.Member, ExpectedVersion: u.Expected, SeatDelta: u.SeatDelta})
	}
	return errs
}

// DeleteMembers implements sdk.BulkMemberStore.
func (s *Store) DeleteMembers(ctx context.Context, tenantID string, ds []sdk.MemberDelete) []error {
	errs := make([]error, len(ds))
	for i, d := range ds {
		errs[i] = s.DeleteMember(ctx, tenantID, d.ID, d.Expected, d.ReleaseSeat)
	}
	return errs
}

// AppendAudits implements sdk.BulkMemberStore.
func (s *Store) AppendAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range es {
		evs := s.audit[e.TenantID]
		cp := *e
		// Events usually arrive in id order: append when they do.
		if n := len(evs); n == 0 || evs[n-1].ID < e.ID {
			s.audit[e.TenantID] = append(evs, &cp)
			continue
		}
		i, found := slices.BinarySearchFunc(evs, e.ID, func(a *sdk.AuditEvent, id string) int { return cmp.Compare(a.ID, id) })
		if !found {
			s.audit[e.TenantID] = slices.Insert(evs, i, &cp)
		}
	}
	return nil
}

var _ sdk.MemberScanner = (*Store)(nil)

// ScanMembers implements sdk.MemberScanner. It copies the tenant's members
// under the read lock and calls fn after releasing it, so fn may use the
// store.
func (s *Store) ScanMembers(ctx context.Context, tenantID string, fn func(*sdk.Member) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	var ms []*sdk.Member
	if tm, ok := s.members[tenantID]; ok {
		ms = make([]*sdk.Member, len(tm.ids))
		for i, id := range tm.ids {
			ms[i] = tm.byID[id].Clone()
		}
	}
	s.mu.RUnlock()
	for _, m := range ms {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}
