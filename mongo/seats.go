package mongo

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

// The seat counter and the member writes that move it (see "Seats" in
// doc.go). A member write is a seat step on the tenant document and a
// member step; between the two it leaves an intent on the tenant, so that
// RecountSeats, counting meanwhile, can tell a seat taken for a member
// that has not landed yet from a leaked one, and a seat about to be given
// back from one already given back.
//
// An intent is a token, the member id and a nonce ("<memberID>/<nonce>"):
// two writes of one member in flight at once (an identity provider
// retrying a PATCH) each pull exactly their own.
//
// A create that takes no seat leaves a create intent instead (creates),
// in the same kind of step, which moves no seat: DeleteTenant voids the
// creates in flight through both kinds (see tenantdelete.go), so that no
// member of a deleted tenant lands after its sweep.

const (
	// pruneAt is how many take intents a seat take must find on the
	// tenant before the write that made it removes those whose members
	// have landed.
	pruneAt = 32
	// maxRecounts bounds the attempts of RecountSeats when seats keep
	// moving while it counts.
	maxRecounts = 5
	// maxSettle bounds how often RecountSeats re-reads one member whose
	// state changes under it.
	maxSettle = 5
	// voidTTL is how long a void placeholder stays: long enough that no
	// insert it refused can still be in flight.
	voidTTL = 24 * time.Hour
	// voidPrefix starts the tenantId of a void placeholder.
	voidPrefix = "\x00void:"
	// createGrace is how long a create intent whose member has not landed
	// is taken for a write in flight, which a prune leaves alone; after
	// it the prune voids the write and drops the intent.
	createGrace = time.Minute
)

// takenDoc is a tenant as a seat step returns it: the tenant document and
// its create intents, which only the seat steps and DeleteTenant read.
type takenDoc struct {
	Tenant  tenantDoc `bson:",inline"`
	Creates []string  `bson:"creates,omitempty"`
}

// seatToken returns a new intent token for a seat step of memberID.
func seatToken(memberID string) string {
	return memberID + "/" + strconv.FormatUint(rand.Uint64(), 36)
}

// createToken returns a new create intent token for memberID:
// "<memberID>/<ms>.<nonce>", ms the time in milliseconds since the epoch
// in base 36, so that a prune can tell an old intent from a young one.
func createToken(memberID string) string {
	return memberID + "/" + strconv.FormatInt(time.Now().UnixMilli(), 36) + "." + strconv.FormatUint(rand.Uint64(), 36)
}

// tokenTime returns the time a create intent token was made; the zero
// time for a token that carries none.
func tokenTime(token string) time.Time {
	rest := token[strings.LastIndexByte(token, '/')+1:]
	ms, _, ok := strings.Cut(rest, ".")
	if !ok {
		return time.Time{}
	}
	n, err := strconv.ParseInt(ms, 36, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// tokenMember returns the member id of an intent token.
func tokenMember(token string) string {
	if i := strings.LastIndexByte(token, '/'); i >= 0 {
		return token[:i]
	}
	return token
}

// voidTenant is the tenantId of the void placeholders of tenantID's
// members: no read of a tenant's members ever matches it.
func voidTenant(tenantID string) string { return voidPrefix + tenantID }

func badSeat(op string, c sdk.SeatChange) error {
	return sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, "seat change "+strconv.Itoa(int(c))+" is not one this write takes", nil)
}

func voided(op string) error {
	return sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, "a concurrent seat recount or claimant of the address voided this write", nil)
}

// takeSeats takes a seat for each token of takes, pushing them as take
// intents, and pushes the tokens of creates as create intents (creates
// that take no seat), in one findAndModify conditional on the tenant not
// being marked deleting, on enough free seats (and, with a tenantVersion
// other than zero, on the tenant's version), and returns the tenant after
// it. When nothing matched it returns what seatRefusal finds.
func (s *Store) takeSeats(ctx context.Context, op, tenantID string, takes, creates []string, tenantVersion int64) (*takenDoc, error) {
	n := len(takes)
	filter := bson.D{{Key: "_id", Value: tenantID}, {Key: "deleting", Value: bson.D{{Key: "$ne", Value: true}}}}
	if n > 0 {
		filter = append(filter, bson.E{Key: "seatsFree", Value: bson.D{{Key: "$gte", Value: n}}})
	}
	if tenantVersion != 0 {
		filter = append(filter, bson.E{Key: "version", Value: tenantVersion})
	}
	var push, update bson.D
	if n > 0 {
		push = append(push, bson.E{Key: "seatTakes", Value: bson.D{{Key: "$each", Value: takes}}})
		update = append(update, bson.E{Key: "$inc", Value: bson.D{{Key: "seatsUsed", Value: n}, {Key: "seatsFree", Value: -n}, {Key: "seatOps", Value: 1}}})
	}
	if len(creates) > 0 {
		push = append(push, bson.E{Key: "creates", Value: bson.D{{Key: "$each", Value: creates}}})
	}
	update = append(update, bson.E{Key: "$push", Value: push})
	var d takenDoc
	err := s.tenants.FindOneAndUpdate(ctx, filter, update,
		// No projection: FerretDB v1 does not implement one on findAndModify.
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return nil, s.seatRefusal(ctx, op, tenantID, tenantVersion, n)
	case err != nil:
		return nil, translate(ctx, op, err)
	}
	return &d, nil
}

// seatRefusal says why a seat step for seats seats matched nothing, from
// one find of the tenant (as tenantAt, which does not know the mark):
// CodeNotFound when the tenant does not exist, CodeNotFound with
// ReasonTenantDeleting when it is marked deleting, CodeFailedPrecondition
// (ReasonVersionMismatch) when tenantVersion is not zero and not the
// tenant's, else CodeResourceExhausted (ReasonSeatLimit) when seats were
// wanted, and ReasonVersionMismatch when none were (the tenant changed
// between the two commands).
func (s *Store) seatRefusal(ctx context.Context, op, tenantID string, tenantVersion int64, seats int) error {
	var d struct {
		Version  int64 `bson:"version"`
		Deleting bool  `bson:"deleting"`
	}
	err := s.tenants.FindOne(ctx, bson.D{{Key: "_id", Value: tenantID}},
		options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}, {Key: "deleting", Value: 1}})).Decode(&d)
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return notFound(op, "tenant")
	case err != nil:
		return translate(ctx, op, err)
	case d.Deleting:
		return tenantDeleting(op)
	case tenantVersion != 0 && d.Version != tenantVersion:
		return stale(op)
	case seats > 0:
		return seatLimit(op)
	}
	return stale(op)
}

// giveBack gives back the seats of take intents whose member writes were
// refused: per token, conditional on the intent still being there, so a
// seat a recount already accounted for is never given back twice. It runs
// even when ctx is cancelled (the refusal has happened). A failure leaves
// the counter too high, never too low; it is logged, and a recount
// settles the intent.
func (s *Store) giveBack(ctx context.Context, op, tenantID string, tokens []string) {
	if len(tokens) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var err error
	if len(tokens) == 1 {
		_, err = s.tenants.UpdateOne(ctx, giveBackFilter(tenantID, tokens[0]), giveBackUpdate(tokens[0]))
	} else {
		models := make([]driver.WriteModel, len(tokens))
		for i, t := range tokens {
			models[i] = driver.NewUpdateOneModel().SetFilter(giveBackFilter(tenantID, t)).SetUpdate(giveBackUpdate(t))
		}
		err = bulkUpdate(ctx, s.tenants, models)
	}
	if err != nil {
		s.log.Warn("roster: could not give a seat back; the tenant's seat counter is too high until sdk.Client.Reconcile runs",
			"op", op, "tenant", tenantID, "err", err)
	}
}

func giveBackFilter(tenantID, token string) bson.D {
	return bson.D{{Key: "_id", Value: tenantID}, {Key: "seatTakes", Value: token}}
}

func giveBackUpdate(token string) bson.D {
	return bson.D{
		{Key: "$inc", Value: bson.D{{Key: "seatsUsed", Value: -1}, {Key: "seatsFree", Value: 1}, {Key: "seatOps", Value: 1}}},
		{Key: "$pullAll", Value: bson.D{{Key: "seatTakes", Value: bson.A{token}}}},
	}
}

// prune removes take intents whose member writes have landed, so the
// tenant document stays small: the tokens in own (the caller's, whose
// members it has just written) and those of the others shown (the intents
// a take returned) whose member exists and holds a seat under the
// tenant's settings; with them the create intents ownCreates. One find
// when others are looked at, one update. It moves no seat and leaves
// seatOps alone: a recount would reach the same verdict. Errors are
// ignored; a later prune or recount does the work.
func (s *Store) prune(ctx context.Context, tenantID string, shown *tenantDoc, own, ownCreates []string) {
	pull := slices.Clone(own)
	others := map[string][]string{} // member id → tokens
	for _, t := range shown.SeatTakes {
		if !slices.Contains(own, t) {
			others[tokenMember(t)] = append(others[tokenMember(t)], t)
		}
	}
	if len(others) > 0 {
		ids := make([]string, 0, len(others))
		for id := range others {
			ids = append(ids, id)
		}
		docs, err := s.seatStates(ctx, tenantID, ids)
		if err != nil {
			return
		}
		settings := shown.Settings.settings()
		for _, d := range docs {
			if d.TenantID == tenantID && settings.HoldsSeat(sdk.Status(d.Status)) {
				pull = append(pull, others[d.ID]...)
			}
		}
	}
	s.pullIntents(ctx, tenantID, pull, ownCreates)
}

// pruneCreates removes create intents whose writes can no longer land, so
// the tenant document stays small: the tokens in own (the caller's) and
// those of the others in creates (the create intents a take returned)
// whose member exists, in the tenant (landed) or elsewhere (a placeholder,
// or an id another tenant holds, which the insert fails on), or whose
// member is missing and which are older than createGrace: their writes
// crashed, or their members were deleted since, or are still in flight,
// which a placeholder under the member's id voids first (see void). One
// find, one insertMany when some are that old, one update; best effort.
func (s *Store) pruneCreates(ctx context.Context, tenantID string, creates, own []string) {
	pull := slices.Clone(own)
	others := map[string][]string{} // member id → tokens
	var ids []string
	for _, t := range creates {
		if slices.Contains(own, t) {
			continue
		}
		id := tokenMember(t)
		if _, ok := others[id]; !ok {
			ids = append(ids, id)
		}
		others[id] = append(others[id], t)
	}
	if len(ids) == 0 {
		s.pullIntents(ctx, tenantID, nil, pull)
		return
	}
	docs, err := s.seatStates(ctx, tenantID, ids)
	if err != nil {
		s.pullIntents(ctx, tenantID, nil, pull)
		return
	}
	for _, d := range docs { // landed, or can never land
		pull = append(pull, others[d.ID]...)
		delete(others, d.ID)
	}
	young := func(t string) bool { return time.Since(tokenTime(t)) < createGrace }
	var old []string
	for _, id := range ids {
		if toks, missing := others[id]; missing && !slices.ContainsFunc(toks, young) {
			old = append(old, id)
		}
	}
	// An id taken meanwhile is a member that landed: its intents go too.
	if len(old) > 0 {
		if _, err := s.placehold(ctx, tenantID, old); err == nil {
			for _, id := range old {
				pull = append(pull, others[id]...)
			}
		}
	}
	s.pullIntents(ctx, tenantID, nil, pull)
}

// pullIntents removes the take intents takes and the create intents
// creates, whose writes have landed or can no longer land: one update,
// best effort, that leaves seatOps alone; none when both are empty.
func (s *Store) pullIntents(ctx context.Context, tenantID string, takes, creates []string) {
	var pull bson.D
	if len(takes) > 0 {
		pull = append(pull, bson.E{Key: "seatTakes", Value: takes})
	}
	if len(creates) > 0 {
		pull = append(pull, bson.E{Key: "creates", Value: creates})
	}
	if len(pull) == 0 {
		return
	}
	_, _ = s.tenants.UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: tenantID}},
		bson.D{{Key: "$pullAll", Value: pull}})
}

// seatState is what a recount or a prune reads of a member: where it is and
// whether it holds a seat.
type seatState struct {
	ID       string `bson:"_id"`
	TenantID string `bson:"tenantId"`
	Status   string `bson:"status"`
	Version  int64  `bson:"version"`
}

// seatStates reads the documents with the ids ids, whatever their tenant
// (a void placeholder has another): one find.
func (s *Store) seatStates(ctx context.Context, tenantID string, ids []string) ([]seatState, error) {
	filter := bson.D{{Key: "_id", Value: ids[0]}}
	if len(ids) > 1 {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	}
	cur, err := s.members.Find(ctx, filter, options.Find().SetLimit(-int64(len(ids))).SetBatchSize(int32(len(ids))).
		SetProjection(bson.D{{Key: "tenantId", Value: 1}, {Key: "status", Value: 1}, {Key: "version", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []seatState
	err = cur.All(ctx, &docs)
	return docs, err
}

// beginRelease records a release intent before the member write that gives
// a seat back: one findAndModify. It returns the take intents of the
// member that the tenant holds (see endRelease).
func (s *Store) beginRelease(ctx context.Context, op, tenantID, memberID, token string) ([]string, error) {
	var d tenantDoc
	err := s.tenants.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: tenantID}},
		bson.D{
			{Key: "$push", Value: bson.D{{Key: "seatReleases", Value: token}}},
			{Key: "$inc", Value: bson.D{{Key: "seatOps", Value: 1}}},
		},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return nil, notFound(op, "tenant")
	case err != nil:
		return nil, translate(ctx, op, err)
	}
	var takes []string
	for _, t := range d.SeatTakes {
		if tokenMember(t) == memberID {
			takes = append(takes, t)
		}
	}
	return takes, nil
}

// endRelease settles a release intent once its member write is known to
// have happened (done: the seat is given back) or not (the intent goes):
// one update conditional on the intent still being there, so that a
// release a recount settled meanwhile is not applied twice. When done it
// also removes takes, the member's take intents beginRelease found: the
// member existed and now holds no seat (or is gone), so their writes have
// landed or will fail, and no prune would ever take them as landed. It
// runs even when ctx is cancelled; a failure leaves the counter too high,
// never too low.
func (s *Store) endRelease(ctx context.Context, op, tenantID, token string, done bool, takes []string) {
	inc := bson.D{{Key: "seatOps", Value: 1}}
	pull := bson.D{{Key: "seatReleases", Value: bson.A{token}}}
	if done {
		inc = bson.D{{Key: "seatsUsed", Value: -1}, {Key: "seatsFree", Value: 1}, {Key: "seatOps", Value: 1}}
		if len(takes) > 0 {
			pull = append(pull, bson.E{Key: "seatTakes", Value: takes})
		}
	}
	_, err := s.tenants.UpdateOne(context.WithoutCancel(ctx),
		bson.D{{Key: "_id", Value: tenantID}, {Key: "seatReleases", Value: token}},
		bson.D{{Key: "$inc", Value: inc}, {Key: "$pullAll", Value: pull}})
	if err != nil {
		s.log.Warn("roster: could not settle a seat release; the tenant's seat counter is too high until sdk.Client.Reconcile runs",
			"op", op, "tenant", tenantID, "err", err)
	}
}

// RecountSeats implements [sdk.TenantStore]. It first completes a tenant
// creation a crash interrupted (inserting the owner member from
// pendingOwner). Then, up to maxRecounts times: it reads the tenant (the
// counter c, seatOps o and the intents), settles every intent — a take
// whose member has not landed is voided (a placeholder takes its member id,
// or a version bump fails its update), a release whose member still holds
// is voided by a version bump; the others have landed — counts the members
// holding a seat (M), and writes seatsUsed = M and removes the intents it
// settled in one update conditional on seatOps = o. When a seat step came
// in between, that update matches nothing and it tries again; after the
// last attempt it gives up with ReasonVersionMismatch, having lowered
// nothing. Finally it deletes the tenant's placeholders older than
// voidTTL. It returns the tenant after the repair and c.
func (s *Store) RecountSeats(ctx context.Context, tenantID string, holding []sdk.Status) (*sdk.Tenant, int, error) {
	const op = "mongo.RecountSeats"
	holds := func(st string) bool { return slices.Contains(holding, sdk.Status(st)) }
	states := make([]string, len(holding))
	for i, h := range holding {
		states[i] = string(h)
	}
	for range maxRecounts {
		d, err := s.findTenant(ctx, op, bson.D{{Key: "_id", Value: tenantID}})
		if err != nil {
			return nil, 0, err
		}
		if d.Deleting {
			return nil, 0, tenantDeleting(op)
		}
		if d.PendingOwner != nil {
			if err := s.restoreOwner(ctx, op, d); err != nil {
				return nil, 0, err
			}
		}
		if err := s.settle(ctx, op, tenantID, d.SeatTakes, func(m *seatState) bool { return m == nil || !holds(m.Status) }); err != nil {
			return nil, 0, err
		}
		if err := s.settle(ctx, op, tenantID, d.SeatReleases, func(m *seatState) bool { return m != nil && holds(m.Status) }); err != nil {
			return nil, 0, err
		}
		n64, err := s.members.CountDocuments(ctx, bson.D{
			{Key: "tenantId", Value: tenantID},
			{Key: "status", Value: bson.D{{Key: "$in", Value: states}}},
		})
		if err != nil {
			return nil, 0, translate(ctx, op, err)
		}
		if err := s.crashPoint("RecountSeats.counted"); err != nil {
			return nil, 0, err
		}
		n := int(n64)
		t := d.tenant()
		prev := t.SeatsUsed
		if n == prev && d.SeatsFree == t.SeatLimit()-n && len(d.SeatTakes) == 0 && len(d.SeatReleases) == 0 {
			s.dropVoids(ctx, tenantID)
			return t, prev, nil
		}
		update := bson.D{
			{Key: "$set", Value: bson.D{{Key: "seatsUsed", Value: n}, {Key: "seatsFree", Value: t.SeatLimit() - n}}},
			{Key: "$inc", Value: bson.D{{Key: "seatOps", Value: 1}}},
		}
		var pull bson.D
		if len(d.SeatTakes) > 0 {
			pull = append(pull, bson.E{Key: "seatTakes", Value: d.SeatTakes})
		}
		if len(d.SeatReleases) > 0 {
			pull = append(pull, bson.E{Key: "seatReleases", Value: d.SeatReleases})
		}
		if len(pull) > 0 {
			update = append(update, bson.E{Key: "$pullAll", Value: pull})
		}
		res, err := s.tenants.UpdateOne(ctx,
			bson.D{
				{Key: "_id", Value: tenantID},
				{Key: "seatOps", Value: opsAt(d.SeatOps)},
				{Key: "includedSeats", Value: d.IncludedSeats},
				{Key: "extraSeats", Value: d.ExtraSeats},
			},
			update)
		if err != nil {
			return nil, 0, translate(ctx, op, err)
		}
		if res.MatchedCount == 1 {
			t.SeatsUsed = n
			s.dropVoids(ctx, tenantID)
			return t, prev, nil
		}
	}
	return nil, 0, sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, "seat writes kept racing with the recount; run it again", nil)
}

// opsAt matches a seatOps of o; 0 also matches a tenant written before
// the field existed.
func opsAt(o int64) any {
	if o == 0 {
		return bson.D{{Key: "$in", Value: bson.A{int64(0), nil}}}
	}
	return o
}

// settle makes sure that the member write behind each intent token either
// has landed or never will: it reads the tokens' members (one find) and,
// for each one pending says is not landed, voids the write in flight.
// pending receives nil for a member id with no document. A member id
// whose document belongs to another tenant (a void placeholder, or an id
// taken elsewhere, which a create then fails on) has nothing in flight
// that can land. Voiding a missing member inserts a placeholder under its
// id, so its insert fails on the duplicate _id; voiding an existing one
// bumps its version, so its conditional update or delete fails. When the
// member changed meanwhile (the placeholder insert meets the member, the
// bump meets another version), it is read again, up to maxSettle times.
func (s *Store) settle(ctx context.Context, op, tenantID string, tokens []string, pending func(*seatState) bool) error {
	var ids []string
	for _, t := range tokens {
		if id := tokenMember(t); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	docs, err := s.seatStates(ctx, tenantID, ids)
	if err != nil {
		return translate(ctx, op, err)
	}
	byID := make(map[string]*seatState, len(docs))
	for i := range docs {
		byID[docs[i].ID] = &docs[i]
	}
	for _, id := range ids {
		m := byID[id]
		for attempt := 0; ; attempt++ {
			if m != nil && m.TenantID != tenantID || !pending(m) {
				break
			}
			if attempt == maxSettle {
				return sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, "a member kept changing while the recount settled its seat; run it again", nil)
			}
			if done, err := s.void(ctx, tenantID, id, m); err != nil {
				return translate(ctx, op, err)
			} else if done {
				break
			}
			got, err := s.seatStates(ctx, tenantID, []string{id})
			if err != nil {
				return translate(ctx, op, err)
			}
			m = nil
			if len(got) == 1 {
				m = &got[0]
			}
		}
	}
	return nil
}

// void makes the write in flight for member id fail: a placeholder for a
// member that does not exist (m nil), a version bump of one that does. It
// reports false when the member changed first.
func (s *Store) void(ctx context.Context, tenantID, id string, m *seatState) (bool, error) {
	if m == nil {
		_, err := s.members.InsertOne(ctx, placeholder(tenantID, id, time.Now()))
		if err != nil && isDuplicate(err) {
			return false, nil
		}
		return err == nil, err
	}
	res, err := s.members.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}, {Key: "version", Value: m.Version}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil {
		return false, err
	}
	return res.MatchedCount == 1, nil
}

// placeholder returns the void placeholder of member id of tenantID.
func placeholder(tenantID, id string, at time.Time) bson.D {
	return bson.D{
		{Key: "_id", Value: id},
		{Key: "tenantId", Value: voidTenant(tenantID)},
		// The unique keys of a member, so that no unique index sees two
		// placeholders of one tenant collide.
		{Key: "emailKey", Value: id},
		{Key: "userNameKey", Value: id},
		{Key: "extKey", Value: id},
		{Key: "voidedAt", Value: at},
	}
}

// placehold inserts the void placeholders of the member ids ids of
// tenantID with one unordered insertMany, and returns the ids a document
// already had (a member, landed; a placeholder; a member of another
// tenant), which it did not insert.
func (s *Store) placehold(ctx context.Context, tenantID string, ids []string) (taken []string, err error) {
	now := time.Now()
	docs := make([]any, len(ids))
	for i, id := range ids {
		docs[i] = placeholder(tenantID, id, now)
	}
	_, err = s.members.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	var bwe driver.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return nil, err
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != codeDuplicateKey || we.Index < 0 || we.Index >= len(ids) {
			return nil, err
		}
		taken = append(taken, ids[we.Index])
	}
	return taken, nil
}

// dropVoids deletes the tenant's void placeholders older than voidTTL,
// best effort (one command). Younger ones stay: an insert they refuse may
// still be on its way.
func (s *Store) dropVoids(ctx context.Context, tenantID string) {
	_, _ = s.members.DeleteMany(ctx, bson.D{
		{Key: "tenantId", Value: voidTenant(tenantID)},
		{Key: "voidedAt", Value: bson.D{{Key: "$lt", Value: time.Now().Add(-voidTTL)}}},
	})
}
