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

var _ sdk.InvitationStore = (*Store)(nil)

type invitationDoc struct {
	ID          string      `bson:"_id"`
	TenantID    string      `bson:"tenantId"`
	MemberID    string      `bson:"memberId"`
	Email       string      `bson:"email"`
	Role        string      `bson:"role"`
	InviterID   string      `bson:"inviterId"`
	State       string      `bson:"state"`
	SecretHash  []byte      `bson:"secretHash"`
	ExpiresAt   time.Time   `bson:"expiresAt"`
	ResendCount int         `bson:"resendCount"`
	Resends     []time.Time `bson:"resends,omitempty"`
	Version     int64       `bson:"version"`
	CreatedAt   time.Time   `bson:"createdAt"`
	UpdatedAt   time.Time   `bson:"updatedAt"`
}

func fromInvitation(i *sdk.Invitation) *invitationDoc {
	return &invitationDoc{
		ID: i.ID, TenantID: i.TenantID, MemberID: i.MemberID, Email: i.Email, Role: i.Role,
		InviterID: i.InviterID, State: string(i.State), SecretHash: i.SecretHash, ExpiresAt: i.ExpiresAt,
		ResendCount: i.ResendCount, Resends: i.Resends, Version: i.Version, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
	}
}

func (d *invitationDoc) invitation() *sdk.Invitation {
	return &sdk.Invitation{
		ID: d.ID, TenantID: d.TenantID, MemberID: d.MemberID, Email: d.Email, Role: d.Role,
		InviterID: d.InviterID, State: sdk.InvitationState(d.State), SecretHash: d.SecretHash, ExpiresAt: d.ExpiresAt,
		ResendCount: d.ResendCount, Resends: d.Resends, Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

// CreateInvitation implements [sdk.InvitationStore]: one insert.
func (s *Store) CreateInvitation(ctx context.Context, inv *sdk.Invitation) error {
	const op = "mongo.CreateInvitation"
	if _, err := s.invitations.InsertOne(ctx, fromInvitation(inv)); err != nil {
		if isDuplicate(err) {
			return sdk.E(op, sdk.CodeAlreadyExists, "", "invitation id exists", nil)
		}
		return translate(ctx, op, err)
	}
	return nil
}

func (s *Store) findInvitation(ctx context.Context, op string, filter bson.D, opts ...options.Lister[options.FindOneOptions]) (*sdk.Invitation, error) {
	var d invitationDoc
	if err := s.invitations.FindOne(ctx, filter, opts...).Decode(&d); err != nil {
		if errors.Is(err, driver.ErrNoDocuments) {
			return nil, notFound(op, "invitation")
		}
		return nil, translate(ctx, op, err)
	}
	return d.invitation(), nil
}

// GetInvitation implements [sdk.InvitationStore]. One command.
func (s *Store) GetInvitation(ctx context.Context, tenantID, id string) (*sdk.Invitation, error) {
	return s.findInvitation(ctx, "mongo.GetInvitation", bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}})
}

// GetInvitationByMember implements [sdk.InvitationStore]: the member's
// invitation with the highest id, on the (tenantId, memberId, _id) index.
// One command.
func (s *Store) GetInvitationByMember(ctx context.Context, tenantID, memberID string) (*sdk.Invitation, error) {
	return s.findInvitation(ctx, "mongo.GetInvitationByMember",
		bson.D{{Key: "tenantId", Value: tenantID}, {Key: "memberId", Value: memberID}},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}))
}

// UpdateInvitation implements [sdk.InvitationStore]: one replace
// conditional on the version, so that of two concurrent accepts one wins.
func (s *Store) UpdateInvitation(ctx context.Context, inv *sdk.Invitation, expectedVersion int64) error {
	const op = "mongo.UpdateInvitation"
	doc := fromInvitation(inv)
	doc.Version = expectedVersion + 1
	res, err := s.invitations.ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: inv.ID}, {Key: "tenantId", Value: inv.TenantID}, {Key: "version", Value: expectedVersion}},
		doc)
	if err != nil {
		return translate(ctx, op, err)
	}
	if res.MatchedCount == 0 {
		err := s.invitations.FindOne(ctx, bson.D{{Key: "_id", Value: inv.ID}, {Key: "tenantId", Value: inv.TenantID}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		switch {
		case errors.Is(err, driver.ErrNoDocuments):
			return notFound(op, "invitation")
		case err != nil:
			return translate(ctx, op, err)
		}
		return stale(op)
	}
	inv.Version = expectedVersion + 1
	return nil
}

// ListInvitations implements [sdk.InvitationStore]: a range query on _id
// on the (tenantId, state, _id) or (tenantId, _id) index, one command per
// page.
func (s *Store) ListInvitations(ctx context.Context, tenantID string, q sdk.InvitationQuery) ([]*sdk.Invitation, error) {
	const op = "mongo.ListInvitations"
	filter := bson.D{{Key: "tenantId", Value: tenantID}}
	if q.State != "" {
		filter = append(filter, bson.E{Key: "state", Value: string(q.State)})
	}
	var exp bson.D
	if !q.ExpiredBefore.IsZero() {
		exp = append(exp, bson.E{Key: "$lte", Value: q.ExpiredBefore})
	}
	if !q.ValidAfter.IsZero() {
		exp = append(exp, bson.E{Key: "$gt", Value: q.ValidAfter})
	}
	if exp != nil {
		filter = append(filter, bson.E{Key: "expiresAt", Value: exp})
	}
	if q.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After}}})
	}
	cur, err := s.invitations.Find(ctx, filter, findOpts(bson.D{{Key: "_id", Value: 1}}, q.Limit))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []invitationDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	out := make([]*sdk.Invitation, len(docs))
	for i := range docs {
		out[i] = docs[i].invitation()
	}
	return out, nil
}
