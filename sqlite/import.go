package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rosterhq/roster/sdk"
)

// The import methods copy records from another store as they are — ids,
// versions, timestamps, seat counters, the owner — for a data migration
// (roster migrate). Each replaces the record with the same id (an
// idempotent upsert), so that a copy interrupted and run again converges
// on the source. They check no invariant the source already kept, but the
// database's unique indexes still hold: an import that would give two
// records one key fails with the refusal CreateMember or CreateGroup
// would return.

// ImportTenant stores t as it is, SeatsUsed, ExtraSeats, OwnerID, Version
// and Settings included, replacing the tenant with its id.
func (s *Store) ImportTenant(ctx context.Context, t *sdk.Tenant) error {
	const op = "sqlite.ImportTenant"
	return s.write(ctx, op, func(x *wtx) error {
		args, err := tenantArgs(t)
		return x.put(qTenantUpsert, args, err, func(error) error {
			return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonSlugTaken, "the slug "+t.Slug+" belongs to another tenant", nil)
		})
	})
}

// ImportMembers stores the members as they are, in one transaction,
// replacing those with their ids; seat counters are left alone (the
// imported tenant carries its own). globalEmail marks them as written with
// [sdk.MemberWrite.GlobalEmail] (pass the source tenant's
// Settings.UniqueEmailAcrossTenants). Member.Groups is ignored: memberships
// are imported with ImportEdges.
func (s *Store) ImportMembers(ctx context.Context, ms []*sdk.Member, globalEmail bool) error {
	const op = "sqlite.ImportMembers"
	return s.write(ctx, op, func(x *wtx) error {
		for _, m := range ms {
			var old string
			err := x.row(qMemberOthers, m.TenantID, m.ID).Scan(&old)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			args, err := memberArgs(m, globalEmail)
			if err := x.put(qMemberUpsert, args, err, func(cause error) error { return x.memberConflict(op, m, globalEmail, false, cause) }); err != nil {
				return err
			}
			if err := x.putEmails(m, old, args[memberEmails].(string)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportCredentials stores every field of c — the password hash and the
// TOTP state, unlike [Store.PutCredentials] — replacing the member's.
func (s *Store) ImportCredentials(ctx context.Context, c *sdk.Credentials) error {
	const op = "sqlite.ImportCredentials"
	return s.write(ctx, op, func(x *wtx) error {
		_, err := x.exec(qCredUpsert, c.TenantID, c.MemberID, c.PasswordHash, c.TOTPSecret, c.TOTPPending, c.TOTPLastStep, timeText(c.UpdatedAt))
		return err
	})
}

// ImportGroup stores g as it is, replacing the group with its id. Its
// members are imported with ImportEdges.
func (s *Store) ImportGroup(ctx context.Context, g *sdk.Group) error {
	const op = "sqlite.ImportGroup"
	return s.write(ctx, op, func(x *wtx) error {
		args, err := groupArgs(g)
		return x.put(qGroupUpsert, args, err, func(cause error) error { return x.groupConflict(op, g, false, cause) })
	})
}

// ImportEdges adds the memberships of the tenant that are not there yet,
// in one transaction; groups' versions are left alone.
func (s *Store) ImportEdges(ctx context.Context, tenantID string, es []sdk.GroupEdge) error {
	const op = "sqlite.ImportEdges"
	return s.write(ctx, op, func(x *wtx) error {
		for _, e := range es {
			if _, err := x.exec(qEdgeInsert, tenantID, e.GroupID, e.MemberID); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportInvitation stores inv as it is (its secret hash and resend times
// included), replacing the invitation with its id.
func (s *Store) ImportInvitation(ctx context.Context, inv *sdk.Invitation) error {
	const op = "sqlite.ImportInvitation"
	return s.write(ctx, op, func(x *wtx) error {
		args, err := invitationArgs(inv)
		return x.put(qInvUpsert, args, err, nil)
	})
}

// ImportToken stores t as it is (its hash and LastUsedAt included),
// replacing the token with its id.
func (s *Store) ImportToken(ctx context.Context, t *sdk.Token) error {
	const op = "sqlite.ImportToken"
	return s.write(ctx, op, func(x *wtx) error {
		args, err := tokenArgs(t)
		return x.put(qTokenUpsert, args, err, func(error) error {
			return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonTokenExists, "another token of the tenant has this hash", nil)
		})
	})
}

// ImportAudits stores the events, in one transaction, replacing those
// with their ids.
func (s *Store) ImportAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	return s.putAudits(ctx, "sqlite.ImportAudits", qAuditUpsert, es)
}

// countQueries are what Counts counts, per tenant.
var countQueries = []struct{ key, sql string }{
	{"tenants", `SELECT count(*) FROM tenants WHERE id = ?`},
	{"members", `SELECT count(*) FROM members WHERE tenant_id = ?`},
	{"groups", `SELECT count(*) FROM groups WHERE tenant_id = ?`},
	{"edges", `SELECT count(*) FROM edges WHERE tenant_id = ?`},
	{"invitations", `SELECT count(*) FROM invitations WHERE tenant_id = ?`},
	{"credentials", `SELECT count(*) FROM credentials c WHERE tenant_id = ?
		AND (password_hash <> '' OR totp_secret <> '' OR totp_pending <> '' OR totp_last_step <> 0)
		AND EXISTS (SELECT 1 FROM members m WHERE m.tenant_id = c.tenant_id AND m.id = c.member_id)`},
	{"tokens", `SELECT count(*) FROM tokens WHERE tenant_id = ?`},
	{"audit", `SELECT count(*) FROM audit WHERE tenant_id = ?`},
}

// Counts returns how many records of each kind the given tenants have,
// keyed "tenants", "members", "groups", "edges", "invitations",
// "credentials" (members with a password hash or TOTP state), "tokens" and
// "audit", all read from one snapshot: a migration compares them with the
// source's.
func (s *Store) Counts(ctx context.Context, tenantIDs []string) (map[string]int64, error) {
	const op = "sqlite.Counts"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.translate(ctx, op, err)
	}
	defer tx.Rollback()
	out := make(map[string]int64, len(countQueries))
	for _, q := range countQueries {
		out[q.key] = 0
		for _, id := range tenantIDs {
			var n int64
			if err := tx.QueryRowContext(ctx, q.sql, id).Scan(&n); err != nil {
				return nil, s.translate(ctx, op, fmt.Errorf("counting %s: %w", q.key, err))
			}
			out[q.key] += n
		}
	}
	return out, nil
}
