package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/rosterhq/roster/sdk"
)

type tenantTokens struct {
	byID   map[string]*sdk.Token
	byHash map[string]string
}

func (s *Store) tokensOf(tenantID string, create bool) *tenantTokens {
	e := s.ext()
	tt := e.tokens[tenantID]
	if tt == nil && create {
		tt = &tenantTokens{byID: map[string]*sdk.Token{}, byHash: map[string]string{}}
		e.tokens[tenantID] = tt
	}
	return tt
}

func cloneToken(t *sdk.Token) *sdk.Token {
	c := *t
	return &c
}

// CreateToken implements sdk.TokenStore.
func (s *Store) CreateToken(ctx context.Context, t *sdk.Token) error {
	const op = "memstore.CreateToken"
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[t.TenantID]; !ok {
		return notFound(op, "tenant")
	}
	tt := s.tokensOf(t.TenantID, true)
	if _, ok := tt.byHash[t.Hash]; ok {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonTokenExists, "the tenant already has this token", nil)
	}
	if _, ok := tt.byID[t.ID]; ok {
		return sdk.E(op, sdk.CodeAlreadyExists, "", "token id exists", nil)
	}
	tt.byID[t.ID] = cloneToken(t)
	tt.byHash[t.Hash] = t.ID
	return nil
}

// GetTokenByHash implements sdk.TokenStore.
func (s *Store) GetTokenByHash(ctx context.Context, tenantID, hash string) (*sdk.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if tt := s.tokensOf(tenantID, false); tt != nil {
		if id, ok := tt.byHash[hash]; ok {
			return cloneToken(tt.byID[id]), nil
		}
	}
	return nil, notFound("memstore.GetTokenByHash", "token")
}

// ListTokens implements sdk.TokenStore.
func (s *Store) ListTokens(ctx context.Context, tenantID string) ([]*sdk.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []*sdk.Token{}
	if tt := s.tokensOf(tenantID, false); tt != nil {
		for _, t := range tt.byID {
			out = append(out, cloneToken(t))
		}
	}
	slices.SortFunc(out, func(a, b *sdk.Token) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// DeleteToken implements sdk.TokenStore.
func (s *Store) DeleteToken(ctx context.Context, tenantID, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tt := s.tokensOf(tenantID, false)
	if tt == nil || tt.byID[id] == nil {
		return notFound("memstore.DeleteToken", "token")
	}
	delete(tt.byHash, tt.byID[id].Hash)
	delete(tt.byID, id)
	return nil
}

// TouchToken implements sdk.TokenStore.
func (s *Store) TouchToken(ctx context.Context, tenantID, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tt := s.tokensOf(tenantID, false)
	if tt == nil || tt.byID[id] == nil {
		return notFound("memstore.TouchToken", "token")
	}
	if t := tt.byID[id]; at.After(t.LastUsedAt) {
		t.LastUsedAt = at
	}
	return nil
}
