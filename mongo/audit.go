package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rosterhq/roster/sdk"
)

// AppendAudit implements [sdk.AuditStore]: one insert keyed by the event
// id, so that a retried append meets the unique _id and is a no-op.
func (s *Store) AppendAudit(ctx context.Context, e *sdk.AuditEvent) error {
	if _, err := s.audit.InsertOne(ctx, fromAudit(e)); err != nil && !isDuplicate(err) {
		return translate(ctx, "mongo.AppendAudit", err)
	}
	return nil
}

// ListAudit implements [sdk.AuditStore]: a range query _id < q.Before on
// the (tenantId, _id) index, newest first, one command per page.
func (s *Store) ListAudit(ctx context.Context, tenantID string, q sdk.AuditQuery) ([]*sdk.AuditEvent, error) {
	const op = "mongo.ListAudit"
	filter := bson.D{{Key: "tenantId", Value: tenantID}}
	if q.Before != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: q.Before}}})
	}
	for _, f := range []struct{ key, val string }{{"actorId", q.ActorID}, {"targetId", q.TargetID}, {"action", q.Action}, {"channel", q.Channel}} {
		if f.val != "" {
			filter = append(filter, bson.E{Key: f.key, Value: f.val})
		}
	}
	var when bson.D
	if !q.Since.IsZero() {
		when = append(when, bson.E{Key: "$gte", Value: q.Since})
	}
	if !q.Until.IsZero() {
		when = append(when, bson.E{Key: "$lt", Value: q.Until})
	}
	if when != nil {
		filter = append(filter, bson.E{Key: "time", Value: when})
	}
	cur, err := s.audit.Find(ctx, filter, findOpts(bson.D{{Key: "_id", Value: -1}}, q.Limit))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	out := make([]*sdk.AuditEvent, len(docs))
	for i := range docs {
		out[i] = docs[i].event()
	}
	return out, nil
}
