package mongo

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/internal/migrate/migratetest"
	"github.com/rosterhq/roster/sdk"
)

// TestImport copies a source built through the SDK into the store and
// checks that the store holds the same records and behaves as the source
// through the SDK (behind embedded.Serialize, as the embedded server runs
// it; the imports themselves run on the store, one at a time).
func TestImport(t *testing.T) {
	migratetest.Run(t, func(t *testing.T) (migrate.Target, sdk.Store) {
		s := openStore(t)
		return s.raw(), s
	})
}

// docs returns every document of a collection, by _id, embedded
// documents decoded as maps: the order of their fields is not compared
// (an audit event's before and after are Go maps, written in no
// particular order).
func docs(t *testing.T, c *driver.Collection) map[string]bson.M {
	t.Helper()
	cur, err := c.Find(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bson.M{}
	for cur.Next(t.Context()) {
		dec := bson.NewDecoder(bson.NewDocumentReader(bytes.NewReader(cur.Current)))
		dec.DefaultDocumentM()
		var d bson.M
		if err := dec.Decode(&d); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(d["_id"])] = d
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportDocuments checks the documents an import writes: claims
// settled as a write with GlobalEmail leaves them, and nothing changed by
// importing the same records again.
func TestImportDocuments(t *testing.T) {
	src := migratetest.NewSource(t, 0)
	s := openStore(t)
	if _, err := migrate.Copy(t.Context(), src.Store, s.raw(), migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	colls := []*driver.Collection{s.tenants, s.members, s.groups(), s.invitations, s.credentials, s.tokens(), s.audit, s.claims}
	before := make([]map[string]bson.M, len(colls))
	for i, c := range colls {
		before[i] = docs(t, c)
	}
	// Claims: one per member of the two tenants requiring unique
	// addresses, as their member documents name them.
	claims := before[len(colls)-1]
	if len(claims) != 5 {
		t.Errorf("%d claims, want 5 (globex's 3 members, initech's 2)", len(claims))
	}
	for _, tn := range []*migratetest.Tenant{src.Globex, src.Initech} {
		for _, m := range tn.Members {
			c, d := claims[m.EmailKey], before[1][m.ID]
			if c == nil || c["memberId"] != m.ID || c["tenantId"] != tn.ID || c["writeId"] != d["emailClaim"] || d["emailClaim"] == "" {
				t.Errorf("claim of %s: %v; member document's emailClaim %v", m.Email, c, d["emailClaim"])
			}
		}
	}
	for _, m := range src.Acme.Members {
		if d := before[1][m.ID]; d["emailClaim"] != nil {
			t.Errorf("member %s of a tenant without unique addresses has a claim: %v", m.Email, d["emailClaim"])
		}
	}
	// Tenants hold no seat intents; seatsFree follows the seats.
	for _, d := range before[0] {
		if d["seatsFree"] != d["includedSeats"].(int32)+d["extraSeats"].(int32)-d["seatsUsed"].(int32) || d["seatTakes"] != nil || d["pendingOwner"] != nil {
			t.Errorf("tenant document %v", d)
		}
	}
	// Password hashes on members; credentials documents only for TOTP.
	if len(before[4]) != 2 {
		t.Errorf("credentials documents: %v, want bob's and dan's", before[4])
	}

	if _, err := migrate.Copy(t.Context(), src.Store, s.raw(), migrate.Options{AllowNonEmpty: true}); err != nil {
		t.Fatal(err)
	}
	for i, c := range colls {
		if after := docs(t, c); !reflect.DeepEqual(after, before[i]) {
			t.Errorf("collection %s changed when the same records were imported again", c.Name())
		}
	}
}

// TestImportClaimTaken imports a member of a tenant requiring unique
// addresses whose address another member's claim holds: the member is
// imported, without a claim, and the claim stays the other's.
func TestImportClaimTaken(t *testing.T) {
	var log bytes.Buffer
	s := openStore(t, WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	ctx := t.Context()
	tn, _ := newTenant(t, s, "one", 5)
	other, _ := newTenant(t, s, "two", 5)
	holder := newMember(tn.ID, "x@shared.test")
	if err := s.raw().ImportMembers(ctx, []*sdk.Member{holder}, true); err != nil {
		t.Fatal(err)
	}
	m := newMember(other.ID, "x@shared.test")
	if err := s.raw().ImportMembers(ctx, []*sdk.Member{m}, true); err != nil {
		t.Fatalf("ImportMembers: %v", err)
	}
	got, err := s.GetMember(ctx, other.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != m.Email {
		t.Errorf("member imported as %v", got)
	}
	c := docs(t, s.claims)["x@shared.test"]
	if c["memberId"] != holder.ID {
		t.Errorf("claim %v, want %s's", c, holder.ID)
	}
	if d := docs(t, s.members)[m.ID]; d["emailClaim"] != nil {
		t.Errorf("member without its claim carries emailClaim %v", d["emailClaim"])
	}
	if !strings.Contains(log.String(), "claimed by another member") || !strings.Contains(log.String(), m.ID) {
		t.Errorf("nothing logged about the claim taken: %q", log.String())
	}
	// The holder keeps the address for the SDK.
	c2 := sdk.New(s)
	if _, err := c2.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: other.ID, Email: "X@shared.test"}); err == nil {
		t.Error("the address was given to a second member of the tenant")
	}
}

// TestImportReplay re-imports more members than one update command takes,
// one of which breaks a uniqueness rule: the error names it, and every
// other member is written (FerretDB stops an update command at its first
// failure; the import replays it statement by statement).
func TestImportReplay(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "many", 100)
	ms := make([]*sdk.Member, maxUpdateStatements+10)
	for i := range ms {
		ms[i] = newMember(tn.ID, fmt.Sprintf("m%02d@many.test", i))
	}
	if err := s.raw().ImportMembers(ctx, ms, false); err != nil {
		t.Fatal(err)
	}
	bad := 7
	for i, m := range ms {
		m.DisplayName, m.Version = "again", 2
		if i == bad {
			m.Email, m.EmailKey = ms[0].Email, ms[0].EmailKey
		}
	}
	err := s.raw().ImportMembers(ctx, ms, false)
	if sdk.ReasonOf(err) != sdk.ReasonEmailTaken || !errors.Is(err, sdk.ErrAlreadyExists) {
		t.Fatalf("ImportMembers: %v, want %s", err, sdk.ReasonEmailTaken)
	}
	if want := "member " + ms[bad].ID; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
	for i, m := range ms {
		got, err := s.GetMember(ctx, tn.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if (got.DisplayName == "again") != (i != bad) {
			t.Errorf("member %d: displayName %q", i, got.DisplayName)
		}
	}
}

// TestImportCredentials checks where credentials go: the hash on the
// member, TOTP state on a credentials document that an import without
// one removes, and everything on the credentials document of a member id
// without a member.
func TestImportCredentials(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, owner := newTenant(t, s, "creds", 5)
	at := epoch.Add(time.Hour)
	for _, c := range []struct {
		name   string
		cr     sdk.Credentials
		hash   any // on the member document; nil: absent
		credOK bool
	}{
		{"totp", sdk.Credentials{PasswordHash: "h1", TOTPSecret: "S", TOTPLastStep: 9}, "h1", true},
		{"password", sdk.Credentials{PasswordHash: "h2"}, "h2", false},
		{"none", sdk.Credentials{}, "", false},
	} {
		cr := c.cr
		cr.TenantID, cr.MemberID, cr.UpdatedAt = tn.ID, owner.ID, at
		if err := s.raw().ImportCredentials(ctx, &cr); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if h := docs(t, s.members)[owner.ID]["passwordHash"]; h != c.hash {
			t.Errorf("%s: member passwordHash %v, want %v", c.name, h, c.hash)
		}
		if _, ok := docs(t, s.credentials)[credentialsID(tn.ID, owner.ID)]; ok != c.credOK {
			t.Errorf("%s: credentials document present %v", c.name, ok)
		}
		got, err := s.GetCredentials(ctx, tn.ID, owner.ID)
		if err != nil {
			t.Fatalf("%s: GetCredentials: %v", c.name, err)
		}
		if got.PasswordHash != cr.PasswordHash || got.TOTPSecret != cr.TOTPSecret || got.TOTPLastStep != cr.TOTPLastStep {
			t.Errorf("%s: GetCredentials = %+v, want %+v", c.name, got, cr)
		}
	}
	orphan := &sdk.Credentials{TenantID: tn.ID, MemberID: "gone", PasswordHash: "h3", UpdatedAt: at}
	if err := s.raw().ImportCredentials(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetCredentials(ctx, tn.ID, "gone"); err != nil || got.PasswordHash != "h3" {
		t.Errorf("credentials of a member id without a member: %+v, %v", got, err)
	}
}

// TestEmpty: a database is empty until it holds any Roster record, the
// migrations Open records aside.
func TestEmpty(t *testing.T) {
	ctx := t.Context()
	s := openStore(t)
	for _, coll := range []string{collTenants, collMembers, collGroups, collInvitations, collCredentials, collTokens, collAudit, collEmailClaims} {
		if empty, err := s.raw().Empty(ctx); err != nil || !empty {
			t.Fatalf("before a document in %s: Empty = %v, %v", coll, empty, err)
		}
		c := s.db.Collection(coll)
		if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}, {Key: "tenantId", Value: "t"}}); err != nil {
			t.Fatal(err)
		}
		if empty, err := s.raw().Empty(ctx); err != nil || empty {
			t.Errorf("a document in %s: Empty = %v, %v", coll, empty, err)
		}
		if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: "x"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrationState records a copy's progress and reads it back.
func TestMigrationState(t *testing.T) {
	s := openStore(t).raw()
	ctx := t.Context()
	const src = "/var/lib/roster"
	if st, err := s.MigrationState(ctx, src); st != nil || err != nil {
		t.Fatalf("no copy yet: %+v, %v", st, err)
	}
	if err := s.MarkFinished(ctx, src, epoch); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("MarkFinished of no copy: %v", err)
	}
	start := func() {
		if err := s.StartMigration(ctx, src, "data directory "+src, epoch); err != nil {
			t.Fatal(err)
		}
	}
	start()
	counts := map[string]int64{migrate.Tenants: 1, migrate.Members: 3}
	for _, id := range []string{"t1", "t2", "t1"} {
		if err := s.MarkTenantDone(ctx, src, id, counts, epoch.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// A source whose id extends this one's is another copy.
	if err := s.StartMigration(ctx, src+"/t3", "other", epoch); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkTenantDone(ctx, src+"/t3", "t3", counts, epoch); err != nil {
		t.Fatal(err)
	}
	want := &migrate.State{SourceID: src, Source: "data directory " + src, Started: epoch,
		Done: map[string]map[string]int64{"t1": counts, "t2": counts}}
	check := func(what string) {
		t.Helper()
		st, err := s.MigrationState(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		if st != nil {
			st.Started, st.Finished = st.Started.UTC(), st.Finished.UTC()
		}
		if !reflect.DeepEqual(st, want) {
			t.Errorf("%s: state %+v, want %+v", what, st, want)
		}
	}
	check("started")
	if err := s.MarkFinished(ctx, src, epoch.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	want.Finished = epoch.Add(time.Hour)
	check("finished")
	start()
	want.Finished, want.Done = time.Time{}, map[string]map[string]int64{}
	check("started again")
	if st, err := s.MigrationState(ctx, src+"/t3"); err != nil || len(st.Done) != 1 {
		t.Errorf("the other copy: %+v, %v", st, err)
	}
}

// TestCounts counts the records of two tenants and of one.
func TestCounts(t *testing.T) {
	src := migratetest.NewSource(t, 1)
	s := openStore(t)
	if _, err := migrate.Copy(t.Context(), src.Store, s.raw(), migrate.Options{}); err != nil {
		t.Fatal(err)
	}
	small := src.Extra[0].ID
	n, err := s.raw().Counts(t.Context(), []string{small})
	if err != nil {
		t.Fatal(err)
	}
	audit := n[migrate.Audit]
	want := map[string]int64{migrate.Tenants: 1, migrate.Members: 2, migrate.Audit: audit,
		migrate.Groups: 0, migrate.Edges: 0, migrate.Credentials: 0, migrate.Invitations: 0, migrate.Tokens: 0}
	if audit == 0 || !reflect.DeepEqual(n, want) {
		t.Errorf("counts of a small tenant: %v", n)
	}
	// An edge to a group that no longer exists is not counted.
	acme := src.Acme
	if _, err := s.members.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: acme.Members["ann"].ID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "groups", Value: "g-deleted"}}}}, options.UpdateOne()); err != nil {
		t.Fatal(err)
	}
	n, err = s.raw().Counts(t.Context(), []string{acme.ID, small})
	if err != nil {
		t.Fatal(err)
	}
	if n[migrate.Tenants] != 2 || n[migrate.Edges] != src.Want[migrate.Edges] || n[migrate.Credentials] != 3 || n[migrate.Members] != 5+2 {
		t.Errorf("counts of acme and a small tenant: %v", n)
	}
}
