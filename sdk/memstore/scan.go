package memstore

import (
	"context"

	"github.com/rosterhq/roster/sdk"
)

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
