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

var _ sdk.CredentialStore = (*Store)(nil)

// credentialsDoc is keyed by tenant and member: _id is credentialsID, and
// every read also matches tenantId and memberId, so that no encoding
// ambiguity can hand one tenant's secrets to another.
type credentialsDoc struct {
	ID           string    `bson:"_id"`
	TenantID     string    `bson:"tenantId"`
	MemberID     string    `bson:"memberId"`
	PasswordHash string    `bson:"passwordHash,omitempty"`
	TOTPSecret   string    `bson:"totpSecret,omitempty"`
	TOTPPending  string    `bson:"totpPending,omitempty"`
	TOTPLastStep int64     `bson:"totpLastStep"`
	UpdatedAt    time.Time `bson:"updatedAt"`
}

// credentialsID starts with the tenant id, like every key in the store.
func credentialsID(tenantID, memberID string) string { return tenantID + "/" + memberID }

func credentialsFilter(tenantID, memberID string) bson.D {
	return bson.D{
		{Key: "_id", Value: credentialsID(tenantID, memberID)},
		{Key: "tenantId", Value: tenantID},
		{Key: "memberId", Value: memberID},
	}
}

// GetCredentials implements [sdk.CredentialStore]. One command.
func (s *Store) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	const op = "mongo.GetCredentials"
	var d credentialsDoc
	if err := s.credentials.FindOne(ctx, credentialsFilter(tenantID, memberID)).Decode(&d); err != nil {
		if errors.Is(err, driver.ErrNoDocuments) {
			return nil, notFound(op, "credentials")
		}
		return nil, translate(ctx, op, err)
	}
	return &sdk.Credentials{
		TenantID: d.TenantID, MemberID: d.MemberID, PasswordHash: d.PasswordHash,
		TOTPSecret: d.TOTPSecret, TOTPPending: d.TOTPPending, TOTPLastStep: d.TOTPLastStep, UpdatedAt: d.UpdatedAt,
	}, nil
}

// PutCredentials implements [sdk.CredentialStore]: one replace with
// upsert.
func (s *Store) PutCredentials(ctx context.Context, c *sdk.Credentials) error {
	const op = "mongo.PutCredentials"
	id := credentialsID(c.TenantID, c.MemberID)
	unlock, err := s.lock(ctx, collCredentials, id)
	if err != nil {
		return err
	}
	_, err = s.credentials.ReplaceOne(ctx, credentialsFilter(c.TenantID, c.MemberID), &credentialsDoc{
		ID: id, TenantID: c.TenantID, MemberID: c.MemberID, PasswordHash: c.PasswordHash,
		TOTPSecret: c.TOTPSecret, TOTPPending: c.TOTPPending, TOTPLastStep: c.TOTPLastStep, UpdatedAt: c.UpdatedAt,
	}, options.Replace().SetUpsert(true))
	unlock()
	return translate(ctx, op, err)
}

// AdvanceTOTPStep implements [sdk.CredentialStore]: one conditional update
// whose filter demands a lower stored step, so of two sign-ins with one code
// exactly one advances.
func (s *Store) AdvanceTOTPStep(ctx context.Context, tenantID, memberID string, step int64) (bool, error) {
	const op = "mongo.AdvanceTOTPStep"
	unlock, err := s.lock(ctx, collCredentials, credentialsID(tenantID, memberID))
	if err != nil {
		return false, err
	}
	filter := append(credentialsFilter(tenantID, memberID), bson.E{Key: "totpLastStep", Value: bson.D{{Key: "$lt", Value: step}}})
	res, err := s.credentials.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "totpLastStep", Value: step}}}})
	unlock()
	if err != nil {
		return false, translate(ctx, op, err)
	}
	return res.ModifiedCount == 1, nil
}

// DeleteCredentials implements [sdk.CredentialStore]. One command; deleting
// absent credentials is not an error.
func (s *Store) DeleteCredentials(ctx context.Context, tenantID, memberID string) error {
	unlock, err := s.lock(ctx, collCredentials, credentialsID(tenantID, memberID))
	if err != nil {
		return err
	}
	_, err = s.credentials.DeleteOne(ctx, credentialsFilter(tenantID, memberID))
	unlock()
	return translate(ctx, "mongo.DeleteCredentials", err)
}
