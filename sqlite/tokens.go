package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/rosterhq/roster/sdk"
)

var _ sdk.TokenStore = (*Store)(nil)

// CreateToken implements [sdk.TokenStore].
func (s *Store) CreateToken(ctx context.Context, t *sdk.Token) error {
	const op = "sqlite.CreateToken"
	return s.write(ctx, op, func(x *wtx) error {
		if _, err := x.seats(op, t.TenantID); err != nil {
			return err
		}
		args, err := tokenArgs(t)
		return x.put(qTokenInsert, args, err, func(error) error {
			if taken, err := x.found(qTokenHashTaken, t.TenantID, t.Hash); err != nil || taken {
				return firstErr(err, sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonTokenExists, "the tenant already has this token", nil))
			}
			return exists(op, "token")
		})
	})
}

// GetTokenByHash implements [sdk.TokenStore], from (tenant_id, hash).
func (s *Store) GetTokenByHash(ctx context.Context, tenantID, hash string) (*sdk.Token, error) {
	return readOne(ctx, s, "sqlite.GetTokenByHash", "token", qTokenByHash, decodeToken, tenantID, hash)
}

// ListTokens implements [sdk.TokenStore].
func (s *Store) ListTokens(ctx context.Context, tenantID string) ([]*sdk.Token, error) {
	const op = "sqlite.ListTokens"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.st.r[qTokenList].QueryContext(ctx, tenantID)
	out, err := collect(ctx, rows, err, decodeToken)
	return out, s.translate(ctx, op, err)
}

// DeleteToken implements [sdk.TokenStore].
func (s *Store) DeleteToken(ctx context.Context, tenantID, id string) error {
	const op = "sqlite.DeleteToken"
	return s.write(ctx, op, func(x *wtx) error {
		n, err := x.exec(qTokenDelete, tenantID, id)
		if err == nil && n == 0 {
			return notFound(op, "token")
		}
		return err
	})
}

// TouchToken implements [sdk.TokenStore].
func (s *Store) TouchToken(ctx context.Context, tenantID, id string, at time.Time) error {
	const op = "sqlite.TouchToken"
	return s.write(ctx, op, func(x *wtx) error {
		var doc []byte
		err := x.row(qTokenTouch, tenantID, id).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, "token")
		}
		if err != nil {
			return err
		}
		t, err := decodeToken(doc)
		if err != nil || !at.After(t.LastUsedAt) {
			return err
		}
		t.LastUsedAt = at
		if doc, err = json.Marshal(t); err != nil {
			return err
		}
		_, err = x.tx.ExecContext(x.ctx, `UPDATE tokens SET doc = ? WHERE tenant_id = ? AND id = ?`, doc, tenantID, id)
		return err
	})
}
