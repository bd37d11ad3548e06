package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/rosterhq/roster/sdk"
)

var (
	_ sdk.InvitationStore = (*Store)(nil)
	_ sdk.CredentialStore = (*Store)(nil)
)

type invitations struct {
	byID map[string]*sdk.Invitation // key: tenant/id
	ids  map[string][]string        // per tenant, sorted
}

func invKey(tenantID, id string) string { return tenantID + "/" + id }

func cloneInv(i *sdk.Invitation) *sdk.Invitation {
	c := *i
	c.SecretHash = slices.Clone(i.SecretHash)
	c.Resends = slices.Clone(i.Resends)
	return &c
}

func (s *Store) inv() *invitations {
	if s.invs == nil {
		s.invs = &invitations{byID: map[string]*sdk.Invitation{}, ids: map[string][]string{}}
	}
	return s.invs
}

// CreateInvitation implements sdk.InvitationStore.
func (s *Store) CreateInvitation(ctx context.Context, inv *sdk.Invitation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.inv()
	k := invKey(inv.TenantID, inv.ID)
	if _, ok := is.byID[k]; ok {
		return sdk.E("memstore.CreateInvitation", sdk.CodeAlreadyExists, "", "invitation id exists", nil)
	}
	is.byID[k] = cloneInv(inv)
	ids := is.ids[inv.TenantID]
	i, _ := slices.BinarySearch(ids, inv.ID)
	is.ids[inv.TenantID] = slices.Insert(ids, i, inv.ID)
	return nil
}

// GetInvitation implements sdk.InvitationStore.
func (s *Store) GetInvitation(ctx context.Context, tenantID, id string) (*sdk.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.invs == nil {
		return nil, notFound("memstore.GetInvitation", "invitation")
	}
	inv, ok := s.invs.byID[invKey(tenantID, id)]
	if !ok {
		return nil, notFound("memstore.GetInvitation", "invitation")
	}
	return cloneInv(inv), nil
}

// GetInvitationByMember implements sdk.InvitationStore.
func (s *Store) GetInvitationByMember(ctx context.Context, tenantID, memberID string) (*sdk.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.invs != nil {
		ids := s.invs.ids[tenantID]
		for i := len(ids) - 1; i >= 0; i-- {
			if inv := s.invs.byID[invKey(tenantID, ids[i])]; inv.MemberID == memberID {
				return cloneInv(inv), nil
			}
		}
	}
	return nil, notFound("memstore.GetInvitationByMember", "invitation")
}

// UpdateInvitation implements sdk.InvitationStore.
func (s *Store) UpdateInvitation(ctx context.Context, inv *sdk.Invitation, expected int64) error {
	const op = "memstore.UpdateInvitation"
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.inv()
	k := invKey(inv.TenantID, inv.ID)
	cur, ok := is.byID[k]
	if !ok {
		return notFound(op, "invitation")
	}
	if cur.Version != expected {
		return stale(op)
	}
	n := cloneInv(inv)
	n.Version = expected + 1
	is.byID[k] = n
	inv.Version = n.Version
	return nil
}

// ListInvitations implements sdk.InvitationStore.
func (s *Store) ListInvitations(ctx context.Context, tenantID string, q sdk.InvitationQuery) ([]*sdk.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*sdk.Invitation{}
	if s.invs == nil {
		return out, nil
	}
	ids := s.invs.ids[tenantID]
	start, found := slices.BinarySearch(ids, q.After)
	if found {
		start++
	}
	for _, id := range ids[start:] {
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
		inv := s.invs.byID[invKey(tenantID, id)]
		switch {
		case q.State != "" && inv.State != q.State,
			!q.ExpiredBefore.IsZero() && inv.ExpiresAt.After(q.ExpiredBefore),
			!q.ValidAfter.IsZero() && !inv.ExpiresAt.After(q.ValidAfter):
			continue
		}
		out = append(out, cloneInv(inv))
	}
	return out, nil
}

// GetCredentials implements sdk.CredentialStore.
func (s *Store) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.creds[invKey(tenantID, memberID)]
	if !ok {
		return nil, notFound("memstore.GetCredentials", "credentials")
	}
	cp := *c
	return &cp, nil
}

// PutCredentials implements sdk.CredentialStore: the password hash stays
// as it is.
func (s *Store) PutCredentials(ctx context.Context, c *sdk.Credentials) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.creds == nil {
		s.creds = map[string]*sdk.Credentials{}
	}
	cp := *c
	cp.PasswordHash = "" // member writes alone set the password
	if cur, ok := s.creds[invKey(c.TenantID, c.MemberID)]; ok {
		cp.PasswordHash = cur.PasswordHash
	}
	s.creds[invKey(c.TenantID, c.MemberID)] = &cp
	return nil
}

// AdvanceTOTPStep implements sdk.CredentialStore.
func (s *Store) AdvanceTOTPStep(ctx context.Context, tenantID, memberID string, step int64) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[invKey(tenantID, memberID)]
	if !ok || c.TOTPLastStep >= step {
		return false, nil
	}
	c.TOTPLastStep = step
	return true, nil
}

// DeleteCredentials implements sdk.CredentialStore.
func (s *Store) DeleteCredentials(ctx context.Context, tenantID, memberID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.creds, invKey(tenantID, memberID))
	return nil
}

// setPasswordHash sets a member's password hash as part of a member write;
// the caller holds the lock.
func (s *Store) setPasswordHash(tenantID, memberID string, hash *string, now time.Time) {
	if hash == nil {
		return
	}
	if s.creds == nil {
		s.creds = map[string]*sdk.Credentials{}
	}
	k := invKey(tenantID, memberID)
	c, ok := s.creds[k]
	if !ok {
		c = &sdk.Credentials{TenantID: tenantID, MemberID: memberID}
		s.creds[k] = c
	}
	c.PasswordHash, c.UpdatedAt = *hash, now
}

// GetMemberWithPasswordHash implements sdk.PasswordHashReader.
func (s *Store) GetMemberWithPasswordHash(ctx context.Context, tenantID, id string) (*sdk.Member, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, _, err := s.member("memstore.GetMemberWithPasswordHash", tenantID, id)
	if err != nil {
		return nil, "", err
	}
	hash := ""
	if c, ok := s.creds[invKey(tenantID, id)]; ok {
		hash = c.PasswordHash
	}
	return m.Clone(), hash, nil
}
