package storetest

import (
	"context"
	"runtime"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// gate is a store whose calls wait for the test's go-ahead: an operation
// run through a client on a gate stops before each store call until the
// test lets that call proceed, so a test decides in which order the store
// steps of two operations happen. It overrides every method an
// operation on members, ownership, seats or the audit log calls; the
// optional capabilities of the store it wraps stay hidden, so the SDK takes
// its fallbacks (which have the same outcomes).
type gate struct {
	sdk.Store
	ctx    context.Context // the round's: when it ends, waiting calls fail with its error
	arrive chan *call
}

// call is a store call waiting at a gate.
type call struct {
	method  string
	proceed chan struct{}
}

func newGate(ctx context.Context, s sdk.Store) *gate {
	return &gate{Store: s, ctx: ctx, arrive: make(chan *call)}
}

// wait announces a call and blocks until the test lets it proceed. The
// round's context bounds it, not the call's: the SDK writes audit events
// with a context that is never cancelled.
func (g *gate) wait(method string) error {
	c := &call{method: method, proceed: make(chan struct{})}
	select {
	case g.arrive <- c:
	case <-g.ctx.Done():
		return g.ctx.Err()
	}
	select {
	case <-c.proceed:
		return nil
	case <-g.ctx.Done():
		return g.ctx.Err()
	}
}

func (g *gate) CreateTenant(ctx context.Context, t *sdk.Tenant, owner sdk.MemberWrite) error {
	if err := g.wait("CreateTenant"); err != nil {
		return err
	}
	return g.Store.CreateTenant(ctx, t, owner)
}

func (g *gate) DeleteTenant(ctx context.Context, tenantID string, expected int64) error {
	if err := g.wait("DeleteTenant"); err != nil {
		return err
	}
	return g.Store.DeleteTenant(ctx, tenantID, expected)
}

func (g *gate) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	if err := g.wait("GetTenant"); err != nil {
		return nil, err
	}
	return g.Store.GetTenant(ctx, id)
}

func (g *gate) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	if err := g.wait("GetTenantBySlug"); err != nil {
		return nil, err
	}
	return g.Store.GetTenantBySlug(ctx, slug)
}

func (g *gate) UpdateTenant(ctx context.Context, t *sdk.Tenant, expected int64) error {
	if err := g.wait("UpdateTenant"); err != nil {
		return err
	}
	return g.Store.UpdateTenant(ctx, t, expected)
}

func (g *gate) AdjustExtraSeats(ctx context.Context, tenantID string, delta int, now time.Time) (*sdk.Tenant, error) {
	if err := g.wait("AdjustExtraSeats"); err != nil {
		return nil, err
	}
	return g.Store.AdjustExtraSeats(ctx, tenantID, delta, now)
}

func (g *gate) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	if err := g.wait("SetOwner"); err != nil {
		return nil, err
	}
	return g.Store.SetOwner(ctx, tenantID, from, to, now)
}

func (g *gate) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	if err := g.wait("RecountSeats"); err != nil {
		return nil, 0, err
	}
	return g.Store.RecountSeats(ctx, tenantID, holding)
}

func (g *gate) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	if err := g.wait("CreateMember"); err != nil {
		return err
	}
	return g.Store.CreateMember(ctx, w)
}

func (g *gate) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	if err := g.wait("GetMember"); err != nil {
		return nil, err
	}
	return g.Store.GetMember(ctx, tenantID, id)
}

func (g *gate) GetMemberBy(ctx context.Context, tenantID string, key sdk.MemberKey, value string) (*sdk.Member, error) {
	if err := g.wait("GetMemberBy"); err != nil {
		return nil, err
	}
	return g.Store.GetMemberBy(ctx, tenantID, key, value)
}

func (g *gate) ListMembers(ctx context.Context, tenantID string, q sdk.MemberQuery) ([]*sdk.Member, error) {
	if err := g.wait("ListMembers"); err != nil {
		return nil, err
	}
	return g.Store.ListMembers(ctx, tenantID, q)
}

func (g *gate) CountMembers(ctx context.Context, tenantID string, f sdk.MemberFilter) (int, error) {
	if err := g.wait("CountMembers"); err != nil {
		return 0, err
	}
	return g.Store.CountMembers(ctx, tenantID, f)
}

func (g *gate) EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error) {
	if err := g.wait("EmailInOtherTenant"); err != nil {
		return false, err
	}
	return g.Store.EmailInOtherTenant(ctx, tenantID, emailKey)
}

func (g *gate) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	if err := g.wait("UpdateMember"); err != nil {
		return err
	}
	return g.Store.UpdateMember(ctx, w)
}

func (g *gate) DeleteMember(ctx context.Context, d sdk.MemberDelete) error {
	if err := g.wait("DeleteMember"); err != nil {
		return err
	}
	return g.Store.DeleteMember(ctx, d)
}

func (g *gate) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error {
	if err := g.wait("AppendAudit"); err != nil {
		return err
	}
	return g.Store.AppendAudit(ctx, e)
}

func (g *gate) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	if err := g.wait("GetCredentials"); err != nil {
		return nil, err
	}
	return g.Store.GetCredentials(ctx, tenantID, memberID)
}

func (g *gate) DeleteCredentials(ctx context.Context, tenantID, memberID string) error {
	if err := g.wait("DeleteCredentials"); err != nil {
		return err
	}
	return g.Store.DeleteCredentials(ctx, tenantID, memberID)
}

func (g *gate) GetInvitationByMember(ctx context.Context, tenantID, memberID string) (*sdk.Invitation, error) {
	if err := g.wait("GetInvitationByMember"); err != nil {
		return nil, err
	}
	return g.Store.GetInvitationByMember(ctx, tenantID, memberID)
}

func (g *gate) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	if err := g.wait("ListMemberGroups"); err != nil {
		return nil, err
	}
	return g.Store.ListMemberGroups(ctx, tenantID, memberIDs)
}

func (g *gate) RemoveGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	if err := g.wait("RemoveGroupMembers"); err != nil {
		return nil, 0, err
	}
	return g.Store.RemoveGroupMembers(ctx, tenantID, groupID, memberIDs, now)
}

func (g *gate) MissingMembers(ctx context.Context, tenantID string, ids []string) ([]string, error) {
	if err := g.wait("MissingMembers"); err != nil {
		return nil, err
	}
	return g.Store.MissingMembers(ctx, tenantID, ids)
}

// yielding is a store whose member and tenant calls yield the processor
// first, so that operations racing from goroutines interleave their store
// steps even when the store answers at once.
type yielding struct{ sdk.Store }

func (y yielding) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	runtime.Gosched()
	return y.Store.GetTenant(ctx, id)
}

func (y yielding) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	runtime.Gosched()
	return y.Store.GetMember(ctx, tenantID, id)
}

func (y yielding) EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error) {
	runtime.Gosched()
	return y.Store.EmailInOtherTenant(ctx, tenantID, emailKey)
}

func (y yielding) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	runtime.Gosched()
	return y.Store.CreateMember(ctx, w)
}

func (y yielding) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	runtime.Gosched()
	return y.Store.UpdateMember(ctx, w)
}

func (y yielding) DeleteMember(ctx context.Context, d sdk.MemberDelete) error {
	runtime.Gosched()
	return y.Store.DeleteMember(ctx, d)
}

func (y yielding) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	runtime.Gosched()
	return y.Store.RecountSeats(ctx, tenantID, holding)
}
