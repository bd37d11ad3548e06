package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/rosterhq/roster/sdk"
)

var errTODO = errors.New("sqlite: not implemented yet")

var _ sdk.Store = (*Store)(nil)

func (s *Store) CreateTenant(ctx context.Context, t *sdk.Tenant, owner sdk.MemberWrite) error {
	return errTODO
}
func (s *Store) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) { return nil, errTODO }
func (s *Store) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	return nil, errTODO
}
func (s *Store) ListTenants(ctx context.Context, q sdk.TenantQuery) ([]*sdk.Tenant, error) {
	return nil, errTODO
}
func (s *Store) UpdateTenant(ctx context.Context, t *sdk.Tenant, expectedVersion int64) error {
	return errTODO
}
func (s *Store) AdjustExtraSeats(ctx context.Context, tenantID string, delta int, now time.Time) (*sdk.Tenant, error) {
	return nil, errTODO
}
func (s *Store) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	return nil, errTODO
}
func (s *Store) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	return nil, 0, errTODO
}
func (s *Store) CreateMember(ctx context.Context, w sdk.MemberWrite) error { return errTODO }
func (s *Store) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	return nil, errTODO
}
func (s *Store) GetMemberBy(ctx context.Context, tenantID string, key sdk.MemberKey, value string) (*sdk.Member, error) {
	return nil, errTODO
}
func (s *Store) ListMembers(ctx context.Context, tenantID string, q sdk.MemberQuery) ([]*sdk.Member, error) {
	return nil, errTODO
}
func (s *Store) CountMembers(ctx context.Context, tenantID string, f sdk.MemberFilter) (int, error) {
	return 0, errTODO
}
func (s *Store) EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error) {
	return false, errTODO
}
func (s *Store) UpdateMember(ctx context.Context, w sdk.MemberWrite) error  { return errTODO }
func (s *Store) DeleteMember(ctx context.Context, d sdk.MemberDelete) error { return errTODO }
func (s *Store) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error   { return errTODO }
func (s *Store) ListAudit(ctx context.Context, tenantID string, q sdk.AuditQuery) ([]*sdk.AuditEvent, error) {
	return nil, errTODO
}
func (s *Store) CreateInvitation(ctx context.Context, inv *sdk.Invitation) error { return errTODO }
func (s *Store) GetInvitation(ctx context.Context, tenantID, id string) (*sdk.Invitation, error) {
	return nil, errTODO
}
func (s *Store) GetInvitationByMember(ctx context.Context, tenantID, memberID string) (*sdk.Invitation, error) {
	return nil, errTODO
}
func (s *Store) UpdateInvitation(ctx context.Context, inv *sdk.Invitation, expected int64) error {
	return errTODO
}
func (s *Store) ListInvitations(ctx context.Context, tenantID string, q sdk.InvitationQuery) ([]*sdk.Invitation, error) {
	return nil, errTODO
}
func (s *Store) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	return nil, errTODO
}
func (s *Store) PutCredentials(ctx context.Context, c *sdk.Credentials) error { return errTODO }
func (s *Store) DeleteCredentials(ctx context.Context, tenantID, memberID string) error {
	return errTODO
}
func (s *Store) AdvanceTOTPStep(ctx context.Context, tenantID, memberID string, step int64) (bool, error) {
	return false, errTODO
}
func (s *Store) CreateGroup(ctx context.Context, g *sdk.Group) error { return errTODO }
func (s *Store) GetGroup(ctx context.Context, tenantID, id string) (*sdk.Group, error) {
	return nil, errTODO
}
func (s *Store) GetGroups(ctx context.Context, tenantID string, ids []string) ([]*sdk.Group, error) {
	return nil, errTODO
}
func (s *Store) ListGroups(ctx context.Context, tenantID string, q sdk.GroupQuery) ([]*sdk.Group, error) {
	return nil, errTODO
}
func (s *Store) CountGroups(ctx context.Context, tenantID string, where *sdk.Cond) (int, error) {
	return 0, errTODO
}
func (s *Store) UpdateGroup(ctx context.Context, g *sdk.Group, expectedVersion int64) error {
	return errTODO
}
func (s *Store) DeleteGroup(ctx context.Context, tenantID, id string, expectedVersion int64) error {
	return errTODO
}
func (s *Store) AddGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	return nil, 0, errTODO
}
func (s *Store) RemoveGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	return nil, 0, errTODO
}
func (s *Store) ListGroupMembers(ctx context.Context, tenantID, groupID, after string, limit int) ([]string, error) {
	return nil, errTODO
}
func (s *Store) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	return nil, errTODO
}
func (s *Store) DeleteEdges(ctx context.Context, tenantID string, edges []sdk.GroupEdge) (int, error) {
	return 0, errTODO
}
func (s *Store) MissingMembers(ctx context.Context, tenantID string, ids []string) ([]string, error) {
	return nil, errTODO
}
func (s *Store) CreateToken(ctx context.Context, t *sdk.Token) error { return errTODO }
func (s *Store) GetTokenByHash(ctx context.Context, tenantID, hash string) (*sdk.Token, error) {
	return nil, errTODO
}
func (s *Store) ListTokens(ctx context.Context, tenantID string) ([]*sdk.Token, error) {
	return nil, errTODO
}
func (s *Store) DeleteToken(ctx context.Context, tenantID, id string) error { return errTODO }
func (s *Store) TouchToken(ctx context.Context, tenantID, id string, at time.Time) error {
	return errTODO
}

// Import stubs.
func (s *Store) ImportTenant(ctx context.Context, t *sdk.Tenant) error { return errTODO }
func (s *Store) ImportMembers(ctx context.Context, ms []*sdk.Member, globalEmail bool) error {
	return errTODO
}
func (s *Store) ImportCredentials(ctx context.Context, c *sdk.Credentials) error { return errTODO }
func (s *Store) ImportGroup(ctx context.Context, g *sdk.Group) error             { return errTODO }
func (s *Store) ImportEdges(ctx context.Context, tenantID string, es []sdk.GroupEdge) error {
	return errTODO
}
func (s *Store) ImportInvitation(ctx context.Context, inv *sdk.Invitation) error { return errTODO }
func (s *Store) ImportToken(ctx context.Context, t *sdk.Token) error             { return errTODO }
func (s *Store) ImportAudits(ctx context.Context, es []*sdk.AuditEvent) error    { return errTODO }
func (s *Store) Counts(ctx context.Context, tenantIDs []string) (map[string]int64, error) {
	return nil, errTODO
}
