package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rosterhq/roster/sdk"
)

var (
	_ sdk.Store              = (*Store)(nil)
	_ sdk.BulkMemberStore    = (*Store)(nil)
	_ sdk.MemberScanner      = (*Store)(nil)
	_ sdk.PasswordHashReader = (*Store)(nil)
)

// seats is what member writes read of their tenant, and the seats they
// took since: the transaction writes taken to the counter once, after the
// last of them (see flush).
type seats struct {
	version     int64
	limit, used int
	taken       int
}

func (x *wtx) seats(op, tenantID string) (*seats, error) {
	t := new(seats)
	err := x.row(qTenantSeats, tenantID).Scan(&t.version, &t.limit, &t.used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "tenant")
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// flush adds the seats taken to the tenant's counter.
func (x *wtx) flush(tenantID string, t *seats) error {
	if t == nil || t.taken == 0 {
		return nil
	}
	_, err := x.exec(qTenantUsed, t.taken, tenantID)
	t.taken = 0
	return err
}

// putMember writes a new member of the tenant whose seats t holds (nil:
// the owner of a tenant the transaction has just inserted, whose seat is
// counted there already). A refusal leaves the transaction as it was, so
// CreateMembers can go on with the next write: the checks run before
// anything is written, or are the insert itself, or (the seat) undo the
// insert.
func (x *wtx) putMember(op string, w sdk.MemberWrite, t *seats) error {
	m := w.Member
	if t != nil {
		if w.Seat != sdk.SeatKeep && w.Seat != sdk.SeatTake {
			return badSeat(op, w.Seat)
		}
		if w.TenantVersion != 0 && t.version != w.TenantVersion {
			return stale(op)
		}
	}
	args, err := memberArgs(m, w.GlobalEmail)
	if err := x.put(qMemberInsert, args, err, func(cause error) error { return x.memberConflict(op, m, w.GlobalEmail, true, cause) }); err != nil {
		return err
	}
	if t != nil && w.Seat == sdk.SeatTake {
		if t.used >= t.limit {
			// Uniqueness refusals come first; undo the insert, the one
			// thing written so far.
			if err := x.row(qMemberDelete, m.TenantID, m.ID, m.Version).Scan(new(string)); err != nil {
				return err
			}
			return seatLimit(op)
		}
		t.used++
		t.taken++
	}
	if err := x.putEmails(m, "", args[memberEmails].(string)); err != nil {
		return err
	}
	return x.setPasswordHash(m, w.PasswordHash)
}

// memberConflict explains a violated unique index of a member write: it
// looks for the member holding the key, in the order memstore checks
// them, and returns the matching refusal (cause when none is found).
func (x *wtx) memberConflict(op string, m *sdk.Member, global, create bool, cause error) error {
	checks := []struct {
		q      query
		on     bool
		refuse error
	}{
		{qMemberIDTaken, create, exists(op, "member")},
		{qMemberEmailTaken, true, sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonEmailTaken, "a member with this email address exists", nil)},
		{qMemberUserNameTaken, true, sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonUserNameTaken, "a member with this userName exists", nil)},
		{qMemberExternalIDTaken, true, sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonExternalIDTaken, "a member with this external id exists", nil)},
		{qMemberGlobalTaken, global, sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonEmailTakenElsewhere, "the email address is used in another tenant", nil)},
	}
	for _, c := range checks {
		if !c.on {
			continue
		}
		var args []any
		switch c.q {
		case qMemberIDTaken:
			args = []any{m.TenantID, m.ID}
		case qMemberEmailTaken, qMemberGlobalTaken:
			args = []any{m.TenantID, m.EmailKey, m.ID}
		case qMemberUserNameTaken:
			args = []any{m.TenantID, m.UserNameKey, m.ID}
		case qMemberExternalIDTaken:
			args = []any{m.TenantID, m.ExternalID, m.ID}
		}
		taken, err := x.found(c.q, args...)
		if err != nil {
			return err
		}
		if taken {
			return c.refuse
		}
	}
	return cause
}

// putEmails brings member_emails from the member's other addresses old
// to now (other_emails columns): nothing to do for most writes.
func (x *wtx) putEmails(m *sdk.Member, old, now string) error {
	if old == now {
		return nil
	}
	for _, v := range splitEmails(old) {
		if _, err := x.exec(qMemberEmailDelete, m.TenantID, v, m.ID); err != nil {
			return err
		}
	}
	for _, v := range splitEmails(now) {
		if _, err := x.exec(qMemberEmailInsert, m.TenantID, v, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// setPasswordHash writes a member write's password hash, if it has one.
func (x *wtx) setPasswordHash(m *sdk.Member, hash *string) error {
	if hash == nil {
		return nil
	}
	_, err := x.exec(qCredSetHash, m.TenantID, m.ID, *hash, timeText(m.UpdatedAt))
	return err
}

// CreateMember implements [sdk.MemberStore]: the tenant's version and seat
// check, the insert (whose unique indexes refuse duplicate keys), the
// seat, the password hash and the audit event ([sdk.AuditedMemberWrites])
// in one transaction.
func (s *Store) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	const op = "sqlite.CreateMember"
	return s.write(ctx, op, func(x *wtx) error {
		t, err := x.seats(op, w.Member.TenantID)
		if err != nil {
			return err
		}
		if err := x.putMember(op, w, t); err != nil {
			return err
		}
		if err := x.carriedAudit(w); err != nil {
			return err
		}
		return x.flush(w.Member.TenantID, t)
	})
}

// CreateMembers implements [sdk.BulkMemberStore]: every write in one
// transaction, each with the outcome CreateMember would have. A failure of
// the database itself fails every write.
func (s *Store) CreateMembers(ctx context.Context, ws []sdk.MemberWrite) []error {
	const op = "sqlite.CreateMembers"
	errs := make([]error, len(ws))
	err := s.write(ctx, op, func(x *wtx) error {
		// The seats of each tenant are read once and counted once.
		tenants := map[string]*seats{}
		for i, w := range ws {
			tid := w.Member.TenantID
			t, ok := tenants[tid]
			var err error
			if !ok {
				t, err = x.seats(op, tid)
				tenants[tid] = t
			}
			if t == nil && err == nil {
				err = notFound(op, "tenant")
			}
			if err == nil {
				err = x.putMember(op, w, t)
			}
			var se *sdk.Error
			if err != nil && !errors.As(err, &se) {
				return err
			}
			errs[i] = err
		}
		for tid, t := range tenants {
			if err := x.flush(tid, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// UpdateMember implements [sdk.MemberStore], with the audit event
// ([sdk.AuditedMemberWrites]) in the same transaction.
func (s *Store) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	const op = "sqlite.UpdateMember"
	m := w.Member
	if w.Seat != sdk.SeatKeep && w.Seat != sdk.SeatTake && w.Seat != sdk.SeatRelease {
		return badSeat(op, w.Seat)
	}
	err := s.write(ctx, op, func(x *wtx) error {
		old, err := x.checkVersion(op, m.TenantID, m.ID, w.ExpectedVersion)
		if err != nil {
			return err
		}
		nm := *m
		nm.Version = w.ExpectedVersion + 1
		args, err := memberArgs(&nm, w.GlobalEmail)
		if err := x.put(qMemberUpdate, append(args, w.ExpectedVersion), err, func(cause error) error {
			return x.memberConflict(op, &nm, w.GlobalEmail, false, cause)
		}); err != nil {
			return err
		}
		if w.Seat == sdk.SeatTake {
			// After the uniqueness checks, as memstore orders them; the
			// refusal rolls the whole transaction back.
			t, err := x.seats(op, m.TenantID)
			if err != nil {
				return err
			}
			if t.used >= t.limit {
				return seatLimit(op)
			}
		}
		if w.Seat != sdk.SeatKeep {
			if _, err := x.exec(qTenantUsed, int(w.Seat), m.TenantID); err != nil {
				return err
			}
		}
		if err := x.putEmails(&nm, old, args[memberEmails].(string)); err != nil {
			return err
		}
		if err := x.setPasswordHash(&nm, w.PasswordHash); err != nil {
			return err
		}
		return x.carriedAudit(w)
	})
	if err == nil {
		m.Version = w.ExpectedVersion + 1
	}
	return err
}

// checkVersion returns CodeNotFound for a missing member and
// ReasonVersionMismatch when its version is not expected; otherwise the
// member's other addresses (its other_emails column).
func (x *wtx) checkVersion(op, tenantID, id string, expected int64) (string, error) {
	var v int64
	var others string
	err := x.row(qMemberVersion, tenantID, id).Scan(&v, &others)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", notFound(op, "member")
	case err != nil:
		return "", err
	case v != expected:
		return "", stale(op)
	}
	return others, nil
}

// DeleteMember implements [sdk.MemberStore]. Credentials and group edges
// stay, as the contract has the SDK remove them.
func (s *Store) DeleteMember(ctx context.Context, d sdk.MemberDelete) error {
	const op = "sqlite.DeleteMember"
	if d.Seat != sdk.SeatKeep && d.Seat != sdk.SeatRelease {
		return badSeat(op, d.Seat)
	}
	return s.write(ctx, op, func(x *wtx) error {
		var others string
		err := x.row(qMemberDelete, d.TenantID, d.ID, d.ExpectedVersion).Scan(&others)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := x.checkVersion(op, d.TenantID, d.ID, d.ExpectedVersion); err != nil {
				return err
			}
			return fmt.Errorf("member %s not deleted", d.ID)
		}
		if err != nil {
			return err
		}
		if err := x.putEmails(&sdk.Member{TenantID: d.TenantID, ID: d.ID}, others, ""); err != nil {
			return err
		}
		if d.Seat == sdk.SeatRelease {
			_, err = x.exec(qTenantUsed, -1, d.TenantID)
		}
		return err
	})
}

// GetMember implements [sdk.MemberStore].
func (s *Store) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	return readOne(ctx, s, "sqlite.GetMember", "member", qMemberGet, decodeMember, tenantID, id)
}

// GetMemberBy implements [sdk.MemberStore], from the unique index of the
// key.
func (s *Store) GetMemberBy(ctx context.Context, tenantID string, key sdk.MemberKey, value string) (*sdk.Member, error) {
	const op = "sqlite.GetMemberBy"
	var q query
	switch key {
	case sdk.KeyEmail:
		q = qMemberByEmail
	case sdk.KeyUserName:
		q = qMemberByUserName
	case sdk.KeyExternalID:
		q = qMemberByExternalID
	default:
		return nil, sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, fmt.Sprintf("unknown member key %d", key), nil)
	}
	return readOne(ctx, s, op, "member", q, decodeMember, tenantID, value)
}

// GetMemberWithPasswordHash implements [sdk.PasswordHashReader] with one
// query joining the member and its credentials.
func (s *Store) GetMemberWithPasswordHash(ctx context.Context, tenantID, id string) (*sdk.Member, string, error) {
	const op = "sqlite.GetMemberWithPasswordHash"
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	var doc []byte
	var hash string
	st, release := s.read(qMemberWithHash)
	defer release()
	err := st.QueryRowContext(ctx, tenantID, id).Scan(&doc, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", notFound(op, "member")
	}
	if err != nil {
		return nil, "", s.translate(ctx, op, err)
	}
	m, err := decodeMember(doc)
	if err != nil {
		return nil, "", s.translate(ctx, op, err)
	}
	return m, hash, nil
}

// EmailInOtherTenant implements [sdk.MemberStore], from the
// (email_key, tenant_id) index.
func (s *Store) EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error) {
	const op = "sqlite.EmailInOtherTenant"
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var found bool
	err := s.st.r[qMemberElsewhere].QueryRowContext(ctx, tenantID, emailKey).Scan(&found)
	return found, s.translate(ctx, op, err)
}

// ScanMembers implements [sdk.MemberScanner]: pages of scanBatch members
// in id order, each one query on its own snapshot, fn called between
// queries (so it may use the store, and the scan holds no read
// transaction open while fn runs).
func (s *Store) ScanMembers(ctx context.Context, tenantID string, fn func(*sdk.Member) error) error {
	const op = "sqlite.ScanMembers"
	after := ""
	for {
		ms, err := pageOf(ctx, s, "members", tenantID, condTrue, after, scanBatch, decodeMember, nil)
		if err != nil {
			return s.translate(ctx, op, err)
		}
		for _, m := range ms {
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(ms) < scanBatch {
			return nil
		}
		after = ms[len(ms)-1].ID
	}
}
