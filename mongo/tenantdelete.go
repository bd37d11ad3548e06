package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rosterhq/roster/sdk"
)

// DeleteTenant implements [sdk.TenantStore] in ordered steps, since
// MongoDB deletes one document atomically and no more: it marks the
// tenant deleting (conditional on its version, Version+1), deletes every
// document of the tenant collection by collection, and deletes the tenant
// last. A crash leaves the mark, and a second call finishes the job.
func (s *Store) DeleteTenant(ctx context.Context, tenantID string, expectedVersion int64) error {
	const op = "mongo.DeleteTenant"
	var d tenantDoc
	err := s.tenants.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: tenantID}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "version", Value: expectedVersion}},
			bson.D{{Key: "deleting", Value: true}},
		}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "deleting", Value: true}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}},
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
	byTenant := bson.D{{Key: "tenantId", Value: tenantID}}
	for _, c := range []*driver.Collection{s.members, s.claims, s.credentials, s.invitations, s.groups(), s.tokens(), s.audit} {
		if _, err := c.DeleteMany(ctx, byTenant); err != nil {
			return translate(ctx, op, err)
		}
	}
	if _, err := s.tenants.DeleteOne(ctx, bson.D{{Key: "_id", Value: tenantID}, {Key: "deleting", Value: true}}); err != nil {
		return translate(ctx, op, err)
	}
	return nil
}

var _ sdk.TenantStore = (*Store)(nil)
