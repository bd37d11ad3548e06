package mongo

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

// CreateMember implements [sdk.MemberStore] in two commands: the seat
// step, a findAndModify on the tenant conditional on the tenant not being
// marked deleting and on w.TenantVersion (with w.Seat SeatTake also on a
// free seat: it takes the seat and leaves a take intent; otherwise it
// leaves a create intent and moves no seat), then the insert of the
// member, with its password hash when w carries one. The intent lets
// DeleteTenant void the insert should it come after its sweep. When the
// insert is refused as a duplicate the seat is given back, conditional on
// its intent (also when the insert met a void placeholder:
// ReasonVersionMismatch), or the create intent removed. When it fails
// otherwise it is unknown whether the server applied it, so the seat and
// its intent stay: the counter errs high, never low, and RecountSeats
// settles the intent (a prune, a create intent). Every pruneAt-th take or
// so costs two or three commands more (see prune, pruneCreates). With
// w.GlobalEmail the address is claimed first (one command more, see
// claim), and the claim removed when the write is refused.
func (s *Store) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	const op = "mongo.CreateMember"
	if w.Seat != sdk.SeatKeep && w.Seat != sdk.SeatTake {
		return badSeat(op, w.Seat)
	}
	writeID := globalWriteID(w)
	c, err := s.claimFor(ctx, op, w, writeID, "CreateMember.claimed")
	if err != nil {
		return err
	}
	err = s.createMember(ctx, op, w, writeID)
	if err != nil {
		s.undo(ctx, op, c, err)
	}
	return err
}

// createMember is CreateMember after the claim: the seat step (a take
// intent with the seat, or a create intent without one) and the insert.
func (s *Store) createMember(ctx context.Context, op string, w sdk.MemberWrite, writeID string) error {
	m := w.Member
	var takes, creates []string
	point := "CreateMember.seatTaken"
	if w.Seat == sdk.SeatTake {
		takes = []string{seatToken(m.ID)}
	} else {
		creates = []string{createToken(m.ID)}
		point = "CreateMember.intended"
	}
	shown, err := s.takeSeats(ctx, op, m.TenantID, takes, creates, w.TenantVersion)
	if err != nil {
		return err
	}
	if err := s.crashPoint(point); err != nil {
		return err
	}
	_, err = s.members.InsertOne(ctx, memberWriteDoc(w, writeID))
	switch {
	case err == nil:
		switch {
		case takes != nil && len(shown.Tenant.SeatTakes) >= pruneAt:
			s.prune(ctx, m.TenantID, &shown.Tenant, takes, nil)
		case creates != nil && len(shown.Creates) >= pruneAt:
			s.pruneCreates(ctx, m.TenantID, shown.Creates, creates)
		}
		return nil
	case !isDuplicate(err):
		return translate(ctx, op, err)
	}
	err = s.memberDuplicate(ctx, op, m, true, err)
	if takes != nil {
		// Also when a placeholder voided the insert: the give-back is
		// conditional on the intent, which a recount that voided it has
		// pulled (or, not yet, then the give-back moves seatOps and the
		// recount counts again).
		s.giveBack(ctx, op, m.TenantID, takes)
	} else {
		s.pullIntents(ctx, m.TenantID, nil, creates)
	}
	return err
}

// memberWriteDoc returns the stored form of w's member as a create writes
// it: with the password hash w carries, and with emailClaim, the write id
// of its claim, when w asks for a globally unique address.
func memberWriteDoc(w sdk.MemberWrite, writeID string) *memberDoc {
	d := fromMember(w.Member)
	d.PasswordHash = w.PasswordHash
	if w.GlobalEmail {
		d.EmailClaim = writeID
	}
	return d
}

// memberDuplicate says which uniqueness rule refused a write of m, in the
// order the reference store checks them: the member id (on create), the
// email, the userName, the external id. (Addresses unique across tenants
// are refused before, by claim.) An id held by a void placeholder of m's
// tenant means a recount or a claimant voided the create
// (ReasonVersionMismatch). FerretDB's messages do not always name the
// index, so the answer comes from one read of the documents m collides
// with; the message is the fallback when they vanished meanwhile.
func (s *Store) memberDuplicate(ctx context.Context, op string, m *sdk.Member, creating bool, cause error) error {
	ek := extKey(m.ExternalID, m.ID)
	or := bson.A{
		bson.D{{Key: "_id", Value: m.ID}},
		bson.D{{Key: "tenantId", Value: m.TenantID}, {Key: "emailKey", Value: m.EmailKey}},
		bson.D{{Key: "tenantId", Value: m.TenantID}, {Key: "userNameKey", Value: m.UserNameKey}},
		bson.D{{Key: "tenantId", Value: m.TenantID}, {Key: "extKey", Value: ek}},
	}
	cur, err := s.members.Find(ctx,
		bson.D{{Key: "$or", Value: or}},
		options.Find().SetProjection(bson.D{{Key: "tenantId", Value: 1}, {Key: "emailKey", Value: 1}, {Key: "userNameKey", Value: 1},
			{Key: "extKey", Value: 1}}).
			SetLimit(4).SetBatchSize(4))
	if err != nil {
		return translate(ctx, op, err)
	}
	var docs []memberDoc
	if err := cur.All(ctx, &docs); err != nil {
		return translate(ctx, op, err)
	}
	var idTaken, idVoided, mailTaken, userTaken, extTaken bool
	for _, d := range docs {
		switch {
		case d.ID == m.ID:
			idVoided = creating && d.TenantID == voidTenant(m.TenantID)
			idTaken = creating && !idVoided
		case d.TenantID != m.TenantID:
		default:
			mailTaken = mailTaken || d.EmailKey == m.EmailKey
			userTaken = userTaken || d.UserNameKey == m.UserNameKey
			extTaken = extTaken || d.ExtKey == ek
		}
	}
	switch {
	case idVoided:
		return voided(op)
	case idTaken:
		return sdk.E(op, sdk.CodeAlreadyExists, "", "member id exists", nil)
	case mailTaken:
		return emailTaken(op, nil)
	case userTaken:
		return userNameTaken(op, nil)
	case extTaken:
		return externalIDTaken(op, nil)
	}
	switch duplicateIndex(cause) {
	case idxMemberMail:
		return emailTaken(op, nil)
	case idxMemberUser:
		return userNameTaken(op, nil)
	case idxMemberExt:
		return externalIDTaken(op, nil)
	}
	return sdk.E(op, sdk.CodeAlreadyExists, "", "a uniqueness rule refused the write", cause)
}

func (s *Store) findMember(ctx context.Context, op string, filter bson.D) (*sdk.Member, error) {
	var d memberDoc
	if err := s.members.FindOne(ctx, filter, options.FindOne().SetProjection(memberProjection)).Decode(&d); err != nil {
		if errors.Is(err, driver.ErrNoDocuments) {
			return nil, notFound(op, "member")
		}
		return nil, translate(ctx, op, err)
	}
	return d.member(), nil
}

// memberGone answers, after a write conditional on the version matched
// nothing, whether the member is gone (CodeNotFound) or changed
// (ReasonVersionMismatch).
func (s *Store) memberGone(ctx context.Context, op, tenantID, id string) error {
	err := s.members.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return notFound(op, "member")
	case err != nil:
		return translate(ctx, op, err)
	}
	return stale(op)
}

// GetMember implements [sdk.MemberStore]. One command.
func (s *Store) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	return s.findMember(ctx, "mongo.GetMember", bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}})
}

// GetMemberBy implements [sdk.MemberStore]. One command, on the unique
// (tenantId, emailKey), (tenantId, userNameKey) or (tenantId, extKey)
// index.
func (s *Store) GetMemberBy(ctx context.Context, tenantID string, key sdk.MemberKey, value string) (*sdk.Member, error) {
	const op = "mongo.GetMemberBy"
	var field string
	switch key {
	case sdk.KeyEmail:
		field = "emailKey"
	case sdk.KeyUserName:
		field = "userNameKey"
	case sdk.KeyExternalID:
		field = "extKey"
	default:
		return nil, sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, "unknown member key "+strconv.Itoa(int(key)), nil)
	}
	if value == "" {
		return nil, notFound(op, "member")
	}
	if key == sdk.KeyExternalID {
		value = extKey(value, "")
	}
	return s.findMember(ctx, op, bson.D{{Key: "tenantId", Value: tenantID}, {Key: field, Value: value}})
}

// GetMemberWithPasswordHash implements [sdk.PasswordHashReader]: one find
// of the member document, password hash included.
func (s *Store) GetMemberWithPasswordHash(ctx context.Context, tenantID, id string) (*sdk.Member, string, error) {
	const op = "mongo.GetMemberWithPasswordHash"
	var d memberDoc
	if err := s.members.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}}).Decode(&d); err != nil {
		if errors.Is(err, driver.ErrNoDocuments) {
			return nil, "", notFound(op, "member")
		}
		return nil, "", translate(ctx, op, err)
	}
	hash := ""
	if d.PasswordHash != nil {
		hash = *d.PasswordHash
	}
	return d.member(), hash, nil
}

// memberFilter translates f. The prefix is matched by anchored regular
// expressions over the stored lower-case keys (the SDK passes the prefix
// lower-cased), quoted so that it is never a pattern; f.Where by
// memberWhere. When exact is false the query matches a superset of the
// members and the caller keeps those f.Where.Match accepts.
func memberFilter(tenantID string, f sdk.MemberFilter) (q bson.D, exact bool) {
	d := bson.D{{Key: "tenantId", Value: tenantID}}
	if f.Status != "" {
		d = append(d, bson.E{Key: "status", Value: string(f.Status)})
	}
	if f.Role != "" {
		d = append(d, bson.E{Key: "role", Value: f.Role})
	}
	if f.Prefix != "" {
		re := bson.Regex{Pattern: "^" + regexp.QuoteMeta(f.Prefix)}
		d = append(d, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "emailKey", Value: re}},
			bson.D{{Key: "givenKey", Value: re}},
			bson.D{{Key: "familyKey", Value: re}},
			bson.D{{Key: "displayKey", Value: re}},
		}})
	}
	exact = true
	if f.Where != nil {
		var w bson.D
		w, exact = memberWhere(f.Where)
		if len(w) > 0 {
			d = append(d, bson.E{Key: "$and", Value: bson.A{w}})
		}
	}
	return d, exact
}

// Sizes of the batches ListMembers reads when it filters in Go.
const (
	minFilterBatch = 100
	maxFilterBatch = 1000
)

// ListMembers implements [sdk.MemberStore]: a range query _id > q.After,
// sorted by _id, limited, on the (tenantId, [status|role|emailKeys|…,]
// _id) indexes. When the query answers q.Filter exactly, every page is
// one find command whatever its depth, q.Offset included: the find skips
// it (skip with sort and limit, which MongoDB and FerretDB v1 both serve).
// Otherwise (see memberWhere) it reads the members the query can select in
// batches, in id order, keeping those q.Filter.Where matches, until the
// page is full or the candidates run out: one command per batch. Such a
// filter skips q.Offset in Go, among the members it reads, so its cost
// grows with the offset: a deep page by position reads every candidate
// before it.
func (s *Store) ListMembers(ctx context.Context, tenantID string, q sdk.MemberQuery) ([]*sdk.Member, error) {
	const op = "mongo.ListMembers"
	filter, exact := memberFilter(tenantID, q.Filter)
	batch := q.Limit
	skip := q.Offset
	if !exact {
		want := q.Limit + q.Offset
		batch = min(max(2*want, minFilterBatch), maxFilterBatch)
		if q.Limit > maxFilterBatch {
			batch = q.Limit
		}
	}
	out := []*sdk.Member{}
	after := q.After
	for {
		f := filter
		if after != "" {
			f = append(slices.Clip(filter), bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
		}
		o := findOpts(bson.D{{Key: "_id", Value: 1}}, batch).SetProjection(memberProjection)
		if exact && skip > 0 {
			o.SetSkip(int64(skip))
		}
		cur, err := s.members.Find(ctx, f, o)
		if err != nil {
			return nil, translate(ctx, op, err)
		}
		var docs []memberDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, translate(ctx, op, err)
		}
		for i := range docs {
			m := docs[i].member()
			if exact || q.Filter.Where.Match(m) {
				if !exact && skip > 0 {
					skip--
					continue
				}
				out = append(out, m)
				if q.Limit > 0 && len(out) == q.Limit {
					return out, nil
				}
			}
		}
		if exact || batch <= 0 || len(docs) < batch {
			return out, nil
		}
		after = docs[len(docs)-1].ID
	}
}

// CountMembers implements [sdk.MemberStore] with one countDocuments (an
// aggregate command) when the query answers f exactly; otherwise with one
// find whose cursor streams the candidates, projected to the fields
// f.Where reads, in batches of 1000 (one getMore each), counting those
// f.Where matches.
func (s *Store) CountMembers(ctx context.Context, tenantID string, f sdk.MemberFilter) (int, error) {
	const op = "mongo.CountMembers"
	filter, exact := memberFilter(tenantID, f)
	if exact {
		n, err := s.members.CountDocuments(ctx, filter)
		if err != nil {
			return 0, translate(ctx, op, err)
		}
		return int(n), nil
	}
	cur, err := s.members.Find(ctx, filter, options.Find().SetProjection(memberFields(f.Where)).SetBatchSize(scanBatch))
	if err != nil {
		return 0, translate(ctx, op, err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	n := 0
	for cur.Next(ctx) {
		var d memberDoc
		if err := cur.Decode(&d); err != nil {
			return 0, translate(ctx, op, err)
		}
		if f.Where.Match(d.member()) {
			n++
		}
	}
	return n, translate(ctx, op, cur.Err())
}

// EmailInOtherTenant implements [sdk.MemberStore]: one find of at most one
// id on the (emailKey, tenantId) index, which does not start with tenantId
// because the question is across tenants. Void placeholders (see
// RecountSeats) are no members.
func (s *Store) EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error) {
	err := s.members.FindOne(ctx,
		bson.D{
			{Key: "emailKey", Value: emailKey},
			{Key: "tenantId", Value: bson.D{{Key: "$ne", Value: tenantID}}},
			{Key: "voidedAt", Value: bson.D{{Key: "$exists", Value: false}}},
		},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return false, nil
	case err != nil:
		return false, translate(ctx, "mongo.EmailInOtherTenant", err)
	}
	return true, nil
}

// UpdateMember implements [sdk.MemberStore]: one findAndModify
// conditional on the version that sets every field but the member's group
// memberships (see replaceMember), and the password hash when w carries
// one, and returns the member as it was. With SeatTake it is preceded by
// the seat take (see CreateMember), whose seat is given back when the
// update is refused; with SeatRelease it is wrapped in a release: a
// release intent on the tenant before the update, and after it the seat
// given back (or, when the update was refused, the intent removed), one
// command each. A failure without a definite answer leaves the intent for
// RecountSeats to settle. With w.GlobalEmail the address is claimed first
// (one command); the claim is undone when the update is refused. After an
// update that leaves the member without the address it held (another
// address, or a write without GlobalEmail) the old claim is released (one
// command); the member as it was tells whether it had one, so a member
// written without GlobalEmail costs nothing more.
func (s *Store) UpdateMember(ctx context.Context, w sdk.MemberWrite) error {
	const op = "mongo.UpdateMember"
	if w.Seat != sdk.SeatKeep && w.Seat != sdk.SeatTake && w.Seat != sdk.SeatRelease {
		return badSeat(op, w.Seat)
	}
	writeID := globalWriteID(w)
	doc := memberWriteDoc(w, writeID)
	doc.Version = w.ExpectedVersion + 1
	update, err := replaceMember(doc)
	if err != nil {
		return sdk.E(op, sdk.CodeInvalidArgument, sdk.ReasonInvalid, "the member cannot be stored", err)
	}
	c, err := s.claimFor(ctx, op, w, writeID, "UpdateMember.claimed")
	if err != nil {
		return err
	}
	old, err := s.updateMember(ctx, op, w, update)
	if err != nil {
		s.undo(ctx, op, c, err)
		return err
	}
	if old.EmailClaim != "" && (!w.GlobalEmail || old.EmailKey != w.Member.EmailKey) {
		s.release(ctx, op, old.EmailKey, w.Member.ID, old.EmailClaim)
	}
	return nil
}

// updateMember is UpdateMember after the claim: the seat steps and the
// update. It returns the member as it was.
func (s *Store) updateMember(ctx context.Context, op string, w sdk.MemberWrite, update bson.D) (*claimHolder, error) {
	m, expectedVersion := w.Member, w.ExpectedVersion
	var err error
	var token string
	var shown *takenDoc
	var takes []string // the member's take intents, for a release
	switch w.Seat {
	case sdk.SeatTake:
		token = seatToken(m.ID)
		if shown, err = s.takeSeats(ctx, op, m.TenantID, []string{token}, nil, 0); err != nil {
			return nil, err
		}
		if err := s.crashPoint("UpdateMember.seatTaken"); err != nil {
			return nil, err
		}
	case sdk.SeatRelease:
		token = seatToken(m.ID)
		if takes, err = s.beginRelease(ctx, op, m.TenantID, m.ID, token); err != nil {
			return nil, err
		}
		if err := s.crashPoint("UpdateMember.releasing"); err != nil {
			return nil, err
		}
	}
	// refused undoes the seat step of a write the server refused.
	refused := func(err error) (*claimHolder, error) {
		switch w.Seat {
		case sdk.SeatTake:
			s.giveBack(ctx, op, m.TenantID, []string{token})
		case sdk.SeatRelease:
			s.endRelease(ctx, op, m.TenantID, token, false, nil)
		}
		return nil, err
	}
	// No projection: FerretDB v1 does not implement one on findAndModify.
	var old claimHolder
	err = s.members.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: m.ID}, {Key: "tenantId", Value: m.TenantID}, {Key: "version", Value: expectedVersion}},
		update, options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&old)
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return refused(s.memberGone(ctx, op, m.TenantID, m.ID))
	case err != nil && isDuplicate(err):
		return refused(s.memberDuplicate(ctx, op, m, false, err))
	case err != nil:
		return nil, translate(ctx, op, err)
	}
	m.Version = expectedVersion + 1
	if err := s.crashPoint("UpdateMember.written"); err != nil {
		return nil, err
	}
	switch {
	case w.Seat == sdk.SeatRelease:
		s.endRelease(ctx, op, m.TenantID, token, true, takes)
	case shown != nil && len(shown.Tenant.SeatTakes) >= pruneAt:
		s.prune(ctx, m.TenantID, &shown.Tenant, []string{token}, nil)
	}
	return &old, nil
}

// DeleteMember implements [sdk.MemberStore]: one findAndModify that
// deletes the member, conditional on the version, and returns it; with
// SeatRelease wrapped in a release, as UpdateMember's. A member that held
// an address unique across tenants releases its claim after (one command
// more).
func (s *Store) DeleteMember(ctx context.Context, d sdk.MemberDelete) error {
	const op = "mongo.DeleteMember"
	if d.Seat != sdk.SeatKeep && d.Seat != sdk.SeatRelease {
		return badSeat(op, d.Seat)
	}
	release := d.Seat == sdk.SeatRelease
	var token string
	var takes []string
	if release {
		token = seatToken(d.ID)
		var err error
		if takes, err = s.beginRelease(ctx, op, d.TenantID, d.ID, token); err != nil {
			return err
		}
		if err := s.crashPoint("DeleteMember.releasing"); err != nil {
			return err
		}
	}
	var gone claimHolder
	err := s.members.FindOneAndDelete(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "tenantId", Value: d.TenantID}, {Key: "version", Value: d.ExpectedVersion}}).Decode(&gone)
	if err != nil && !errors.Is(err, driver.ErrNoDocuments) {
		return translate(ctx, op, err)
	}
	if err != nil {
		err := s.memberGone(ctx, op, d.TenantID, d.ID)
		if release {
			s.endRelease(ctx, op, d.TenantID, token, false, nil)
		}
		return err
	}
	if err := s.crashPoint("DeleteMember.deleted"); err != nil {
		return err
	}
	if release {
		s.endRelease(ctx, op, d.TenantID, token, true, takes)
	}
	if gone.EmailClaim != "" {
		s.release(ctx, op, gone.EmailKey, d.ID, gone.EmailClaim)
	}
	return nil
}
