package sdk

import "context"

// BulkMemberStore is an optional capability of a [Store]: many member
// creations, or audit events, in one round trip, for the HR sync. A store
// without it gets the single-item methods called in a loop.
type BulkMemberStore interface {
	// CreateMembers applies [MemberStore.CreateMember] to each write
	// independently and returns one error per write (nil for success), with
	// the outcomes of CreateMember. Seats for writes with SeatTake are taken
	// in input order: once none is free the remaining ones fail with
	// ReasonSeatLimit and nothing is written for them.
	CreateMembers(ctx context.Context, ws []MemberWrite) []error
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

// AuditedMemberWrites is an optional capability of a [Store]: appending a
// member write's audit event ([MemberWrite.Audit]) in the write's own
// atomic step, which saves the separate [AuditStore.AppendAudit] — on a
// store where each call is a transaction, one commit of two — and closes
// the window in which a crash after an acknowledged write loses its event.
//
// The SDK uses it for [Client.AddMember] (except in a tenant whose
// addresses are unique across tenants, where a member that lost a race
// for its address is deleted again after the write) and
// [Client.UpdateMember] (and what builds on it: profile, status and
// password changes, a SCIM PUT or PATCH); invitations, role and ownership
// changes, removals and the HR sync's bulk writes append their events
// separately, as for a store without it.
type AuditedMemberWrites interface {
	// MemberWritesCarryAudit reports whether CreateMember and UpdateMember
	// honour [MemberWrite.Audit]. A store that wraps another answers for
	// the store it wraps.
	MemberWritesCarryAudit() bool
}

// loopBulk adapts a Store without BulkMemberStore.
type loopBulk struct{ Store }

func (l loopBulk) CreateMembers(ctx context.Context, ws []MemberWrite) []error {
	errs := make([]error, len(ws))
	for i, w := range ws {
		errs[i] = l.CreateMember(ctx, w)
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
