package mongo

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

var _ sdk.BulkMemberStore = (*Store)(nil)

const codeDuplicateKey = 11000

// CreateMembers implements [sdk.BulkMemberStore] in a few commands per
// batch, whatever its size: read the tenant, take the seats the batch needs
// (as many as are free) in one conditional $inc, and insert with one
// unordered insertMany. Duplicates within the batch are refused before
// anything is written; a member refused by a unique index gives its seat
// to the next member that was refused for want of one, in input order (one
// more insertMany), so the outcome is the reference store's: seats go to
// the first members, in input order, that can be created. Seats left over
// are given back.
//
// A failure without a definite answer from the server (network, timeout)
// fails the members of that insert and keeps their seats: the counter errs
// high, and Reconcile repairs it.
func (s *Store) CreateMembers(ctx context.Context, tenantID string, ms []*sdk.Member, holds []bool) []error {
	const op = "mongo.CreateMembers"
	errs := make([]error, len(ms))
	fill := func(idx []int, err error) {
		for _, i := range idx {
			errs[i] = err
		}
	}
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	// Refusals within the batch, in input order: the first one wins.
	ids, mails, users, exts := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	var pending []int
	for i, m := range ms {
		switch {
		case m.TenantID != tenantID:
			errs[i] = sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, "member of another tenant", nil)
		case ids[m.ID]:
			errs[i] = sdk.E(op, sdk.CodeAlreadyExists, "", "member id exists", nil)
		case mails[m.EmailKey]:
			errs[i] = emailTaken(op, nil)
		case users[m.UserNameKey]:
			errs[i] = userNameTaken(op, nil)
		case m.ExternalID != "" && exts[m.ExternalID]:
			errs[i] = externalIDTaken(op, nil)
		default:
			ids[m.ID], mails[m.EmailKey], users[m.UserNameKey] = true, true, true
			if m.ExternalID != "" {
				exts[m.ExternalID] = true
			}
			pending = append(pending, i)
		}
	}
	seats := 0 // taken and not yet held by an inserted member
	checked := false
	defer func() {
		if seats > 0 {
			s.releaseSeats(ctx, op, tenantID, seats)
		}
	}()
	for len(pending) > 0 {
		need := 0
		for _, i := range pending {
			if holds[i] {
				need++
			}
		}
		switch {
		case need > seats:
			n, err := s.takeUpTo(ctx, op, tenantID, need-seats)
			if err != nil {
				fill(pending, err)
				return errs
			}
			seats += n
		case !checked:
			if err := s.tenantExists(ctx, op, tenantID); err != nil {
				fill(pending, err)
				return errs
			}
		}
		checked = true
		var batch, refused []int
		left := seats
		for _, i := range pending {
			if holds[i] {
				if left == 0 {
					refused = append(refused, i)
					continue
				}
				left--
			}
			batch = append(batch, i)
		}
		if len(batch) == 0 {
			fill(refused, seatLimit(op))
			return errs
		}
		fails, err := s.insertMembers(ctx, op, ms, batch)
		if err != nil {
			fill(batch, err)
			fill(refused, seatLimit(op))
			// Whether the members were inserted is unknown: their seats
			// stay taken.
			seats = left
			return errs
		}
		freed := 0
		for _, i := range batch {
			if e, ok := fails[i]; ok {
				errs[i] = e
				if holds[i] {
					freed++
				}
			}
		}
		seats = left + freed
		pending = refused
	}
	return errs
}

// takeUpTo takes as many of n seats as are free, in one conditional update
// after reading the tenant, and returns how many it took. It retries when a
// concurrent seat move changed what it read.
func (s *Store) takeUpTo(ctx context.Context, op, tenantID string, n int) (int, error) {
	for range maxRecounts {
		d, err := s.findTenant(ctx, op, bson.D{{Key: "_id", Value: tenantID}})
		if err != nil {
			return 0, err
		}
		k := min(n, d.SeatsFree)
		if k <= 0 {
			return 0, nil
		}
		err = s.takeSeats(ctx, op, tenantID, k, 0)
		if err == nil {
			return k, nil
		}
		if sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
			return 0, err
		}
	}
	return 0, nil
}

// insertMembers inserts ms[i] for i in batch with one unordered insertMany
// and returns the members the server refused, with their errors. A non-nil
// error means the server gave no definite answer for the batch.
func (s *Store) insertMembers(ctx context.Context, op string, ms []*sdk.Member, batch []int) (map[int]error, error) {
	docs := make([]any, len(batch))
	for k, i := range batch {
		docs[k] = fromMember(ms[i])
	}
	_, err := s.members.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	var bwe driver.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return nil, translate(ctx, op, err)
	}
	fails := map[int]error{}
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(batch) {
			return nil, translate(ctx, op, err)
		}
		i := batch[we.Index]
		if we.Code == codeDuplicateKey {
			fails[i] = s.memberDuplicate(ctx, op, ms[i], true, we)
		} else {
			fails[i] = sdk.E(op, sdk.CodeUnknown, "", "database error", we)
		}
	}
	return fails, nil
}

// UpdateMembers implements [sdk.BulkMemberStore] with UpdateMember per
// item: each replacement is conditional on its own version, and a bulk
// write reports only how many matched, not which.
func (s *Store) UpdateMembers(ctx context.Context, _ string, us []sdk.MemberUpdate) []error {
	errs := make([]error, len(us))
	for i, u := range us {
		errs[i] = s.UpdateMember(ctx, sdk.MemberWrite{Member: u.Member, ExpectedVersion: u.Expected, SeatDelta: u.SeatDelta})
	}
	return errs
}

// DeleteMembers implements [sdk.BulkMemberStore] with DeleteMember per
// item, for the reason UpdateMembers gives, and so that each seat is given
// back exactly when its member was deleted.
func (s *Store) DeleteMembers(ctx context.Context, tenantID string, ds []sdk.MemberDelete) []error {
	errs := make([]error, len(ds))
	for i, d := range ds {
		errs[i] = s.DeleteMember(ctx, tenantID, d.ID, d.Expected, d.ReleaseSeat)
	}
	return errs
}

// AppendAudits implements [sdk.BulkMemberStore] with one unordered
// insertMany; events already stored are skipped, as AppendAudit does.
func (s *Store) AppendAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	const op = "mongo.AppendAudits"
	if len(es) == 0 {
		return nil
	}
	docs := make([]any, len(es))
	for i, e := range es {
		docs[i] = fromAudit(e)
	}
	_, err := s.audit.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe driver.BulkWriteException
	if err == nil || !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return translate(ctx, op, err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != codeDuplicateKey {
			return sdk.E(op, sdk.CodeUnknown, "", "database error", we)
		}
	}
	return nil
}
