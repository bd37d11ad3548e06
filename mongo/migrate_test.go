package mongo

import (
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

// TestMigrateProfiles opens a database written before members carried the
// whole profile and kept their password hash: Open gives every member its
// userName, userNameKey and work email, moves password hashes onto the
// members (keeping a hash a member already has, and the hash of
// credentials without a member), builds the unique userNameKey index, and
// records the migration. Documents a crash left half-migrated are
// completed, not overwritten.
func TestMigrateProfiles(t *testing.T) {
	ctx := t.Context()
	db := newDBName()
	client, err := driver.Connect(options.Client().ApplyURI(ferretURI))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	raw := client.Database(db)

	// Batches of 10, so that a few members and credentials make two each:
	// at batches of 100 (and 150 members) the migration alone took 80 s
	// on FerretDB under -race.
	defer func(n int) { edgePage = n }(edgePage)
	edgePage = 10
	tn := &sdk.Tenant{ID: "t1", Slug: "acme", Name: "Acme", OwnerID: "m0000", IncludedSeats: 1000, SeatsUsed: 15,
		Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
	tn.Roles, _ = sdk.PresetRoles(sdk.PresetStandard)
	if _, err := raw.Collection(collTenants).InsertOne(ctx, fromTenant(tn)); err != nil {
		t.Fatal(err)
	}
	legacy := func(tenantID, id, email string) bson.D {
		return bson.D{
			{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}, {Key: "email", Value: email},
			{Key: "emailKey", Value: sdk.NormalizeEmail(email)}, {Key: "extKey", Value: extKey("", id)},
			{Key: "givenName", Value: "Old"}, {Key: "givenKey", Value: "old"}, {Key: "role", Value: "standard"},
			{Key: "status", Value: "active"}, {Key: "sessionEpoch", Value: int64(2)}, {Key: "version", Value: int64(3)},
			{Key: "createdAt", Value: epoch}, {Key: "updatedAt", Value: epoch},
		}
	}
	var docs []any
	for i := range 15 { // with the member of t2, two batches
		docs = append(docs, legacy("t1", fmt.Sprintf("m%04d", i), fmt.Sprintf("User%04d@X.test", i)))
	}
	// A member of another tenant with the same address.
	docs = append(docs, legacy("t2", "other", "User0001@X.test"))
	// A member a crashed migration (or a newer process) already wrote.
	done := legacy("t1", "m9999", "done@x.test")
	done = append(done, bson.E{Key: "userName", Value: "Done.UPN"}, bson.E{Key: "userNameKey", Value: "done.upn"},
		bson.E{Key: "emails", Value: bson.A{bson.D{{Key: "value", Value: "done@x.test"}, {Key: "type", Value: "home"}}}},
		bson.E{Key: "emailKeys", Value: bson.A{"done@x.test"}}, bson.E{Key: "passwordHash", Value: "newer"})
	docs = append(docs, done)
	if _, err := raw.Collection(collMembers).InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	creds := []any{
		&credentialsDoc{ID: credentialsID("t1", "m0000"), TenantID: "t1", MemberID: "m0000", PasswordHash: "h0", TOTPSecret: "S0", TOTPLastStep: 9, UpdatedAt: epoch},
		&credentialsDoc{ID: credentialsID("t1", "m0001"), TenantID: "t1", MemberID: "m0001", TOTPSecret: "S1", UpdatedAt: epoch},
		&credentialsDoc{ID: credentialsID("t1", "m9999"), TenantID: "t1", MemberID: "m9999", PasswordHash: "older", UpdatedAt: epoch},
		&credentialsDoc{ID: credentialsID("t1", "ghost"), TenantID: "t1", MemberID: "ghost", PasswordHash: "hg", UpdatedAt: epoch},
	}
	for i := range 11 { // with the four above, two batches
		id := fmt.Sprintf("m%04d", 4+i)
		creds = append(creds, &credentialsDoc{ID: credentialsID("t1", id), TenantID: "t1", MemberID: id, PasswordHash: "h-" + id, UpdatedAt: epoch})
	}
	if _, err := raw.Collection(collCredentials).InsertMany(ctx, creds); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, ferretURI, db)
	if err != nil {
		t.Fatalf("Open of an older database: %v", err)
	}
	defer s.Close(ctx)

	for i := range 15 {
		id := fmt.Sprintf("m%04d", i)
		email := fmt.Sprintf("User%04d@X.test", i)
		m, err := s.GetMemberBy(ctx, "t1", sdk.KeyUserName, sdk.NormalizeEmail(email))
		if err != nil {
			t.Fatalf("GetMemberBy(userName %s): %v", email, err)
		}
		if m.ID != id || m.UserName != email || m.UserNameKey != m.EmailKey || m.Email != email || m.GivenName != "Old" ||
			m.Version != 3 || len(m.Emails) != 1 || m.Emails[0] != (sdk.Email{Value: email, Type: "work", Primary: true}) {
			t.Fatalf("migrated member = %+v", m)
		}
	}
	if m, err := s.GetMemberBy(ctx, "t2", sdk.KeyUserName, "user0001@x.test"); err != nil || m.ID != "other" {
		t.Fatalf("member of the other tenant: %v, %v", m, err)
	}
	if m, _ := s.GetMember(ctx, "t1", "m9999"); m.UserName != "Done.UPN" || len(m.Emails) != 1 || m.Emails[0].Type != "home" {
		t.Fatalf("an already migrated member was overwritten: %+v", m)
	}
	// emails.value is answered from the new emailKeys.
	where := sdk.Compare(sdk.FieldEmailValue, sdk.OpEq, "user0012@x.test")
	if ms, err := s.ListMembers(ctx, "t1", sdk.MemberQuery{Limit: 10, Filter: sdk.MemberFilter{Where: where}}); err != nil || len(ms) != 1 || ms[0].ID != "m0012" {
		t.Fatalf("emails.value eq after the migration = %v, %v", ms, err)
	}

	hashOf := func(id string) string {
		t.Helper()
		_, h, err := s.GetMemberWithPasswordHash(ctx, "t1", id)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if h := hashOf("m0000"); h != "h0" {
		t.Fatalf("moved hash = %q, want h0", h)
	}
	if h := hashOf("m0014"); h != "h-m0014" {
		t.Fatalf("hash of the second batch = %q", h)
	}
	if h := hashOf("m0002"); h != "" {
		t.Fatalf("a member without a password has hash %q", h)
	}
	if h := hashOf("m9999"); h != "newer" {
		t.Fatalf("a member's own hash was replaced by the older copy: %q", h)
	}
	if cr, err := s.GetCredentials(ctx, "t1", "m0000"); err != nil || cr.PasswordHash != "h0" || cr.TOTPSecret != "S0" || cr.TOTPLastStep != 9 {
		t.Fatalf("GetCredentials after the move = %+v, %v", cr, err)
	}
	if cr, err := s.GetCredentials(ctx, "t1", "m0001"); err != nil || cr.PasswordHash != "" || cr.TOTPSecret != "S1" {
		t.Fatalf("GetCredentials of TOTP alone = %+v, %v", cr, err)
	}
	if cr, err := s.GetCredentials(ctx, "t1", "ghost"); err != nil || cr.PasswordHash != "hg" {
		t.Fatalf("GetCredentials without a member = %+v, %v", cr, err)
	}
	// The copies moved are gone from the credentials documents; the one
	// without a member stays.
	n, err := s.credentials.CountDocuments(ctx, bson.D{{Key: "passwordHash", Value: bson.D{{Key: "$exists", Value: true}}}})
	if err != nil || n != 1 {
		t.Fatalf("%d credentials documents keep a hash (%v), want 1", n, err)
	}

	// The unique userNameKey index exists.
	dup := newMember("t1", "new@x.test")
	dup.UserName, dup.UserNameKey = "USER0007@x.test", "user0007@x.test"
	err = s.CreateMember(ctx, sdk.MemberWrite{Member: dup})
	if !errors.Is(err, sdk.ErrAlreadyExists) || sdk.ReasonOf(err) != sdk.ReasonUserNameTaken {
		t.Fatalf("CreateMember with a migrated member's userName = %v", err)
	}

	// The migration is recorded: a later Open does not run it again.
	if err := s.db.Collection(collMigrations).FindOne(ctx, bson.D{{Key: "_id", Value: migProfiles}}).Err(); err != nil {
		t.Fatalf("migration not recorded: %v", err)
	}
	var cc CommandCounter
	s2, err := Open(ctx, ferretURI, db, WithCommandMonitor(cc.Monitor()))
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s2.Close(ctx)
	if by := cc.ByName(); by["update"]+by["insert"]+by["delete"] != 0 {
		t.Fatalf("second Open wrote: %v", cc.ByName())
	}
}
