package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// migProfiles names, in the migrations collection, the migration that
// gave member documents written before members carried the whole profile
// their userName, userNameKey, emails and emailKeys, and moved password
// hashes from credentials documents onto member documents.
const migProfiles = "members.profile.v1"

// migrateProfiles brings the member documents of an older database to the
// current shape, once: Open runs it before it builds the unique
// (tenantId, userNameKey) index, which needs every member to have a
// userNameKey. Its steps are idempotent (each write is conditional on the
// field it sets being absent), so a crash part-way is completed by the
// next Open, by any process; when they are done it records migProfiles,
// so that later Opens cost one find. It assumes that no process running
// an older version writes members meanwhile.
func (s *Store) migrateProfiles(ctx context.Context) error {
	migrations := s.db.Collection(collMigrations)
	err := migrations.FindOne(ctx, bson.D{{Key: "_id", Value: migProfiles}}).Err()
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, driver.ErrNoDocuments):
		return fmt.Errorf("mongo.Open: reading %s: %w", collMigrations, err)
	}
	members, err := s.migrateMemberProfiles(ctx)
	if err != nil {
		return err
	}
	hashes, err := s.migratePasswordHashes(ctx)
	if err != nil {
		return err
	}
	_, err = migrations.InsertOne(ctx, bson.D{{Key: "_id", Value: migProfiles}, {Key: "doneAt", Value: time.Now()}})
	if err != nil && !isDuplicate(err) {
		return fmt.Errorf("mongo.Open: recording migration %s: %w", migProfiles, err)
	}
	if members > 0 || hashes > 0 {
		s.log.Info("roster: migrated member documents to whole profiles", "members", members, "passwordHashes", hashes)
	}
	return nil
}

// maxUpdateStatements bounds the statements of one update command that
// bulkUpdate sends. FerretDB v1 keeps the query of each updateOne
// statement open until the whole command ends, one SQLite connection
// each, and its pool has 100: an update command of about 100 of them waits
// forever for a connection. (An updateMany reads its query to the end,
// which closes it.)
const maxUpdateStatements = 50

// bulkUpdate runs the update models, unordered, in commands of at most
// maxUpdateStatements.
func bulkUpdate(ctx context.Context, coll *driver.Collection, models []driver.WriteModel) error {
	for start := 0; start < len(models); start += maxUpdateStatements {
		end := min(start+maxUpdateStatements, len(models))
		if _, err := coll.BulkWrite(ctx, models[start:end], options.BulkWrite().SetOrdered(false)); err != nil {
			return err
		}
	}
	return nil
}

// migrateMemberProfiles gives every member document without a userNameKey
// the profile an older Roster implied: userName = email, userNameKey =
// emailKey (unique per tenant, as emailKey is), and one primary work
// email. A batch of edgePage members, in id order, is one find and
// unordered bulk writes (see bulkUpdate).
func (s *Store) migrateMemberProfiles(ctx context.Context) (int, error) {
	n := 0
	after := ""
	for {
		filter := bson.D{{Key: "userNameKey", Value: bson.D{{Key: "$exists", Value: false}}}}
		if after != "" {
			filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
		}
		cur, err := s.members.Find(ctx, filter, findOpts(bson.D{{Key: "_id", Value: 1}}, edgePage).
			SetProjection(bson.D{{Key: "email", Value: 1}, {Key: "emailKey", Value: 1}}))
		if err != nil {
			return n, fmt.Errorf("mongo.Open: reading members to migrate: %w", err)
		}
		var docs []struct {
			ID       string `bson:"_id"`
			Email    string `bson:"email"`
			EmailKey string `bson:"emailKey"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			return n, fmt.Errorf("mongo.Open: reading members to migrate: %w", err)
		}
		if len(docs) == 0 {
			return n, nil
		}
		models := make([]driver.WriteModel, len(docs))
		for i, d := range docs {
			models[i] = driver.NewUpdateOneModel().
				SetFilter(bson.D{{Key: "_id", Value: d.ID}, {Key: "userNameKey", Value: bson.D{{Key: "$exists", Value: false}}}}).
				SetUpdate(bson.D{{Key: "$set", Value: bson.D{
					{Key: "userName", Value: d.Email},
					{Key: "userNameKey", Value: d.EmailKey},
					{Key: "emails", Value: []emailDoc{{Value: d.Email, Type: "work", Primary: true}}},
					{Key: "emailKeys", Value: []string{emailValueKey(d.Email)}},
				}}})
		}
		if err := bulkUpdate(ctx, s.members, models); err != nil {
			return n, fmt.Errorf("mongo.Open: migrating member profiles: %w", err)
		}
		n += len(docs)
		if len(docs) < edgePage {
			return n, nil
		}
		after = docs[len(docs)-1].ID
	}
}

// migratePasswordHashes moves the password hashes of credentials
// documents onto their members' documents, where member writes keep them
// (a member that already has one keeps its own), then removes them from
// the credentials documents whose member has one now. Credentials of a
// member id without a member document keep their hash. A batch of
// edgePage credentials is one find, the bulk writes, one find of the
// members and one update.
func (s *Store) migratePasswordHashes(ctx context.Context) (int, error) {
	n := 0
	after := ""
	for {
		filter := bson.D{{Key: "passwordHash", Value: bson.D{{Key: "$exists", Value: true}}}}
		if after != "" {
			filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
		}
		cur, err := s.credentials.Find(ctx, filter, findOpts(bson.D{{Key: "_id", Value: 1}}, edgePage))
		if err != nil {
			return n, fmt.Errorf("mongo.Open: reading credentials to migrate: %w", err)
		}
		var docs []credentialsDoc
		if err := cur.All(ctx, &docs); err != nil {
			return n, fmt.Errorf("mongo.Open: reading credentials to migrate: %w", err)
		}
		if len(docs) == 0 {
			return n, nil
		}
		models := make([]driver.WriteModel, len(docs))
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.MemberID
			models[i] = driver.NewUpdateOneModel().
				SetFilter(bson.D{{Key: "_id", Value: d.MemberID}, {Key: "tenantId", Value: d.TenantID},
					{Key: "passwordHash", Value: bson.D{{Key: "$exists", Value: false}}}}).
				SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: d.PasswordHash}}}})
		}
		if err := bulkUpdate(ctx, s.members, models); err != nil {
			return n, fmt.Errorf("mongo.Open: moving password hashes onto members: %w", err)
		}
		cur, err = s.members.Find(ctx,
			bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "passwordHash", Value: bson.D{{Key: "$exists", Value: true}}}},
			options.Find().SetProjection(bson.D{{Key: "tenantId", Value: 1}}))
		if err != nil {
			return n, fmt.Errorf("mongo.Open: reading migrated members: %w", err)
		}
		var moved []struct {
			ID       string `bson:"_id"`
			TenantID string `bson:"tenantId"`
		}
		if err := cur.All(ctx, &moved); err != nil {
			return n, fmt.Errorf("mongo.Open: reading migrated members: %w", err)
		}
		var done []string
		for _, m := range moved {
			done = append(done, credentialsID(m.TenantID, m.ID))
		}
		if len(done) > 0 {
			_, err = s.credentials.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: done}}}},
				bson.D{{Key: "$unset", Value: bson.D{{Key: "passwordHash", Value: ""}}}})
			if err != nil {
				return n, fmt.Errorf("mongo.Open: removing moved password hashes: %w", err)
			}
		}
		n += len(done)
		if len(docs) < edgePage {
			return n, nil
		}
		after = docs[len(docs)-1].ID
	}
}
