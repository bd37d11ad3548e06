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
//
// The password hash of an existing member lives on its member document
// (memberDoc.PasswordHash), where a member write sets it in the same
// atomic write as the member. PasswordHash here holds only the hash of
// credentials put for a member id that has no member document, and, in
// databases written before the move, the hash migratePasswordHashes moves.
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

// GetCredentials implements [sdk.CredentialStore] in two finds: the
// credentials document (TOTP) and the member document's password hash,
// which wins over a hash on the credentials document. It returns
// CodeNotFound when there is neither a credentials document nor a
// password hash on the member.
func (s *Store) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	const op = "mongo.GetCredentials"
	var d credentialsDoc
	err := s.credentials.FindOne(ctx, credentialsFilter(tenantID, memberID)).Decode(&d)
	hasDoc := err == nil
	if err != nil && !errors.Is(err, driver.ErrNoDocuments) {
		return nil, translate(ctx, op, err)
	}
	var md struct {
		PasswordHash *string   `bson:"passwordHash"`
		UpdatedAt    time.Time `bson:"updatedAt"`
	}
	err = s.members.FindOne(ctx, bson.D{{Key: "_id", Value: memberID}, {Key: "tenantId", Value: tenantID}},
		options.FindOne().SetProjection(bson.D{{Key: "passwordHash", Value: 1}, {Key: "updatedAt", Value: 1}})).Decode(&md)
	if err != nil && !errors.Is(err, driver.ErrNoDocuments) {
		return nil, translate(ctx, op, err)
	}
	if !hasDoc && md.PasswordHash == nil {
		return nil, notFound(op, "credentials")
	}
	c := &sdk.Credentials{
		TenantID: tenantID, MemberID: memberID, PasswordHash: d.PasswordHash,
		TOTPSecret: d.TOTPSecret, TOTPPending: d.TOTPPending, TOTPLastStep: d.TOTPLastStep, UpdatedAt: d.UpdatedAt,
	}
	if md.PasswordHash != nil {
		c.PasswordHash = *md.PasswordHash
		if !hasDoc {
			c.UpdatedAt = md.UpdatedAt
		}
	}
	return c, nil
}

// PutCredentials implements [sdk.CredentialStore]: one update with
// upsert of the credentials document's TOTP fields. The password hash —
// on the member document, or on a credentials document written by an
// older version — is never touched: member writes alone set it.
func (s *Store) PutCredentials(ctx context.Context, c *sdk.Credentials) error {
	const op = "mongo.PutCredentials"
	_, err := s.credentials.UpdateOne(ctx, credentialsFilter(c.TenantID, c.MemberID), bson.D{{Key: "$set", Value: bson.D{
		{Key: "totpSecret", Value: c.TOTPSecret},
		{Key: "totpPending", Value: c.TOTPPending},
		{Key: "totpLastStep", Value: c.TOTPLastStep},
		{Key: "updatedAt", Value: c.UpdatedAt},
	}}}, options.UpdateOne().SetUpsert(true))
	return translate(ctx, op, err)
}

// setPasswordHash applies update to the password hash of the member's
// document and reports whether the member exists.
func (s *Store) setPasswordHash(ctx context.Context, tenantID, memberID string, update bson.D) (bool, error) {
	res, err := s.members.UpdateOne(ctx, bson.D{{Key: "_id", Value: memberID}, {Key: "tenantId", Value: tenantID}}, update)
	if err != nil {
		return false, err
	}
	return res.MatchedCount == 1, nil
}

// AdvanceTOTPStep implements [sdk.CredentialStore]: one conditional update
// whose filter demands a lower stored step, so of two sign-ins with one code
// exactly one advances.
func (s *Store) AdvanceTOTPStep(ctx context.Context, tenantID, memberID string, step int64) (bool, error) {
	const op = "mongo.AdvanceTOTPStep"
	filter := append(credentialsFilter(tenantID, memberID), bson.E{Key: "totpLastStep", Value: bson.D{{Key: "$lt", Value: step}}})
	res, err := s.credentials.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "totpLastStep", Value: step}}}})
	if err != nil {
		return false, translate(ctx, op, err)
	}
	return res.ModifiedCount == 1, nil
}

// DeleteCredentials implements [sdk.CredentialStore] in two commands:
// remove the member document's password hash, then the credentials
// document. Deleting absent credentials is not an error.
func (s *Store) DeleteCredentials(ctx context.Context, tenantID, memberID string) error {
	const op = "mongo.DeleteCredentials"
	if _, err := s.setPasswordHash(ctx, tenantID, memberID, bson.D{{Key: "$unset", Value: bson.D{{Key: "passwordHash", Value: ""}}}}); err != nil {
		return translate(ctx, op, err)
	}
	_, err := s.credentials.DeleteOne(ctx, credentialsFilter(tenantID, memberID))
	return translate(ctx, op, err)
}
