package mongo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/sdk"
)

// Imports: records copied from another store (internal/migrate's Copy,
// `roster migrate`), written exactly as given — ids, versions, timestamps,
// seat counters and owner — in this store's own document model, so that
// the store then behaves as if they had been written through it. Each
// import is an upsert by _id, so importing the same records again changes
// nothing, and a copy interrupted converges when run again.
//
// A batch of members is one unordered insertMany; the documents whose
// insert met an existing key are then written with replaceOne upserts, in
// update commands of at most maxUpdateStatements.
// So a copy into an empty database costs insertMany, which FerretDB serves
// fast, and only a copy run again pays for updates.
//
// The migrations collection also holds the progress of copies into this
// database (see migrate.Resumer), apart from the names of the finished
// schema migrations:
//
//	_id = "import/" + key     kind "import", sourceId, source, startedAt,
//	                          finishedAt (once finished)
//	_id = "import/" + key + "/" + tenantId
//	                          kind "import.tenant", sourceId, tenantId,
//	                          counts {kind: n}, doneAt
//
// where key is the hex SHA-256 of the source id, cut to 32 digits, so that
// the tenants of one copy are one range of _id whatever the source id.

var (
	_ migrate.Target  = (*Store)(nil)
	_ migrate.Emptier = (*Store)(nil)
	_ migrate.Resumer = (*Store)(nil)
)

// upsertReplace is the option of every single-document import.
var upsertReplace = options.Replace().SetUpsert(true)

// idFilter is the filter of the document with id _id.
func idFilter(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

// ImportTenant implements [migrate.Target]: one replaceOne upsert of the
// tenant as given, seatsFree derived from its seats, without seat intents
// or a pending owner. A slug held by another tenant is CodeAlreadyExists
// with ReasonSlugTaken.
func (s *Store) ImportTenant(ctx context.Context, t *sdk.Tenant) error {
	const op = "mongo.ImportTenant"
	_, err := s.tenants.ReplaceOne(ctx, idFilter(t.ID), fromTenant(t), upsertReplace)
	if err != nil && isDuplicate(err) {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonSlugTaken, "the slug "+t.Slug+" is taken", nil)
	}
	return translate(ctx, op, err)
}

// ImportMembers implements [migrate.Target]: the member documents as
// CreateMember writes them, each replacing the document with its _id
// whole — group memberships and password hash included, which
// ImportEdges and ImportCredentials then write again; Member.Groups is
// ignored. One insertMany per batch (see "Imports" above).
//
// With globalEmail (the members' tenant requires addresses unique across
// tenants) each member also gets the claim of its address that a write
// with [sdk.MemberWrite.GlobalEmail] leaves (see claims.go): a document of
// emailclaims keyed by the address, naming the member and a write id that
// the member document carries as emailClaim, written before the members
// (one insertMany more). An address claimed by another member already
// stays that member's, and the member is imported without a claim, as if
// written without GlobalEmail; the store logs it. A uniqueness rule of the
// tenant (email, userName, external id) refusing a member fails the import
// with that rule's error, naming the member (the first, when several are
// refused); the others are written.
func (s *Store) ImportMembers(ctx context.Context, ms []*sdk.Member, globalEmail bool) error {
	const op = "mongo.ImportMembers"
	if len(ms) == 0 {
		return nil
	}
	var claimed map[int]bool
	if globalEmail {
		var err error
		if claimed, err = s.importClaims(ctx, op, ms); err != nil {
			return err
		}
	}
	docs := make([]any, len(ms))
	for i, m := range ms {
		d := fromMember(m)
		if claimed[i] {
			d.EmailClaim = importWriteID(m)
		}
		docs[i] = d
	}
	failed, err := importDocs(ctx, s.members, docs, func(i int) bson.D { return idFilter(ms[i].ID) })
	if err != nil {
		return translate(ctx, op, err)
	}
	if len(failed) == 0 {
		return nil
	}
	i := slices.Min(slices.Collect(maps.Keys(failed)))
	cause := failed[i]
	if isDuplicate(cause) {
		cause = s.memberDuplicate(ctx, op, ms[i], false, cause)
	} else {
		cause = translate(ctx, op, cause)
	}
	if len(failed) > 1 {
		return fmt.Errorf("member %s: %w (and %d more)", ms[i].ID, cause, len(failed)-1)
	}
	return fmt.Errorf("member %s: %w", ms[i].ID, cause)
}

// importWriteID is the claim write id of an imported member: fixed for a
// version of the member, so that importing it again writes the same
// documents. Write ids of member writes (newWriteID) have no '-'.
func importWriteID(m *sdk.Member) string { return "import-" + strconv.FormatInt(m.Version, 10) }

// importClaims claims the addresses of ms for the imported members and
// reports which members hold their claim: one insertMany, then, for
// addresses claimed already, a replaceOne upsert conditional on the claim
// being the member's own; another member's claim makes it fail on _id.
// A claim is dated by its member's last write: were the member import to
// fail, the claim, whose member does not hold the address, would then be
// taken over by the next claimant without waiting for a write in flight.
func (s *Store) importClaims(ctx context.Context, op string, ms []*sdk.Member) (map[int]bool, error) {
	docs := make([]any, len(ms))
	for i, m := range ms {
		docs[i] = claimDoc{Key: m.EmailKey, TenantID: m.TenantID, MemberID: m.ID, WriteID: importWriteID(m), At: m.UpdatedAt}
	}
	failed, err := importDocs(ctx, s.claims, docs, func(i int) bson.D {
		return bson.D{{Key: "_id", Value: ms[i].EmailKey}, {Key: "memberId", Value: ms[i].ID}}
	})
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	held := make(map[int]bool, len(ms))
	for i, m := range ms {
		switch err := failed[i]; {
		case err == nil:
			held[i] = true
		case isDuplicate(err):
			s.log.Warn("roster: import: the address is claimed by another member; the member is imported without a claim",
				"tenant", m.TenantID, "member", m.ID)
		default:
			return nil, fmt.Errorf("member %s: claiming its address: %w", m.ID, translate(ctx, op, err))
		}
	}
	return held, nil
}

// ImportCredentials implements [migrate.Target] where this store keeps
// credentials: the password hash on the member document (set even when
// "", so that GetCredentials finds the credentials as the source did) and
// the TOTP state on a credentials document, which is removed when there
// is none. Two commands. The credentials of a member id without a member
// document keep their hash on the credentials document, where
// GetCredentials finds it for such an id. Import the member first:
// ImportMembers replaces the member document, hash included.
func (s *Store) ImportCredentials(ctx context.Context, c *sdk.Credentials) error {
	const op = "mongo.ImportCredentials"
	onMember, err := s.setPasswordHash(ctx, c.TenantID, c.MemberID,
		bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: c.PasswordHash}}}})
	if err != nil {
		return translate(ctx, op, err)
	}
	if onMember && c.TOTPSecret == "" && c.TOTPPending == "" && c.TOTPLastStep == 0 {
		_, err = s.credentials.DeleteOne(ctx, credentialsFilter(c.TenantID, c.MemberID))
		return translate(ctx, op, err)
	}
	d := credentialsDoc{
		ID: credentialsID(c.TenantID, c.MemberID), TenantID: c.TenantID, MemberID: c.MemberID,
		TOTPSecret: c.TOTPSecret, TOTPPending: c.TOTPPending, TOTPLastStep: c.TOTPLastStep, UpdatedAt: c.UpdatedAt,
	}
	if !onMember {
		d.PasswordHash = c.PasswordHash
	}
	_, err = s.credentials.ReplaceOne(ctx, idFilter(d.ID), d, upsertReplace)
	return translate(ctx, op, err)
}

// ImportGroup implements [migrate.Target]: one replaceOne upsert. A
// display name or external id held by another group of the tenant is
// CodeAlreadyExists with ReasonGroupNameTaken or ReasonExternalIDTaken.
func (s *Store) ImportGroup(ctx context.Context, g *sdk.Group) error {
	const op = "mongo.ImportGroup"
	_, err := s.groups().ReplaceOne(ctx, idFilter(g.ID), fromGroup(g), upsertReplace)
	if err != nil && isDuplicate(err) {
		return s.groupDuplicate(ctx, op, g, false, err)
	}
	return translate(ctx, op, err)
}

// ImportEdges implements [migrate.Target]: the edges are added to the
// members' documents with $addToSet, as AddGroupMembers adds them, in one
// bulk write of an updateMany per group, after one find that the groups
// exist. A group that does not exist is CodeNotFound and writes nothing; a
// member that does not is ReasonUnknownMember (the edges of the others
// are written).
func (s *Store) ImportEdges(ctx context.Context, tenantID string, es []sdk.GroupEdge) error {
	const op = "mongo.ImportEdges"
	if len(es) == 0 {
		return nil
	}
	var groups []string
	byGroup := map[string][]string{}
	for _, e := range es {
		if _, ok := byGroup[e.GroupID]; !ok {
			groups = append(groups, e.GroupID)
		}
		if !slices.Contains(byGroup[e.GroupID], e.MemberID) {
			byGroup[e.GroupID] = append(byGroup[e.GroupID], e.MemberID)
		}
	}
	found, err := s.GetGroups(ctx, tenantID, groups)
	if err != nil {
		return err
	}
	if len(found) < len(groups) {
		for _, g := range groups {
			if !slices.ContainsFunc(found, func(f *sdk.Group) bool { return f.ID == g }) {
				return sdk.E(op, sdk.CodeNotFound, "", "group "+g+" not found", nil)
			}
		}
	}
	models := make([]driver.WriteModel, len(groups))
	want := 0
	for i, g := range groups {
		want += len(byGroup[g])
		models[i] = driver.NewUpdateManyModel().
			SetFilter(bson.D{{Key: "tenantId", Value: tenantID}, {Key: "_id", Value: bson.D{{Key: "$in", Value: byGroup[g]}}}}).
			SetUpdate(bson.D{{Key: "$addToSet", Value: bson.D{{Key: "groups", Value: g}}}})
	}
	res, err := s.members.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if err != nil {
		return translate(ctx, op, err)
	}
	if int(res.MatchedCount) < want {
		var ids []string
		for _, g := range groups {
			ids = append(ids, byGroup[g]...)
		}
		missing, err := s.MissingMembers(ctx, tenantID, ids)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return sdk.UnknownMembersError(op, missing)
		}
	}
	return nil
}

// ImportInvitation implements [migrate.Target]: one replaceOne upsert.
func (s *Store) ImportInvitation(ctx context.Context, inv *sdk.Invitation) error {
	_, err := s.invitations.ReplaceOne(ctx, idFilter(inv.ID), fromInvitation(inv), upsertReplace)
	return translate(ctx, "mongo.ImportInvitation", err)
}

// ImportToken implements [migrate.Target]: one replaceOne upsert. A hash
// another token of the tenant has is CodeAlreadyExists with
// ReasonTokenExists.
func (s *Store) ImportToken(ctx context.Context, t *sdk.Token) error {
	const op = "mongo.ImportToken"
	_, err := s.tokens().ReplaceOne(ctx, idFilter(t.ID), &tokenDoc{ID: t.ID, TenantID: t.TenantID, Name: t.Name, Hash: t.Hash,
		Hint: t.Hint, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}, upsertReplace)
	if err != nil && isDuplicate(err) {
		return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonTokenExists, "the tenant already has this token", nil)
	}
	return translate(ctx, op, err)
}

// ImportAudits implements [migrate.Target] with AppendAudits: one
// insertMany. An audit event never changes, so an event whose id is
// stored already is that event, and stays.
func (s *Store) ImportAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	return s.AppendAudits(ctx, es)
}

// importDocs writes each of docs as the whole document that filter(i)
// selects, inserting it when there is none: one unordered insertMany, then
// unordered replaceOne upserts of the documents whose insert met an
// existing key, in commands of at most maxUpdateStatements. It returns
// the write error of each document that could not be written, by index,
// or the error that stopped it.
func importDocs(ctx context.Context, coll *driver.Collection, docs []any, filter func(i int) bson.D) (map[int]error, error) {
	failed := map[int]error{}
	var again []int
	if _, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		wes, err := writeErrors(err, len(docs))
		if err != nil {
			return nil, err
		}
		for _, we := range wes {
			if isDuplicate(we) {
				again = append(again, we.Index)
			} else {
				failed[we.Index] = we
			}
		}
	}
	for start := 0; start < len(again); start += maxUpdateStatements {
		chunk := again[start:min(start+maxUpdateStatements, len(again))]
		models := make([]driver.WriteModel, len(chunk))
		for j, i := range chunk {
			models[j] = driver.NewReplaceOneModel().SetFilter(filter(i)).SetReplacement(docs[i]).SetUpsert(true)
		}
		_, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
		if err == nil {
			continue
		}
		if _, werr := writeErrors(err, len(chunk)); werr != nil && !isDuplicate(err) {
			return nil, err
		}
		// FerretDB v1 ends an update command at its first failing
		// statement, ordered or not, and reports another index, or, for a
		// unique index an update (not an insert) violates, fails the
		// whole command: replay the chunk one statement at a time (each is
		// idempotent) for the answer of each.
		for _, i := range chunk {
			_, err := coll.ReplaceOne(ctx, filter(i), docs[i], upsertReplace)
			var we driver.WriteException
			switch {
			case err == nil:
			case errors.As(err, &we) && we.WriteConcernError == nil && len(we.WriteErrors) > 0:
				failed[i] = we.WriteErrors[0]
			case isDuplicate(err):
				failed[i] = err
			default:
				return nil, err
			}
		}
	}
	return failed, nil
}

// writeErrors returns the write errors of err, a bulk write of n
// documents that failed only for some of them, or err itself when it is
// anything else (the command failed, or a write concern).
func writeErrors(err error, n int) ([]driver.WriteError, error) {
	var bwe driver.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, err
	}
	out := make([]driver.WriteError, len(bwe.WriteErrors))
	for i, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= n {
			return nil, err
		}
		out[i] = we.WriteError
	}
	return out, nil
}

// Counts implements [migrate.Target]: the records of each kind among the
// tenants, tenantIDs 500 at a time. Tenants, invitations, tokens and
// audit events cost a count each; groups, members, edges and credentials
// one pass each over the tenants' groups, credentials documents and
// members, projected to what they need. Edges are counted as
// ListGroupMembers lists them: each member's distinct groups that exist.
// Credentials are the members GetCredentials finds credentials of: with
// a password hash (even "") or a credentials document.
func (s *Store) Counts(ctx context.Context, tenantIDs []string) (map[string]int64, error) {
	n := make(map[string]int64, len(migrate.Collections))
	for _, c := range migrate.Collections {
		n[c] = 0
	}
	for chunk := range slices.Chunk(tenantIDs, 500) {
		if err := s.countChunk(ctx, chunk, n); err != nil {
			return nil, translate(ctx, "mongo.Counts", err)
		}
	}
	return n, nil
}

// countChunk adds the counts of the tenants ids to n.
func (s *Store) countChunk(ctx context.Context, ids []string, n map[string]int64) error {
	in := bson.D{{Key: "$in", Value: ids}}
	ofTenants := bson.D{{Key: "tenantId", Value: in}}
	for _, c := range []struct {
		kind   string
		coll   *driver.Collection
		filter bson.D
	}{
		{migrate.Tenants, s.tenants, bson.D{{Key: "_id", Value: in}}},
		{migrate.Invitations, s.invitations, ofTenants},
		{migrate.Tokens, s.tokens(), ofTenants},
		{migrate.Audit, s.audit, ofTenants},
	} {
		k, err := c.coll.CountDocuments(ctx, c.filter)
		if err != nil {
			return err
		}
		n[c.kind] += k
	}
	type ref struct{ tenant, id string }
	groups := map[ref]bool{}
	err := eachDoc(ctx, s.groups(), ofTenants, bson.D{{Key: "tenantId", Value: 1}}, func(d *groupDoc) {
		groups[ref{d.TenantID, d.ID}] = true
	})
	if err != nil {
		return err
	}
	n[migrate.Groups] += int64(len(groups))
	creds := map[ref]bool{}
	err = eachDoc(ctx, s.credentials, ofTenants, bson.D{{Key: "tenantId", Value: 1}, {Key: "memberId", Value: 1}}, func(d *credentialsDoc) {
		creds[ref{d.TenantID, d.MemberID}] = true
	})
	if err != nil {
		return err
	}
	return eachDoc(ctx, s.members, ofTenants, bson.D{{Key: "tenantId", Value: 1}, {Key: "groups", Value: 1}, {Key: "passwordHash", Value: 1}},
		func(d *memberDoc) {
			n[migrate.Members]++
			for _, g := range memberGroups(d.Groups) {
				if groups[ref{d.TenantID, g}] {
					n[migrate.Edges]++
				}
			}
			if d.PasswordHash != nil || creds[ref{d.TenantID, d.ID}] {
				n[migrate.Credentials]++
			}
		})
}

// eachDoc calls fn with every document of coll that filter selects, decoded
// from the fields of projection (and _id; all fields when nil), streamed
// in batches of scanBatch.
func eachDoc[T any](ctx context.Context, coll *driver.Collection, filter, projection bson.D, fn func(*T)) error {
	o := options.Find().SetBatchSize(scanBatch)
	if projection != nil {
		o.SetProjection(projection)
	}
	cur, err := coll.Find(ctx, filter, o)
	if err != nil {
		return err
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var d T
		if err := cur.Decode(&d); err != nil {
			return err
		}
		fn(&d)
	}
	return cur.Err()
}

// Empty implements [migrate.Emptier]: one find of at most one document in
// each collection of Roster data (tenants, members, groups, invitations,
// credentials, tokens, audit, emailclaims); the migrations collection,
// bookkeeping that every Open writes, does not count.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	for _, c := range []*driver.Collection{s.tenants, s.members, s.groups(), s.invitations, s.credentials, s.tokens(), s.audit, s.claims} {
		err := c.FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		switch {
		case err == nil:
			return false, nil
		case !errors.Is(err, driver.ErrNoDocuments):
			return false, translate(ctx, "mongo.Empty", err)
		}
	}
	return true, nil
}

// importRecord is the record of a copy into this database from one source.
type importRecord struct {
	ID         string    `bson:"_id"` // importKey(SourceID)
	Kind       string    `bson:"kind"`
	SourceID   string    `bson:"sourceId"`
	Source     string    `bson:"source"`
	StartedAt  time.Time `bson:"startedAt"`
	FinishedAt time.Time `bson:"finishedAt,omitempty"`
}

// importTenantRecord records a tenant a copy completed.
type importTenantRecord struct {
	ID       string           `bson:"_id"` // importKey(SourceID) + "/" + TenantID
	Kind     string           `bson:"kind"`
	SourceID string           `bson:"sourceId"`
	TenantID string           `bson:"tenantId"`
	Counts   map[string]int64 `bson:"counts"`
	DoneAt   time.Time        `bson:"doneAt"`
}

// importKey is the _id of the record of the copy from sourceID, and the
// prefix, followed by "/", of its tenants' records.
func importKey(sourceID string) string {
	h := sha256.Sum256([]byte(sourceID))
	return "import/" + hex.EncodeToString(h[:16])
}

// importTenants selects the tenant records of the copy whose key is key:
// every _id that starts with key + "/" ('0' follows '/').
func importTenants(key string) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: key + "/"}, {Key: "$lt", Value: key + "0"}}}}
}

// MigrationState implements [migrate.Resumer]: two finds in the
// migrations collection, the copy's record and the range of its tenants'.
func (s *Store) MigrationState(ctx context.Context, sourceID string) (*migrate.State, error) {
	const op = "mongo.MigrationState"
	key := importKey(sourceID)
	migrations := s.db.Collection(collMigrations)
	var r importRecord
	err := migrations.FindOne(ctx, idFilter(key)).Decode(&r)
	switch {
	case errors.Is(err, driver.ErrNoDocuments):
		return nil, nil
	case err != nil:
		return nil, translate(ctx, op, err)
	case r.SourceID != sourceID: // another source with the same key
		return nil, nil
	}
	st := &migrate.State{SourceID: sourceID, Source: r.Source, Started: r.StartedAt, Finished: r.FinishedAt,
		Done: map[string]map[string]int64{}}
	err = eachDoc(ctx, migrations, importTenants(key), nil, func(d *importTenantRecord) {
		st.Done[d.TenantID] = d.Counts
	})
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	return st, nil
}

// StartMigration implements [migrate.Resumer]: it deletes the records of
// the tenants an earlier copy from sourceID completed, then replaces the
// copy's record; a crash in between leaves the earlier record without its
// tenants, which the next start replaces.
func (s *Store) StartMigration(ctx context.Context, sourceID, source string, at time.Time) error {
	const op = "mongo.StartMigration"
	key := importKey(sourceID)
	migrations := s.db.Collection(collMigrations)
	if _, err := migrations.DeleteMany(ctx, importTenants(key)); err != nil {
		return translate(ctx, op, err)
	}
	_, err := migrations.ReplaceOne(ctx, idFilter(key),
		importRecord{ID: key, Kind: "import", SourceID: sourceID, Source: source, StartedAt: at}, upsertReplace)
	return translate(ctx, op, err)
}

// MarkTenantDone implements [migrate.Resumer]: one replaceOne upsert of
// the tenant's record.
func (s *Store) MarkTenantDone(ctx context.Context, sourceID, tenantID string, counts map[string]int64, at time.Time) error {
	id := importKey(sourceID) + "/" + tenantID
	_, err := s.db.Collection(collMigrations).ReplaceOne(ctx, idFilter(id),
		importTenantRecord{ID: id, Kind: "import.tenant", SourceID: sourceID, TenantID: tenantID, Counts: counts, DoneAt: at}, upsertReplace)
	return translate(ctx, "mongo.MarkTenantDone", err)
}

// MarkFinished implements [migrate.Resumer]: one update of the copy's
// record, which must exist (CodeNotFound otherwise).
func (s *Store) MarkFinished(ctx context.Context, sourceID string, at time.Time) error {
	const op = "mongo.MarkFinished"
	res, err := s.db.Collection(collMigrations).UpdateOne(ctx, idFilter(importKey(sourceID)),
		bson.D{{Key: "$set", Value: bson.D{{Key: "finishedAt", Value: at}}}})
	switch {
	case err != nil:
		return translate(ctx, op, err)
	case res.MatchedCount == 0:
		return notFound(op, "migration")
	}
	return nil
}
