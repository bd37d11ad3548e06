package sqlite

import (
	"context"

	"github.com/rosterhq/roster/sdk"
)

var (
	_ sdk.AuditStore          = (*Store)(nil)
	_ sdk.AuditedMemberWrites = (*Store)(nil)
)

// AppendAudit implements [sdk.AuditStore]: an insert that a duplicate id
// turns into a no-op.
func (s *Store) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error {
	return s.AppendAudits(ctx, []*sdk.AuditEvent{e})
}

// AppendAudits implements [sdk.BulkMemberStore]: every event in one
// transaction.
func (s *Store) AppendAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	return s.putAudits(ctx, "sqlite.AppendAudits", qAuditInsert, es)
}

func (s *Store) putAudits(ctx context.Context, op string, q query, es []*sdk.AuditEvent) error {
	return s.write(ctx, op, func(x *wtx) error {
		for _, e := range es {
			if err := x.putAudit(q, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// putAudit writes one audit event with q (qAuditInsert or qAuditUpsert).
func (x *wtx) putAudit(q query, e *sdk.AuditEvent) error {
	args, err := auditArgs(e)
	if err != nil {
		return err
	}
	_, err = x.exec(q, args...)
	return err
}

// MemberWritesCarryAudit implements [sdk.AuditedMemberWrites]:
// CreateMember and UpdateMember insert [sdk.MemberWrite.Audit] in their
// transaction, saving the commit of a separate AppendAudit.
func (s *Store) MemberWritesCarryAudit() bool { return true }

// carriedAudit appends a member write's audit event, if it carries one,
// as AppendAudit does.
func (x *wtx) carriedAudit(w sdk.MemberWrite) error {
	if w.Audit == nil {
		return nil
	}
	return x.putAudit(qAuditInsert, w.Audit)
}

// ListAudit implements [sdk.AuditStore]: newest first, from the index
// that fits the query best — (tenant_id, actor_id, id), (tenant_id,
// target_id, id), (tenant_id, action, id), (tenant_id, time_ns) or
// (tenant_id, id) — as SQLite's planner chooses.
func (s *Store) ListAudit(ctx context.Context, tenantID string, q sdk.AuditQuery) ([]*sdk.AuditEvent, error) {
	const op = "sqlite.ListAudit"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	text := "SELECT doc FROM audit WHERE tenant_id = ?"
	args := []any{tenantID}
	add := func(sql string, v any) {
		text += " AND " + sql
		args = append(args, v)
	}
	if q.Before != "" {
		add("id < ?", q.Before)
	}
	if q.ActorID != "" {
		add("actor_id = ?", q.ActorID)
	}
	if q.TargetID != "" {
		add("target_id = ?", q.TargetID)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.Channel != "" {
		// Not a column: rare enough to be a filter on the rows the
		// other conditions select, read from the event's document.
		add("json_extract(CAST(doc AS TEXT), '$.channel') = ?", q.Channel)
	}
	if !q.Since.IsZero() {
		add("time_ns >= ?", unixNano(q.Since))
	}
	if !q.Until.IsZero() {
		add("time_ns < ?", unixNano(q.Until))
	}
	text += " ORDER BY id DESC LIMIT ?"
	args = append(args, sqlLimit(q.Limit))
	rows, err := s.query(ctx, text, args...)
	out, err := collect(ctx, rows, err, decodeAudit)
	return out, s.translate(ctx, op, err)
}
