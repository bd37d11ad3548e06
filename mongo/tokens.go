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

// SCIM tokens (sdk.TokenStore).
//
//	tokens  _id = token id; tenantId, name, hash (hex SHA-256 of the
//	        secret; the secret is never stored), hint, createdBy,
//	        createdAt, lastUsedAt.
//	        Indexes: tenantId_hash_unique {tenantId, hash} (unique: the
//	        authentication lookup, and idempotent registration);
//	        tenantId_id (listing).
const (
	collTokens   = "tokens"
	idxTokenHash = "tenantId_hash_unique"
)

func init() {
	schema = append(schema, collSchema{coll: collTokens, indexes: []index{
		{idxTokenHash, bson.D{{Key: "tenantId", Value: 1}, {Key: "hash", Value: 1}}, unique},
		{"tenantId_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "_id", Value: 1}}, plain},
	}})
}

var _ sdk.TokenStore = (*Store)(nil)

type tokenDoc struct {
	ID         string    `bson:"_id"`
	TenantID   string    `bson:"tenantId"`
	Name       string    `bson:"name"`
	Hash       string    `bson:"hash"`
	Hint       string    `bson:"hint"`
	CreatedBy  string    `bson:"createdBy"`
	CreatedAt  time.Time `bson:"createdAt"`
	LastUsedAt time.Time `bson:"lastUsedAt"`
}

func (d *tokenDoc) token() *sdk.Token {
	t := &sdk.Token{ID: d.ID, TenantID: d.TenantID, Name: d.Name, Hash: d.Hash, Hint: d.Hint, CreatedBy: d.CreatedBy,
		CreatedAt: d.CreatedAt.UTC()}
	if !d.LastUsedAt.IsZero() && d.LastUsedAt.After(time.Unix(0, 0)) {
		t.LastUsedAt = d.LastUsedAt.UTC()
	}
	return t
}

func (s *Store) tokens() *driver.Collection { return s.db.Collection(collTokens) }

// CreateToken implements [sdk.TokenStore]: one insert.
func (s *Store) CreateToken(ctx context.Context, t *sdk.Token) error {
	const op = "mongo.CreateToken"
	_, err := s.tokens().InsertOne(ctx, &tokenDoc{ID: t.ID, TenantID: t.TenantID, Name: t.Name, Hash: t.Hash, Hint: t.Hint,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt})
	if err == nil || !isDuplicate(err) {
		return translate(ctx, op, err)
	}
	if _, gerr := s.GetTokenByHash(ctx, t.TenantID, t.Hash); gerr == nil {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonTokenExists, "the tenant already has this token", nil)
	}
	return sdk.E(op, sdk.CodeAlreadyExists, "", "token id exists", err)
}

// GetTokenByHash implements [sdk.TokenStore]: one find on
// tenantId_hash_unique.
func (s *Store) GetTokenByHash(ctx context.Context, tenantID, hash string) (*sdk.Token, error) {
	const op = "mongo.GetTokenByHash"
	var d tokenDoc
	err := s.tokens().FindOne(ctx, bson.D{{Key: "tenantId", Value: tenantID}, {Key: "hash", Value: hash}}).Decode(&d)
	if errors.Is(err, driver.ErrNoDocuments) {
		return nil, notFound(op, "token")
	}
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	return d.token(), nil
}

// ListTokens implements [sdk.TokenStore]: one find.
func (s *Store) ListTokens(ctx context.Context, tenantID string) ([]*sdk.Token, error) {
	const op = "mongo.ListTokens"
	cur, err := s.tokens().Find(ctx, bson.D{{Key: "tenantId", Value: tenantID}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []tokenDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	out := make([]*sdk.Token, len(docs))
	for i := range docs {
		out[i] = docs[i].token()
	}
	return out, nil
}

// DeleteToken implements [sdk.TokenStore]: one delete.
func (s *Store) DeleteToken(ctx context.Context, tenantID, id string) error {
	const op = "mongo.DeleteToken"
	res, err := s.tokens().DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}})
	if err != nil {
		return translate(ctx, op, err)
	}
	if res.DeletedCount == 0 {
		return notFound(op, "token")
	}
	return nil
}

// TouchToken implements [sdk.TokenStore]: one update conditional on
// lastUsedAt being earlier (and a read only when it matched nothing, to
// tell a missing token from a later touch).
func (s *Store) TouchToken(ctx context.Context, tenantID, id string, at time.Time) error {
	const op = "mongo.TouchToken"
	res, err := s.tokens().UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}, {Key: "lastUsedAt", Value: bson.D{{Key: "$lt", Value: at}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lastUsedAt", Value: at}}}})
	if err != nil {
		return translate(ctx, op, err)
	}
	if res.MatchedCount > 0 {
		return nil
	}
	err = s.tokens().FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, driver.ErrNoDocuments) {
		return notFound(op, "token")
	}
	return translate(ctx, op, err)
}
