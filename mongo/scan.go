package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

var _ sdk.MemberScanner = (*Store)(nil)

// scanBatch is the number of members per reply of a scan.
const scanBatch = 1000

// ScanMembers implements [sdk.MemberScanner]: one find on the tenant whose
// cursor streams the members in batches of 1000 (one getMore per batch),
// in no particular order so that the server need not sort. Unlike paging
// with ListMembers, the server runs the query once, which matters on
// servers that scan rather than seek per page.
func (s *Store) ScanMembers(ctx context.Context, tenantID string, fn func(*sdk.Member) error) error {
	const op = "mongo.ScanMembers"
	cur, err := s.members.Find(ctx, bson.D{{Key: "tenantId", Value: tenantID}},
		options.Find().SetBatchSize(scanBatch).SetProjection(memberProjection))
	if err != nil {
		return translate(ctx, op, err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var d memberDoc
		if err := cur.Decode(&d); err != nil {
			return translate(ctx, op, err)
		}
		if err := fn(d.member()); err != nil {
			return err
		}
	}
	return translate(ctx, op, cur.Err())
}
