package mongo

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

// tenantDeleting is the answer of a seat step, and of RecountSeats, for a
// tenant marked deleting.
func tenantDeleting(op string) error {
	return sdk.E(op, sdk.CodeNotFound, sdk.ReasonTenantDeleting, "the tenant's deletion has not finished; delete it again to finish it", nil)
}

// DeleteTenant implements [sdk.TenantStore] in ordered steps, since
// MongoDB deletes one document atomically and no more (see "Deleting a
// tenant" in doc.go):
//
//  1. Mark: one findAndModify of the tenant, conditional on
//     expectedVersion or on an earlier mark, that sets deleting and
//     increments the version, and returns the tenant with its intents.
//     From then on no seat step of the tenant matches (see takeSeats): no
//     member write takes a seat of it or leaves an intent on it, so the
//     intents it returns name every create that may still insert a member
//     — the take intents, the create intents and the pending owner of an
//     unfinished CreateTenant.
//  2. Delete the tenant's members (one deleteMany, which also drops the
//     tenant's void placeholders older than voidTTL, as RecountSeats
//     does).
//  3. Void every create those intents name: a placeholder under each
//     member id (one unordered insertMany), so that a late insert fails on
//     its _id. An id already taken is a placeholder, a member of another
//     tenant, or a member that landed after step 2: that one is deleted
//     and its placeholder inserted again (one deleteMany and one
//     insertMany more, at most maxSettle times). No command when there
//     are no intents. The placeholders stay, as tombstones: deleting them
//     would let a late insert succeed. Nothing reads them (tenant ids are
//     never reused), and there are at most as many as the intents the
//     mark found.
//  4. Delete the rest of what the tenant holds, collection by collection:
//     address claims, credentials, invitations, groups, tokens, audit
//     (six deleteMany). Claims go after step 3, so that the claim of a
//     member step 3 deleted goes too; a claim made later belongs to a
//     write that the mark refuses, which removes its claim.
//  5. Delete the tenant document, conditional on the mark.
//
// So a deletion takes nine commands, ten when the mark found intents (one
// more, a read, when it is refused). A crash, or an error, between two
// steps leaves the mark: the tenant reads as deleting, and a second call,
// whatever expectedVersion, runs every step again, which finds what is
// left.
func (s *Store) DeleteTenant(ctx context.Context, tenantID string, expectedVersion int64) error {
	const op = "mongo.DeleteTenant"
	var d takenDoc
	err := s.tenants.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: tenantID}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "version", Value: expectedVersion}},
			bson.D{{Key: "deleting", Value: true}},
		}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "deleting", Value: true}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&d)
	if err == driver.ErrNoDocuments {
		if err := s.tenantExists(ctx, op, tenantID); err != nil {
			return err
		}
		return stale(op)
	}
	if err != nil {
		return translate(ctx, op, err)
	}
	if err := s.crashPoint("DeleteTenant.marked"); err != nil {
		return err
	}
	if _, err := s.members.DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "tenantId", Value: tenantID}},
		bson.D{{Key: "tenantId", Value: voidTenant(tenantID)}, {Key: "voidedAt", Value: bson.D{{Key: "$lt", Value: time.Now().Add(-voidTTL)}}}},
	}}}); err != nil {
		return translate(ctx, op, err)
	}
	if err := s.crashPoint("DeleteTenant.membersDeleted"); err != nil {
		return err
	}
	if err := s.voidCreates(ctx, op, tenantID, createsOf(&d)); err != nil {
		return err
	}
	byTenant := bson.D{{Key: "tenantId", Value: tenantID}}
	for _, c := range []*driver.Collection{s.claims, s.credentials, s.invitations, s.groups(), s.tokens(), s.audit} {
		if _, err := c.DeleteMany(ctx, byTenant); err != nil {
			return translate(ctx, op, err)
		}
	}
	if err := s.crashPoint("DeleteTenant.swept"); err != nil {
		return err
	}
	if _, err := s.tenants.DeleteOne(ctx, bson.D{{Key: "_id", Value: tenantID}, {Key: "deleting", Value: true}}); err != nil {
		return translate(ctx, op, err)
	}
	return nil
}

// createsOf returns the member ids of the creates a marked tenant may
// still see land: those of its take and create intents and its pending
// owner, once each.
func createsOf(d *takenDoc) []string {
	var ids []string
	add := func(id string) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, t := range d.Tenant.SeatTakes {
		add(tokenMember(t))
	}
	for _, t := range d.Creates {
		add(tokenMember(t))
	}
	if po := d.Tenant.PendingOwner; po != nil {
		add(po.ID)
	}
	return ids
}

// voidCreates makes sure that no member with one of the ids ids lands in
// the tenant, whose members are deleted: it inserts a placeholder under
// each id, and deletes the members of the tenant that hold an id first (a
// create landed since the members were deleted) and tries again, up to
// maxSettle times.
func (s *Store) voidCreates(ctx context.Context, op, tenantID string, ids []string) error {
	for attempt := 0; len(ids) > 0; attempt++ {
		if attempt == maxSettle {
			return sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, "members kept landing while the tenant was deleted; delete it again", nil)
		}
		taken, err := s.placehold(ctx, tenantID, ids)
		if err != nil || len(taken) == 0 {
			return translate(ctx, op, err)
		}
		res, err := s.members.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: taken}}}, {Key: "tenantId", Value: tenantID}})
		if err != nil {
			return translate(ctx, op, err)
		}
		if res.DeletedCount == 0 {
			// Placeholders, or members of other tenants: no insert of
			// this tenant can land under those ids.
			return nil
		}
		ids = taken
	}
	return nil
}

var _ sdk.TenantStore = (*Store)(nil)
