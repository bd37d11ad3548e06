package mongo

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

// Addresses unique across tenants (sdk.MemberWrite.GlobalEmail; see
// "Addresses unique across tenants" in doc.go). The emailclaims collection
// holds a claim per address, keyed by the address itself, so that the
// uniqueness is that of _id and the members collection keeps only
// tenant-prefixed unique indexes. A write with GlobalEmail claims the
// address before its member write and gives up the claims its member no
// longer holds after it; a crash in between leaves a claim whose member
// does not hold the address, which the next claimant of that address takes
// over, voiding the write in flight first exactly as RecountSeats voids a
// seat intent's (see settle and void).

const (
	// maxClaimRounds bounds how often claim starts over when the claim it
	// wants to take over keeps changing.
	maxClaimRounds = 8
	// maxClaimWait bounds the pause between two looks at a claim whose
	// write may still be in flight.
	maxClaimWait = 250 * time.Millisecond
)

// claimGrace is how long a claim whose member does not (or no longer)
// hold its address is taken for a write in flight, which the claimant
// waits for, before it is taken for stale and taken over. A variable for
// the tests.
var claimGrace = 5 * time.Second

// claimDoc is a claim of an address by a member.
type claimDoc struct {
	Key      string `bson:"_id"` // the address: sdk.Member.EmailKey
	TenantID string `bson:"tenantId"`
	MemberID string `bson:"memberId"`
	// WriteID names the member write that last claimed it; the member
	// document written by it carries the same value as emailClaim, and
	// releases match it, so that a release never removes a claim a later
	// write of the same member relies on.
	WriteID string    `bson:"writeId"`
	At      time.Time `bson:"at"`
}

// claimHolder is what a claimant reads of a member: where it is and
// whether it holds an address.
type claimHolder struct {
	ID         string `bson:"_id"`
	TenantID   string `bson:"tenantId"`
	EmailKey   string `bson:"emailKey"`
	EmailClaim string `bson:"emailClaim"`
	Version    int64  `bson:"version"`
}

// newWriteID returns a new claim write id.
func newWriteID() string { return strconv.FormatUint(rand.Uint64(), 36) }

// globalWriteID returns a new write id for a write with GlobalEmail, and ""
// for one without.
func globalWriteID(w sdk.MemberWrite) string {
	if !w.GlobalEmail {
		return ""
	}
	return newWriteID()
}

// claimFor claims the address of a write with a write id (see
// globalWriteID), then passes the crash point named point; a write without
// one claims nothing and gets nil.
func (s *Store) claimFor(ctx context.Context, op string, w sdk.MemberWrite, writeID, point string) (*claimed, error) {
	if writeID == "" {
		return nil, nil
	}
	c, err := s.claim(ctx, op, w.Member.EmailKey, w.Member, writeID)
	if err != nil {
		return nil, err
	}
	return c, s.crashPoint(point)
}

// claimed is the outcome of a successful claim.
type claimed struct {
	key, memberID, writeID string
	// created: the claim did not exist for this member before this write,
	// so a refused write removes it; otherwise a refused write puts prev
	// back as its write id.
	created bool
	prev    string
}

// undo gives up a claim whose member write was refused: it removes the
// claim this write created, or gives a claim the member held already its
// former write id back, in either case only while no other write has
// claimed it since. A nil c does nothing. Best effort: a claim left
// behind is taken over by the next claimant after claimGrace.
func (s *Store) undo(ctx context.Context, op string, c *claimed, cause error) {
	if c == nil || !definite(cause) {
		return
	}
	if c.created {
		s.release(ctx, op, c.key, c.memberID, c.writeID)
		return
	}
	_, err := s.claims.UpdateOne(context.WithoutCancel(ctx),
		bson.D{{Key: "_id", Value: c.key}, {Key: "memberId", Value: c.memberID}, {Key: "writeId", Value: c.writeID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "writeId", Value: c.prev}}}})
	if err != nil {
		s.log.Warn("roster: could not restore an address claim", "op", op, "err", err)
	}
}

// definite reports whether err is a refusal: the write certainly did not
// happen. Otherwise (a network error, a timeout, a crash) it may have, and
// its claim must stay.
func definite(err error) bool {
	switch sdk.CodeOf(err) {
	case sdk.CodeInvalidArgument, sdk.CodeNotFound, sdk.CodeAlreadyExists, sdk.CodeFailedPrecondition, sdk.CodeResourceExhausted:
		return true
	}
	return false
}

// release removes the claim of key by memberID made by the write writeID:
// one deleteOne that never removes a claim another member, or a later
// write of the same member, holds. It runs even when ctx is cancelled.
// Best effort: a claim left behind is taken over by the next claimant.
func (s *Store) release(ctx context.Context, op, key, memberID, writeID string) {
	_, err := s.claims.DeleteOne(context.WithoutCancel(ctx),
		bson.D{{Key: "_id", Value: key}, {Key: "memberId", Value: memberID}, {Key: "writeId", Value: writeID}})
	if err != nil {
		s.log.Warn("roster: could not release an address claim; the next claimant of the address takes it over", "op", op, "err", err)
	}
}

// claim makes m the holder of the claim of key for the write writeID, or
// refuses with ReasonEmailTakenElsewhere when another member holds the
// address. One command when the claim is free or already m's: a
// findAndModify upsert conditional on the holder being m. When another
// member's claim is in the way, claim reads it and its holder:
//
//   - the holder is of its claim's tenant, has the address as EmailKey and
//     holds it (its document carries emailClaim): refused (ReasonEmailTaken
//     when that tenant is m's);
//   - the holder can never land (a void placeholder has its id, or a
//     member of another tenant does): the claim is taken over;
//   - otherwise (the holder is missing, has another address, or was
//     written without GlobalEmail) the claim's write is in flight or
//     stale. Until claimGrace has passed since the claim (and since claim
//     first saw it so) it waits and looks again; then it voids that write
//     as RecountSeats does — a placeholder under the missing member's id,
//     a version bump of the existing one — so that it can never land, and
//     takes the claim over with a replacement conditional on the claim
//     being unchanged.
//
// A missing holder that is the pending owner of its tenant (a CreateTenant
// a crash stopped, which RecountSeats completes) counts as present.
func (s *Store) claim(ctx context.Context, op, key string, m *sdk.Member, writeID string) (*claimed, error) {
	var seen claimDoc // the claim claim waits for, and since when
	var since time.Time
	wait := 5 * time.Millisecond
	for round := 0; round < maxClaimRounds; {
		var prev claimDoc
		err := s.claims.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: key}, {Key: "memberId", Value: m.ID}},
			bson.D{
				{Key: "$set", Value: bson.D{{Key: "writeId", Value: writeID}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "tenantId", Value: m.TenantID}, {Key: "at", Value: time.Now()}}},
			},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before)).Decode(&prev)
		switch {
		case err == nil:
			return &claimed{key: key, memberID: m.ID, writeID: writeID, prev: prev.WriteID}, nil
		case errors.Is(err, driver.ErrNoDocuments):
			return &claimed{key: key, memberID: m.ID, writeID: writeID, created: true}, nil
		case !isDuplicate(err):
			return nil, translate(ctx, op, err)
		}
		c, err := s.readClaim(ctx, op, key)
		if err != nil {
			return nil, err
		}
		if c == nil || c.MemberID == m.ID { // released or changed meanwhile
			round++
			continue
		}
		live, h, err := s.claimHolder(ctx, op, c)
		switch {
		case err != nil:
			return nil, err
		case live && c.TenantID == m.TenantID:
			// The member write would meet tenantId_emailKey_unique.
			return nil, emailTaken(op, nil)
		case live:
			return nil, emailTakenElsewhere(op)
		case h == nil || h.TenantID == c.TenantID:
			// In flight or stale: wait, then void the write.
			if seen != *c {
				seen, since = *c, time.Now()
			}
			if time.Since(c.At) < claimGrace && time.Since(since) < claimGrace {
				if err := s.crashPoint("claim.waiting"); err != nil {
					return nil, err
				}
				if err := sleep(ctx, wait); err != nil {
					return nil, err
				}
				wait = min(2*wait, maxClaimWait)
				continue
			}
			var st *seatState
			if h != nil {
				st = &seatState{ID: h.ID, TenantID: h.TenantID, Version: h.Version}
			}
			done, err := s.void(ctx, c.TenantID, c.MemberID, st)
			if err != nil {
				return nil, translate(ctx, op, err)
			}
			if !done { // the holder changed: look again
				round++
				continue
			}
		}
		// The claim's write can no longer land: take the claim over.
		res, err := s.claims.ReplaceOne(ctx,
			bson.D{{Key: "_id", Value: key}, {Key: "memberId", Value: c.MemberID}, {Key: "writeId", Value: c.WriteID}},
			claimDoc{Key: key, TenantID: m.TenantID, MemberID: m.ID, WriteID: writeID, At: time.Now()})
		if err != nil {
			return nil, translate(ctx, op, err)
		}
		if res.MatchedCount == 1 {
			return &claimed{key: key, memberID: m.ID, writeID: writeID, created: true}, nil
		}
		round++
	}
	return nil, sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, "the address's claim kept changing; try again", nil)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readClaim returns the claim of key, or nil when there is none.
func (s *Store) readClaim(ctx context.Context, op, key string) (*claimDoc, error) {
	var c claimDoc
	err := s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&c)
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return nil, nil
	case err != nil:
		return nil, translate(ctx, op, err)
	}
	return &c, nil
}

// claimHolder reads the holder of c: live when it holds c's address; h nil
// when it is missing, h of another tenant when it can never land (a void
// placeholder or a member id of another tenant). One find, and one more
// of the tenant when the holder is missing, for a pending owner.
func (s *Store) claimHolder(ctx context.Context, op string, c *claimDoc) (live bool, h *claimHolder, err error) {
	var d claimHolder
	err = s.members.FindOne(ctx, bson.D{{Key: "_id", Value: c.MemberID}},
		options.FindOne().SetProjection(bson.D{{Key: "tenantId", Value: 1}, {Key: "emailKey", Value: 1}, {Key: "emailClaim", Value: 1}, {Key: "version", Value: 1}})).
		Decode(&d)
	switch {
	case err == nil:
		return d.TenantID == c.TenantID && d.EmailKey == c.Key && d.EmailClaim != "", &d, nil
	case !errors.Is(err, driver.ErrNoDocuments):
		return false, nil, translate(ctx, op, err)
	}
	var t struct {
		PendingOwner *claimHolder `bson:"pendingOwner"`
	}
	err = s.tenants.FindOne(ctx, bson.D{{Key: "_id", Value: c.TenantID}, {Key: "pendingOwner._id", Value: c.MemberID}},
		options.FindOne().SetProjection(bson.D{{Key: "pendingOwner", Value: 1}})).Decode(&t)
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return false, nil, nil
	case err != nil:
		return false, nil, translate(ctx, op, err)
	}
	po := t.PendingOwner
	return po != nil && po.EmailKey == c.Key && po.EmailClaim != "", nil, nil
}

// claimAll claims the addresses of ws[i] for i in idx (writes with
// GlobalEmail, of distinct addresses) for the write ids ids[i]: one
// unordered insertMany of new claims; the addresses that have one already
// go through claim one at a time. It sets errs[i] for the writes refused
// and returns the claims made.
func (s *Store) claimAll(ctx context.Context, op string, ws []sdk.MemberWrite, idx []int, ids []string, errs []error) map[int]*claimed {
	out := map[int]*claimed{}
	if len(idx) == 0 {
		return out
	}
	now := time.Now()
	docs := make([]any, len(idx))
	for k, i := range idx {
		m := ws[i].Member
		docs[k] = claimDoc{Key: m.EmailKey, TenantID: m.TenantID, MemberID: m.ID, WriteID: ids[i], At: now}
	}
	failed := map[int]bool{}
	var taken []int
	_, err := s.claims.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil {
		var bwe driver.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			for _, i := range idx {
				errs[i] = translate(ctx, op, err)
			}
			return out
		}
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(idx) {
				for _, i := range idx {
					errs[i] = translate(ctx, op, err)
				}
				return out
			}
			i := idx[we.Index]
			failed[i] = true
			if we.Code == codeDuplicateKey {
				taken = append(taken, i)
			} else {
				errs[i] = sdk.E(op, sdk.CodeUnknown, "", "database error", we)
			}
		}
	}
	for _, i := range idx {
		if !failed[i] {
			m := ws[i].Member
			out[i] = &claimed{key: m.EmailKey, memberID: m.ID, writeID: ids[i], created: true}
		}
	}
	for _, i := range taken {
		m := ws[i].Member
		if c, err := s.claim(ctx, op, m.EmailKey, m, ids[i]); err != nil {
			errs[i] = err
		} else {
			out[i] = c
		}
	}
	return out
}
