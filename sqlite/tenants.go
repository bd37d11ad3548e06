package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// CreateTenant implements [sdk.TenantStore]: the tenant, its owner and the
// owner's password hash in one transaction.
func (s *Store) CreateTenant(ctx context.Context, t *sdk.Tenant, owner sdk.MemberWrite) error {
	const op = "sqlite.CreateTenant"
	return s.write(ctx, op, func(x *wtx) error {
		args, err := tenantArgs(t)
		err = x.put(qTenantInsert, args, err, func(error) error {
			if taken, err := x.found(qTenantSlugExists, t.Slug); err != nil || taken {
				return firstErr(err, sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonSlugTaken, "the slug "+t.Slug+" is taken", nil))
			}
			return exists(op, "tenant")
		})
		if err != nil {
			return err
		}
		return x.putMember(op, owner, nil)
	})
}

// GetTenant implements [sdk.TenantStore].
func (s *Store) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	return s.getTenant(ctx, "sqlite.GetTenant", qTenantGet, id)
}

// GetTenantBySlug implements [sdk.TenantStore].
func (s *Store) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	return s.getTenant(ctx, "sqlite.GetTenantBySlug", qTenantBySlug, slug)
}

func (s *Store) getTenant(ctx context.Context, op string, q query, key string) (*sdk.Tenant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, release := s.read(q)
	defer release()
	t, err := scanTenant(st.QueryRowContext(ctx, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "tenant")
	}
	return t, s.translate(ctx, op, err)
}

// ListTenants implements [sdk.TenantStore].
func (s *Store) ListTenants(ctx context.Context, q sdk.TenantQuery) ([]*sdk.Tenant, error) {
	const op = "sqlite.ListTenants"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT doc, seats_used FROM tenants WHERE id > ? ORDER BY id LIMIT ?`, q.After, sqlLimit(q.Limit))
	if err != nil {
		return nil, s.translate(ctx, op, err)
	}
	defer rows.Close()
	out := []*sdk.Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, s.translate(ctx, op, err)
		}
		out = append(out, t)
	}
	return out, s.translate(ctx, op, rows.Err())
}

// tenant reads the tenant for a write of it.
func (x *wtx) tenant(op, id string) (*sdk.Tenant, error) {
	t, err := scanTenant(x.row(qTenantGet, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "tenant")
	}
	return t, err
}

// saveTenant writes every field of t, seat counter included.
func (x *wtx) saveTenant(t *sdk.Tenant) error {
	args, err := tenantArgs(t)
	if err != nil {
		return err
	}
	// qTenantUpdate: version, included, extra, used, doc, id.
	_, err = x.exec(qTenantUpdate, args[2], args[3], args[4], args[5], args[6], t.ID)
	return err
}

// modifyTenant reads the tenant, lets change edit it and writes it back,
// returning it after.
func (s *Store) modifyTenant(ctx context.Context, op, id string, change func(x *wtx, t *sdk.Tenant) error) (*sdk.Tenant, error) {
	var out *sdk.Tenant
	err := s.write(ctx, op, func(x *wtx) error {
		t, err := x.tenant(op, id)
		if err != nil {
			return err
		}
		if err := change(x, t); err != nil {
			return err
		}
		out = t
		return x.saveTenant(t)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateTenant implements [sdk.TenantStore].
func (s *Store) UpdateTenant(ctx context.Context, t *sdk.Tenant, expected int64) error {
	const op = "sqlite.UpdateTenant"
	nt := t.Clone()
	_, err := s.modifyTenant(ctx, op, t.ID, func(_ *wtx, cur *sdk.Tenant) error {
		if cur.Version != expected {
			return stale(op)
		}
		cur.Name, cur.Roles, cur.Settings = nt.Name, nt.Roles, nt.Settings
		cur.Version = expected + 1
		cur.UpdatedAt = nt.UpdatedAt
		return nil
	})
	if err == nil {
		t.Version = expected + 1
	}
	return err
}

// AdjustExtraSeats implements [sdk.TenantStore].
func (s *Store) AdjustExtraSeats(ctx context.Context, tenantID string, delta int, now time.Time) (*sdk.Tenant, error) {
	const op = "sqlite.AdjustExtraSeats"
	return s.modifyTenant(ctx, op, tenantID, func(_ *wtx, t *sdk.Tenant) error {
		if t.ExtraSeats+delta < 0 || (delta < 0 && t.SeatLimit()+delta < t.SeatsUsed) {
			return sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonSeatsInUse, "cannot remove seats that are in use or included in the plan", nil)
		}
		t.ExtraSeats += delta
		t.Version++
		t.UpdatedAt = now
		return nil
	})
}

// SetOwner implements [sdk.TenantStore].
func (s *Store) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	const op = "sqlite.SetOwner"
	return s.modifyTenant(ctx, op, tenantID, func(_ *wtx, t *sdk.Tenant) error {
		if t.OwnerID != from {
			return stale(op)
		}
		t.OwnerID = to
		t.Version++
		t.UpdatedAt = now
		return nil
	})
}

// RecountSeats implements [sdk.TenantStore]. The count and the repair are
// one transaction, which no member write interleaves with, so it never
// gives up.
func (s *Store) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	const op = "sqlite.RecountSeats"
	prev := 0
	t, err := s.modifyTenant(ctx, op, tenantID, func(x *wtx, t *sdk.Tenant) error {
		n := 0
		for _, st := range slices.Compact(slices.Sorted(slices.Values(holding))) {
			c, err := x.count(qMemberCountStatus, tenantID, string(st))
			if err != nil {
				return err
			}
			n += int(c)
		}
		prev, t.SeatsUsed = t.SeatsUsed, n
		return nil
	})
	return t, prev, err
}

// purgeTables are the tables holding a tenant's records, each keyed by
// tenant_id first, so that each delete is a range of its primary key.
var purgeTables = []string{"members", "member_emails", "credentials", "groups", "edges", "invitations", "tokens", "audit"}

// DeleteTenant implements [sdk.TenantStore]: the tenant and every row of
// it, in one transaction (so the tenant is never seen half deleted and
// never carries [sdk.Tenant.Deleting]). A member's address written with
// GlobalEmail is freed with the member row, which holds it.
func (s *Store) DeleteTenant(ctx context.Context, tenantID string, expected int64) error {
	const op = "sqlite.DeleteTenant"
	return s.write(ctx, op, func(x *wtx) error {
		t, err := x.tenant(op, tenantID)
		if err != nil {
			return err
		}
		if t.Version != expected {
			return stale(op)
		}
		for _, table := range purgeTables {
			if _, err := x.tx.ExecContext(x.ctx, `DELETE FROM `+table+` WHERE tenant_id = ?`, tenantID); err != nil {
				return err
			}
		}
		_, err = x.tx.ExecContext(x.ctx, `DELETE FROM tenants WHERE id = ?`, tenantID)
		return err
	})
}
