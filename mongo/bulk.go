package mongo

import (
	"context"
	"errors"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

var _ sdk.BulkMemberStore = (*Store)(nil)

const codeDuplicateKey = 11000

// CreateMembers implements [sdk.BulkMemberStore] in three commands per
// tenant in the batch, whatever its size (one more for the whole batch
// when writes carry GlobalEmail: the claims of their addresses, one
// insertMany, see claimAll): take the seats the batch needs
// in one findAndModify that leaves a take intent per member that takes a
// seat and a create intent per member that does not (as CreateMember
// does), conditional on the tenant not being marked deleting, insert with
// one unordered insertMany, and remove the intents of the members
// inserted or refused. The tenant is read first only when that take finds
// too few free seats (then as many are taken as are free), or when the
// writes name different tenant versions. Refusals within the batch are
// decided before anything is written; a member refused by a unique index
// gives its seat back, and the members refused for want of one then get
// their turn (another take and insertMany), so the outcome is the
// reference store's: seats go to the first members, in input order, that
// can be created.
//
// A failure without a definite answer from the server (network, timeout)
// fails the members of that insert and keeps their seats and intents: the
// counter errs high, and RecountSeats settles them.
func (s *Store) CreateMembers(ctx context.Context, ws []sdk.MemberWrite) []error {
	const op = "mongo.CreateMembers"
	errs := make([]error, len(ws))
	if err := ctx.Err(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	// Refusals within the batch, in input order: the first one wins.
	type key struct{ tenant, value string }
	ids, globals := map[string]bool{}, map[string]bool{}
	mails, users, exts := map[key]bool{}, map[key]bool{}, map[key]bool{}
	var tenants []string
	byTenant := map[string][]int{}
	for i, w := range ws {
		m := w.Member
		switch {
		case w.Seat != sdk.SeatKeep && w.Seat != sdk.SeatTake:
			errs[i] = badSeat(op, w.Seat)
		case ids[m.ID]:
			errs[i] = sdk.E(op, sdk.CodeAlreadyExists, "", "member id exists", nil)
		case mails[key{m.TenantID, m.EmailKey}]:
			errs[i] = emailTaken(op, nil)
		case users[key{m.TenantID, m.UserNameKey}]:
			errs[i] = userNameTaken(op, nil)
		case m.ExternalID != "" && exts[key{m.TenantID, m.ExternalID}]:
			errs[i] = externalIDTaken(op, nil)
		case w.GlobalEmail && globals[m.EmailKey]:
			errs[i] = emailTakenElsewhere(op)
		default:
			ids[m.ID] = true
			mails[key{m.TenantID, m.EmailKey}], users[key{m.TenantID, m.UserNameKey}] = true, true
			if m.ExternalID != "" {
				exts[key{m.TenantID, m.ExternalID}] = true
			}
			if w.GlobalEmail {
				globals[m.EmailKey] = true
			}
			if _, ok := byTenant[m.TenantID]; !ok {
				tenants = append(tenants, m.TenantID)
			}
			byTenant[m.TenantID] = append(byTenant[m.TenantID], i)
		}
	}
	// Addresses unique across tenants are claimed first, in one
	// insertMany; a refused claim fails its write before any seat moves.
	writeIDs := make([]string, len(ws))
	var global []int
	for i, w := range ws {
		if errs[i] == nil && w.GlobalEmail {
			writeIDs[i] = newWriteID()
			global = append(global, i)
		}
	}
	claims := s.claimAll(ctx, op, ws, global, writeIDs, errs)
	if len(global) > 0 {
		if err := s.crashPoint("CreateMembers.claimed"); err != nil {
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
			return errs
		}
	}
	for _, t := range tenants {
		pending := slices.DeleteFunc(byTenant[t], func(i int) bool { return errs[i] != nil })
		if len(pending) > 0 {
			s.createMembersOf(ctx, op, t, ws, writeIDs, pending, errs)
		}
	}
	for i, c := range claims {
		if errs[i] != nil {
			s.undo(ctx, op, c, errs[i])
		}
	}
	return errs
}

// maxBulkRounds bounds the rounds of createMembersOf: after it, seat takes
// that keep losing races are refused with ReasonSeatLimit.
const maxBulkRounds = 8

// createMembersOf creates ws[i] for i in pending, all members of tenant
// tenantID, with the claim write ids ids[i], and sets errs[i].
func (s *Store) createMembersOf(ctx context.Context, op, tenantID string, ws []sdk.MemberWrite, ids []string, pending []int, errs []error) {
	fill := func(idx []int, err error) {
		for _, i := range idx {
			errs[i] = err
		}
	}
	var d *tenantDoc // the tenant as last read, nil until then
	free := -1       // its free seats, -1 when not read since the last take
	for round := 0; len(pending) > 0; round++ {
		if d != nil {
			// The writes that decided on another tenant version fail.
			pending = slices.DeleteFunc(pending, func(i int) bool {
				if v := ws[i].TenantVersion; v != 0 && v != d.Version {
					errs[i] = stale(op)
					return true
				}
				return false
			})
		}
		var holders, keeps []int
		var version int64
		mixed := false
		for _, i := range pending {
			if ws[i].Seat == sdk.SeatTake {
				holders = append(holders, i)
			} else {
				keeps = append(keeps, i)
			}
			if v := ws[i].TenantVersion; v != 0 {
				mixed = mixed || version != 0 && v != version
				version = v
			}
		}
		if d == nil && (mixed || round >= maxBulkRounds) {
			var err error
			if d, err = s.findTenant(ctx, op, bson.D{{Key: "_id", Value: tenantID}}); err != nil {
				fill(pending, err)
				return
			}
			free = d.SeatsFree
			continue
		}
		if d != nil && version != 0 {
			version = d.Version
		}
		k := len(holders)
		if free >= 0 {
			k = min(k, max(free, 0))
		}
		if round >= maxBulkRounds {
			k = 0
		}
		var shown *takenDoc
		tokens := map[int]string{}
		var takes, creates []string
		for _, i := range holders[:k] {
			tokens[i] = seatToken(ws[i].Member.ID)
			takes = append(takes, tokens[i])
		}
		for _, i := range keeps {
			tokens[i] = createToken(ws[i].Member.ID)
			creates = append(creates, tokens[i])
		}
		if len(takes)+len(creates) > 0 {
			var err error
			shown, err = s.takeSeats(ctx, op, tenantID, takes, creates, version)
			switch r := sdk.ReasonOf(err); {
			case err == nil:
			case r == sdk.ReasonSeatLimit || r == sdk.ReasonVersionMismatch:
				// Too few seats, or the tenant moved: read it and retry.
				if d, err = s.findTenant(ctx, op, bson.D{{Key: "_id", Value: tenantID}}); err != nil {
					fill(pending, err)
					return
				}
				free = d.SeatsFree
				continue
			default:
				fill(pending, err)
				return
			}
			if err := s.crashPoint("CreateMembers.seatsTaken"); err != nil {
				fill(pending, err)
				return
			}
		}
		free = -1
		refused := holders[k:]
		var batch []int
		for _, i := range pending {
			if tokens[i] != "" {
				batch = append(batch, i)
			}
		}
		if len(batch) == 0 {
			fill(refused, seatLimit(op))
			return
		}
		fails, err := s.insertMembers(ctx, op, ws, ids, batch)
		if err != nil {
			// Whether the members were inserted is unknown: their seats
			// and intents stay.
			fill(batch, err)
			fill(refused, seatLimit(op))
			return
		}
		var landed, back, settled []string
		for _, i := range batch {
			e, failed := fails[i]
			if failed {
				errs[i] = e
			}
			switch t := tokens[i]; {
			case ws[i].Seat != sdk.SeatTake: // landed or refused: either way done
				settled = append(settled, t)
			case !failed:
				landed = append(landed, t)
			default: // conditional on the intent, also when voided (see createMember)
				back = append(back, t)
			}
		}
		s.giveBack(ctx, op, tenantID, back)
		if len(shown.Tenant.SeatTakes)-len(takes) >= pruneAt {
			s.prune(ctx, tenantID, &shown.Tenant, landed, settled)
		} else {
			s.pullIntents(ctx, tenantID, landed, settled)
		}
		if len(refused) == 0 {
			return
		}
		if len(back) == 0 {
			fill(refused, seatLimit(op))
			return
		}
		// Seats came free: the members refused for want of one get them,
		// in input order.
		pending = refused
	}
}

// insertMembers inserts ws[i] for i in batch, with the claim write ids
// ids[i], with one unordered insertMany and returns the members the server
// refused, with their errors. A non-nil error means the server gave no
// definite answer for the batch.
func (s *Store) insertMembers(ctx context.Context, op string, ws []sdk.MemberWrite, ids []string, batch []int) (map[int]error, error) {
	docs := make([]any, len(batch))
	for k, i := range batch {
		docs[k] = memberWriteDoc(ws[i], ids[i])
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
			fails[i] = s.memberDuplicate(ctx, op, ws[i].Member, true, we)
		} else {
			fails[i] = sdk.E(op, sdk.CodeUnknown, "", "database error", we)
		}
	}
	return fails, nil
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
