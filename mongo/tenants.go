package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

// CreateTenant implements [sdk.TenantStore] in three ordered writes: insert
// the tenant (carrying a copy of the owner member as pendingOwner), insert
// the owner member, unset pendingOwner. A crash after the first write
// leaves a tenant whose owner member is missing; [Store.RecountSeats], which
// [sdk.Client.Reconcile] calls, inserts it from pendingOwner. A crash after
// the second leaves only the stale copy, which the same repair removes.
// With w.GlobalEmail the owner's address is claimed before anything else
// (see claim); when the claim is refused nothing is written, and when the
// creation is refused the claim is removed.
func (s *Store) CreateTenant(ctx context.Context, t *sdk.Tenant, w sdk.MemberWrite) error {
	const op = "mongo.CreateTenant"
	writeID := globalWriteID(w)
	c, err := s.claimFor(ctx, op, w, writeID, "CreateTenant.claimed")
	if err != nil {
		return err
	}
	err = s.createTenant(ctx, op, t, w, writeID)
	if err != nil {
		s.undo(ctx, op, c, err)
	}
	return err
}

// createTenant is CreateTenant after the claim.
func (s *Store) createTenant(ctx context.Context, op string, t *sdk.Tenant, w sdk.MemberWrite, writeID string) error {
	owner := w.Member
	doc := fromTenant(t)
	od := memberWriteDoc(w, writeID)
	doc.PendingOwner = od
	if _, err := s.tenants.InsertOne(ctx, doc); err != nil {
		if isDuplicate(err) {
			return s.tenantDuplicate(ctx, op, t, err)
		}
		return translate(ctx, op, err)
	}
	if err := s.crashPoint("CreateTenant.tenantInserted"); err != nil {
		return err
	}
	if _, err := s.members.InsertOne(ctx, od); err != nil {
		if !isDuplicate(err) {
			return translate(ctx, op, err)
		}
		// A concurrent repair may have inserted this very owner already;
		// otherwise the owner's id is taken (in another tenant: this tenant
		// is new, so its email and external id are free), or a claimant
		// of the owner's address voided the insert. Undo the tenant so
		// that its slug is free again — unless a deletion marked it (the
		// deletion voided the insert): the mark is what lets that deletion
		// resume after a crash, so it stays for the deletion to remove.
		switch _, gerr := s.GetMember(ctx, t.ID, owner.ID); {
		case errors.Is(gerr, sdk.ErrNotFound):
			derr := s.memberDuplicate(ctx, op, owner, true, err)
			_, _ = s.tenants.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: t.ID}, {Key: "deleting", Value: bson.D{{Key: "$ne", Value: true}}}})
			if sdk.ReasonOf(derr) == sdk.ReasonVersionMismatch {
				return derr
			}
			return sdk.E(op, sdk.CodeAlreadyExists, "", "the owner's member id exists", nil)
		case gerr != nil:
			return gerr
		}
	}
	if err := s.crashPoint("CreateTenant.ownerInserted"); err != nil {
		return err
	}
	// Best effort: a leftover copy is harmless and removed by RecountSeats.
	_ = s.clearPendingOwner(ctx, t.ID, owner.ID)
	return nil
}

func (s *Store) clearPendingOwner(ctx context.Context, tenantID, ownerID string) error {
	_, err := s.tenants.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: tenantID}, {Key: "pendingOwner._id", Value: ownerID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "pendingOwner", Value: ""}}}})
	return err
}

// tenantDuplicate says which uniqueness rule refused a tenant insert. The
// slug is checked first, as the contract lists it first; FerretDB's
// duplicate key message names no index, so the answer comes from a read.
func (s *Store) tenantDuplicate(ctx context.Context, op string, t *sdk.Tenant, cause error) error {
	err := s.tenants.FindOne(ctx, bson.D{{Key: "slug", Value: t.Slug}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	switch {
	case err == nil:
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonSlugTaken, "the slug "+t.Slug+" is taken", nil)
	case !errors.Is(err, driver.ErrNoDocuments):
		return translate(ctx, op, err)
	case duplicateIndex(cause) == idxSlug:
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonSlugTaken, "the slug "+t.Slug+" is taken", nil)
	}
	return sdk.E(op, sdk.CodeAlreadyExists, "", "tenant id exists", nil)
}

func (s *Store) findTenant(ctx context.Context, op string, filter bson.D) (*tenantDoc, error) {
	var d tenantDoc
	if err := s.tenants.FindOne(ctx, filter).Decode(&d); err != nil {
		if errors.Is(err, driver.ErrNoDocuments) {
			return nil, notFound(op, "tenant")
		}
		return nil, translate(ctx, op, err)
	}
	return &d, nil
}

// tenantExists answers, after a conditional write matched nothing, whether
// the tenant is there at all.
func (s *Store) tenantExists(ctx context.Context, op, id string) error {
	return s.tenantAt(ctx, op, id, 0)
}

// tenantAt returns CodeNotFound when the tenant does not exist, and, with
// a version other than zero, CodeFailedPrecondition (ReasonVersionMismatch)
// when the tenant's version is another: one find.
func (s *Store) tenantAt(ctx context.Context, op, id string, version int64) error {
	var d struct {
		Version int64 `bson:"version"`
	}
	err := s.tenants.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&d)
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return notFound(op, "tenant")
	case err != nil:
		return translate(ctx, op, err)
	case version != 0 && d.Version != version:
		return stale(op)
	}
	return nil
}

// GetTenant implements [sdk.TenantStore]. One command.
func (s *Store) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	d, err := s.findTenant(ctx, "mongo.GetTenant", bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return nil, err
	}
	return d.tenant(), nil
}

// GetTenantBySlug implements [sdk.TenantStore]. One command.
func (s *Store) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	d, err := s.findTenant(ctx, "mongo.GetTenantBySlug", bson.D{{Key: "slug", Value: slug}})
	if err != nil {
		return nil, err
	}
	return d.tenant(), nil
}

// ListTenants implements [sdk.TenantStore]: a range query on _id, one
// command per page.
func (s *Store) ListTenants(ctx context.Context, q sdk.TenantQuery) ([]*sdk.Tenant, error) {
	const op = "mongo.ListTenants"
	filter := bson.D{}
	if q.After != "" {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After}}}}
	}
	cur, err := s.tenants.Find(ctx, filter, findOpts(bson.D{{Key: "_id", Value: 1}}, q.Limit))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []tenantDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	out := make([]*sdk.Tenant, len(docs))
	for i := range docs {
		out[i] = docs[i].tenant()
	}
	return out, nil
}

// UpdateTenant implements [sdk.TenantStore]: one update conditional on the
// version. It sets only name, roles, settings, version and updatedAt, so
// the owner and the seat fields cannot change through it.
func (s *Store) UpdateTenant(ctx context.Context, t *sdk.Tenant, expectedVersion int64) error {
	const op = "mongo.UpdateTenant"
	res, err := s.tenants.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: t.ID}, {Key: "version", Value: expectedVersion}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "name", Value: t.Name},
			{Key: "roles", Value: fromRoles(t.Roles)},
			{Key: "settings", Value: fromSettings(&t.Settings)},
			{Key: "version", Value: expectedVersion + 1},
			{Key: "updatedAt", Value: t.UpdatedAt},
		}}})
	if err != nil {
		return translate(ctx, op, err)
	}
	if res.MatchedCount == 0 {
		if err := s.tenantExists(ctx, op, t.ID); err != nil {
			return err
		}
		return stale(op)
	}
	t.Version = expectedVersion + 1
	return nil
}

// modifyTenant applies a conditional update to one tenant and returns the
// tenant after it, in one findAndModify command. When nothing matched it
// returns refused, or CodeNotFound when the tenant does not exist.
func (s *Store) modifyTenant(ctx context.Context, op, id string, cond, update bson.D, refused error) (*sdk.Tenant, error) {
	var d tenantDoc
	err := s.tenants.FindOneAndUpdate(ctx, append(bson.D{{Key: "_id", Value: id}}, cond...), update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, driver.ErrNoDocuments) {
		if err := s.tenantExists(ctx, op, id); err != nil {
			return nil, err
		}
		return nil, refused
	}
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	return d.tenant(), nil
}

// AdjustExtraSeats implements [sdk.TenantStore]: one findAndModify whose
// $inc moves extraSeats and seatsFree together and whose filter, for a
// removal, encodes both limits (seatsFree >= -delta, extraSeats >= -delta).
// Buying seats has no condition, so a tenant over its limit can buy its way
// back under it.
func (s *Store) AdjustExtraSeats(ctx context.Context, tenantID string, delta int, now time.Time) (*sdk.Tenant, error) {
	const op = "mongo.AdjustExtraSeats"
	cond := bson.D{}
	if delta < 0 {
		cond = bson.D{
			{Key: "seatsFree", Value: bson.D{{Key: "$gte", Value: -delta}}},
			{Key: "extraSeats", Value: bson.D{{Key: "$gte", Value: -delta}}},
		}
	}
	return s.modifyTenant(ctx, op, tenantID,
		cond,
		bson.D{
			{Key: "$inc", Value: bson.D{{Key: "extraSeats", Value: delta}, {Key: "seatsFree", Value: delta}, {Key: "version", Value: 1}}},
			{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: now}}},
		},
		seatsInUse(op))
}

// SetOwner implements [sdk.TenantStore]: a compare-and-set of ownerId in one
// findAndModify.
func (s *Store) SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*sdk.Tenant, error) {
	const op = "mongo.SetOwner"
	return s.modifyTenant(ctx, op, tenantID,
		bson.D{{Key: "ownerId", Value: from}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "ownerId", Value: to}, {Key: "updatedAt", Value: now}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		},
		stale(op))
}

// restoreOwner finishes a CreateTenant that stopped after inserting the
// tenant. The copy is restored only while its member is still the owner:
// an owner cannot be removed, so a missing owner member with that id can
// only be a creation that never completed.
func (s *Store) restoreOwner(ctx context.Context, op string, d *tenantDoc) error {
	po := d.PendingOwner
	if po.ID == d.OwnerID && po.TenantID == d.ID {
		if _, err := s.members.InsertOne(ctx, po); err != nil && !isDuplicate(err) {
			return translate(ctx, op, err)
		}
	}
	if err := s.clearPendingOwner(ctx, d.ID, po.ID); err != nil {
		return translate(ctx, op, err)
	}
	d.PendingOwner = nil
	return nil
}
