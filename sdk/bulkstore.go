package sdk

import "context"

// BulkMemberStore is an optional capability of a [Store]: many member
// writes in few round trips, for the HR sync. Each method applies every
// item independently (unordered) and returns one error per item, nil for
// success, with the same outcomes as the single-item method. A store
// without it gets the single-item methods called in a loop.
type BulkMemberStore interface {
	// CreateMembers creates members of one tenant. Seats are taken in
	// input order for the members with holdsSeat[i]: once none is free the
	// remaining ones fail with ReasonSeatLimit and nothing is written for
	// them.
	CreateMembers(ctx context.Context, tenantID string, ms []*Member, holdsSeat []bool) []error
	// UpdateMembers applies conditional replacements, like UpdateMember.
	// Seats for items with SeatDelta +1 are taken in input order.
	UpdateMembers(ctx context.Context, tenantID string, us []MemberUpdate) []error
	// DeleteMembers applies conditional deletions, like DeleteMember.
	DeleteMembers(ctx context.Context, tenantID string, ds []MemberDelete) []error
	// AppendAudits appends events, like AppendAudit.
	AppendAudits(ctx context.Context, es []*AuditEvent) error
}

// MemberScanner is an optional capability of a [Store]: reading every
// member of a tenant in one query, streamed in batches, for the HR sync.
// Paging with ListMembers costs one query per page; on a server that cannot
// serve a page from an index, each of those queries scans the collection.
type MemberScanner interface {
	// ScanMembers calls fn with every member of the tenant, in no
	// particular order, stopping at the first error fn returns (and
	// returning it). Members written during a scan may or may not be seen.
	ScanMembers(ctx context.Context, tenantID string, fn func(*Member) error) error
}

// MemberUpdate is one conditional replacement of a bulk update.
type MemberUpdate struct {
	Member    *Member
	Expected  int64
	SeatDelta int
}

// MemberDelete is one conditional deletion of a bulk delete.
type MemberDelete struct {
	ID          string
	Expected    int64
	ReleaseSeat bool
}

// loopBulk adapts a Store without BulkMemberStore.
type loopBulk struct{ Store }

func (l loopBulk) CreateMembers(ctx context.Context, _ string, ms []*Member, holds []bool) []error {
	errs := make([]error, len(ms))
	for i, m := range ms {
		errs[i] = l.CreateMember(ctx, MemberWrite{Member: m, HoldsSeat: holds[i]})
	}
	return errs
}

func (l loopBulk) UpdateMembers(ctx context.Context, _ string, us []MemberUpdate) []error {
	errs := make([]error, len(us))
	for i, u := range us {
		errs[i] = l.UpdateMember(ctx, MemberWrite{Member: u.Member, ExpectedVersion: u.Expected, SeatDelta: u.SeatDelta})
	}
	return errs
}

func (l loopBulk) DeleteMembers(ctx context.Context, tenantID string, ds []MemberDelete) []error {
	errs := make([]error, len(ds))
	for i, d := range ds {
		errs[i] = l.DeleteMember(ctx, tenantID, d.ID, d.Expected, d.ReleaseSeat)
	}
	return errs
}

func (l loopBulk) AppendAudits(ctx context.Context, es []*AuditEvent) error {
	for _, e := range es {
		if err := l.AppendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) bulkStore() BulkMemberStore {
	if b, ok := c.store.(BulkMemberStore); ok {
		return b
	}
	return loopBulk{c.store}
}
