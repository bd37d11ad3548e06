package mongo

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

// Groups and their membership (sdk.GroupStore).
//
//	groups         _id = group id; tenantId, displayName, nameKey (lower
//	               case, unique per tenant), externalId, extKey (see
//	               extKey), role, version, createdAt, updatedAt.
//	               Indexes: tenantId_nameKey_unique, tenantId_extKey_unique
//	               (unique), tenantId_id (paging).
//	group_members  one document per edge: _id = tenantId|groupId|memberId
//	               (so that adding an edge twice is a duplicate _id, which an
//	               unordered insert skips), tenantId, groupId, memberId.
//	               Indexes: tenantId_groupId_memberId (a group's members in
//	               order, by range), tenantId_memberId_groupId (a member's
//	               groups). Every document of one tenant lands on one shard
//	               under a {tenantId: 1} shard key, where _id is unique.
//
// Adding members to a group is two commands whatever the size of the group
// (a findAndModify that bumps the group's version and returns it, then one
// unordered insertMany of the edges); no command reads or writes a whole
// membership.
const (
	collGroups       = "groups"
	collGroupMembers = "group_members"

	idxGroupName = "tenantId_nameKey_unique"
	idxGroupExt  = "tenantId_extKey_unique"
)

func init() {
	schema = append(schema,
		struct {
			coll    string
			indexes []index
		}{collGroups, []index{
			{idxGroupName, bson.D{{Key: "tenantId", Value: 1}, {Key: "nameKey", Value: 1}}, true},
			{idxGroupExt, bson.D{{Key: "tenantId", Value: 1}, {Key: "extKey", Value: 1}}, true},
			{"tenantId_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "_id", Value: 1}}, false},
		}},
		struct {
			coll    string
			indexes []index
		}{collGroupMembers, []index{
			{"tenantId_groupId_memberId", bson.D{{Key: "tenantId", Value: 1}, {Key: "groupId", Value: 1}, {Key: "memberId", Value: 1}}, false},
			{"tenantId_memberId_groupId", bson.D{{Key: "tenantId", Value: 1}, {Key: "memberId", Value: 1}, {Key: "groupId", Value: 1}}, false},
		}},
	)
}

var _ sdk.GroupStore = (*Store)(nil)

type groupDoc struct {
	ID          string    `bson:"_id"`
	TenantID    string    `bson:"tenantId"`
	DisplayName string    `bson:"displayName"`
	NameKey     string    `bson:"nameKey"`
	ExternalID  string    `bson:"externalId,omitempty"`
	ExtKey      string    `bson:"extKey"`
	Role        string    `bson:"role,omitempty"`
	Version     int64     `bson:"version"`
	CreatedAt   time.Time `bson:"createdAt"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

func fromGroup(g *sdk.Group) *groupDoc {
	return &groupDoc{
		ID: g.ID, TenantID: g.TenantID, DisplayName: g.DisplayName, NameKey: g.NameKey, ExternalID: g.ExternalID,
		ExtKey: extKey(g.ExternalID, g.ID), Role: g.Role, Version: g.Version, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt,
	}
}

func (d *groupDoc) group() *sdk.Group {
	return &sdk.Group{
		ID: d.ID, TenantID: d.TenantID, DisplayName: d.DisplayName, NameKey: d.NameKey, ExternalID: d.ExternalID,
		Role: d.Role, Version: d.Version, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

type edgeDoc struct {
	ID       string `bson:"_id"`
	TenantID string `bson:"tenantId"`
	GroupID  string `bson:"groupId"`
	MemberID string `bson:"memberId"`
}

func edgeID(tenantID, groupID, memberID string) string {
	return tenantID + "|" + groupID + "|" + memberID
}

// groupPaths maps sdk.Cond fields to group document fields (see
// whereFilter); displayName compares the lower-cased nameKey.
var groupPaths = map[sdk.Field]string{
	sdk.FieldID:          "_id",
	sdk.FieldDisplayName: "nameKey",
	sdk.FieldExternalID:  "externalId",
	sdk.FieldRole:        "role",
	sdk.FieldCreated:     "createdAt",
	sdk.FieldUpdated:     "updatedAt",
}

func (s *Store) groups() *driver.Collection     { return s.db.Collection(collGroups) }
func (s *Store) groupEdges() *driver.Collection { return s.db.Collection(collGroupMembers) }

func groupNameTaken(op string) error {
	return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonGroupNameTaken, "a group with this display name exists", nil)
}

func groupExtTaken(op string) error {
	return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonExternalIDTaken, "a group with this external id exists", nil)
}

// groupDuplicate says which uniqueness rule refused a write of g, from one
// read of the documents it collides with (FerretDB's messages do not always
// name the index).
func (s *Store) groupDuplicate(ctx context.Context, op string, g *sdk.Group, creating bool, cause error) error {
	ek := extKey(g.ExternalID, g.ID)
	cur, err := s.groups().Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "_id", Value: g.ID}},
		bson.D{{Key: "tenantId", Value: g.TenantID}, {Key: "nameKey", Value: g.NameKey}},
		bson.D{{Key: "tenantId", Value: g.TenantID}, {Key: "extKey", Value: ek}},
	}}}, options.Find().SetLimit(3).SetBatchSize(3))
	if err != nil {
		return translate(ctx, op, err)
	}
	var docs []groupDoc
	if err := cur.All(ctx, &docs); err != nil {
		return translate(ctx, op, err)
	}
	for _, d := range docs {
		switch {
		case d.ID == g.ID && creating:
			return sdk.E(op, sdk.CodeAlreadyExists, "", "group id exists", nil)
		case d.ID == g.ID || d.TenantID != g.TenantID:
		case d.NameKey == g.NameKey:
			return groupNameTaken(op)
		case d.ExtKey == ek:
			return groupExtTaken(op)
		}
	}
	msg := cause.Error()
	switch {
	case strings.Contains(msg, idxGroupName):
		return groupNameTaken(op)
	case strings.Contains(msg, idxGroupExt):
		return groupExtTaken(op)
	}
	return sdk.E(op, sdk.CodeAlreadyExists, "", "a uniqueness rule refused the write", cause)
}

// CreateGroup implements [sdk.GroupStore]: one insert.
func (s *Store) CreateGroup(ctx context.Context, g *sdk.Group) error {
	const op = "mongo.CreateGroup"
	_, err := s.groups().InsertOne(ctx, fromGroup(g))
	if err != nil && isDuplicate(err) {
		return s.groupDuplicate(ctx, op, g, true, err)
	}
	return translate(ctx, op, err)
}

func (s *Store) findGroup(ctx context.Context, op string, filter bson.D) (*sdk.Group, error) {
	var d groupDoc
	if err := s.groups().FindOne(ctx, filter).Decode(&d); err != nil {
		if errors.Is(err, driver.ErrNoDocuments) {
			return nil, notFound(op, "group")
		}
		return nil, translate(ctx, op, err)
	}
	return d.group(), nil
}

// GetGroup implements [sdk.GroupStore]: one find.
func (s *Store) GetGroup(ctx context.Context, tenantID, id string) (*sdk.Group, error) {
	return s.findGroup(ctx, "mongo.GetGroup", bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}})
}

func (s *Store) findGroups(ctx context.Context, op string, filter bson.D, limit int) ([]*sdk.Group, error) {
	cur, err := s.groups().Find(ctx, filter, findOpts(bson.D{{Key: "_id", Value: 1}}, limit))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []groupDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	out := make([]*sdk.Group, len(docs))
	for i := range docs {
		out[i] = docs[i].group()
	}
	return out, nil
}

// GetGroups implements [sdk.GroupStore]: one find by _id $in.
func (s *Store) GetGroups(ctx context.Context, tenantID string, ids []string) ([]*sdk.Group, error) {
	if len(ids) == 0 {
		return []*sdk.Group{}, nil
	}
	return s.findGroups(ctx, "mongo.GetGroups",
		bson.D{{Key: "tenantId", Value: tenantID}, {Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, 0)
}

func groupFilter(tenantID string, where *sdk.Cond) bson.D {
	d := bson.D{{Key: "tenantId", Value: tenantID}}
	if where != nil {
		if w := whereFilter(where, groupPaths); len(w) > 0 {
			d = append(d, bson.E{Key: "$and", Value: bson.A{w}})
		}
	}
	return d
}

// ListGroups implements [sdk.GroupStore]: one find, a range on _id.
func (s *Store) ListGroups(ctx context.Context, tenantID string, q sdk.GroupQuery) ([]*sdk.Group, error) {
	filter := groupFilter(tenantID, q.Where)
	if q.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After}}})
	}
	return s.findGroups(ctx, "mongo.ListGroups", filter, q.Limit)
}

// CountGroups implements [sdk.GroupStore]: one count.
func (s *Store) CountGroups(ctx context.Context, tenantID string, where *sdk.Cond) (int, error) {
	n, err := s.groups().CountDocuments(ctx, groupFilter(tenantID, where))
	if err != nil {
		return 0, translate(ctx, "mongo.CountGroups", err)
	}
	return int(n), nil
}

// groupGone answers, after a write conditional on the version matched
// nothing, whether the group is gone or changed.
func (s *Store) groupGone(ctx context.Context, op, tenantID, id string) error {
	if _, err := s.GetGroup(ctx, tenantID, id); err != nil {
		if sdk.CodeOf(err) == sdk.CodeNotFound {
			return notFound(op, "group")
		}
		return err
	}
	return stale(op)
}

// UpdateGroup implements [sdk.GroupStore]: one update conditional on the
// version.
func (s *Store) UpdateGroup(ctx context.Context, g *sdk.Group, expectedVersion int64) error {
	const op = "mongo.UpdateGroup"
	unlock, err := s.lock(ctx, collGroups, g.ID)
	if err != nil {
		return err
	}
	res, err := s.groups().UpdateOne(ctx,
		bson.D{{Key: "_id", Value: g.ID}, {Key: "tenantId", Value: g.TenantID}, {Key: "version", Value: expectedVersion}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "displayName", Value: g.DisplayName}, {Key: "nameKey", Value: g.NameKey},
			{Key: "externalId", Value: g.ExternalID}, {Key: "extKey", Value: extKey(g.ExternalID, g.ID)},
			{Key: "role", Value: g.Role}, {Key: "updatedAt", Value: g.UpdatedAt}, {Key: "version", Value: expectedVersion + 1},
		}}})
	unlock()
	switch {
	case err != nil && isDuplicate(err):
		return s.groupDuplicate(ctx, op, g, false, err)
	case err != nil:
		return translate(ctx, op, err)
	case res.MatchedCount == 0:
		return s.groupGone(ctx, op, g.TenantID, g.ID)
	}
	g.Version = expectedVersion + 1
	return nil
}

// DeleteGroup implements [sdk.GroupStore]: a delete conditional on the
// version, then one deleteMany of the group's edges.
func (s *Store) DeleteGroup(ctx context.Context, tenantID, id string, expectedVersion int64) error {
	const op = "mongo.DeleteGroup"
	unlock, err := s.lock(ctx, collGroups, id)
	if err != nil {
		return err
	}
	res, err := s.groups().DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}, {Key: "version", Value: expectedVersion}})
	unlock()
	if err != nil {
		return translate(ctx, op, err)
	}
	if res.DeletedCount == 0 {
		return s.groupGone(ctx, op, tenantID, id)
	}
	_, err = s.groupEdges().DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "tenantId", Value: tenantID}, {Key: "groupId", Value: id}})
	return translate(ctx, op, err)
}

// bumpGroup increments a group's version and sets updatedAt, returning the
// group after: one findAndModify.
func (s *Store) bumpGroup(ctx context.Context, op, tenantID, groupID string, now time.Time) (*sdk.Group, error) {
	unlock, err := s.lock(ctx, collGroups, groupID)
	if err != nil {
		return nil, err
	}
	var d groupDoc
	err = s.groups().FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: groupID}, {Key: "tenantId", Value: tenantID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "updatedAt", Value: now}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	unlock()
	if errors.Is(err, driver.ErrNoDocuments) {
		return nil, notFound(op, "group")
	}
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	return d.group(), nil
}

// AddGroupMembers implements [sdk.GroupStore] in two commands whatever the
// size of the group: bump the group (which also proves it exists), then
// insert the edges with one unordered insertMany, existing edges being
// duplicate _ids the server skips.
func (s *Store) AddGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	const op = "mongo.AddGroupMembers"
	g, err := s.bumpGroup(ctx, op, tenantID, groupID, now)
	if err != nil || len(memberIDs) == 0 {
		return g, 0, err
	}
	docs := make([]any, len(memberIDs))
	for i, m := range memberIDs {
		docs[i] = edgeDoc{ID: edgeID(tenantID, groupID, m), TenantID: tenantID, GroupID: groupID, MemberID: m}
	}
	res, err := s.groupEdges().InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return g, len(res.InsertedIDs), nil
	}
	var bwe driver.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return nil, 0, translate(ctx, op, err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != codeDuplicateKey && !isDuplicate(we) {
			return nil, 0, sdk.E(op, sdk.CodeUnknown, "", "database error", we)
		}
	}
	return g, len(memberIDs) - len(bwe.WriteErrors), nil
}

// RemoveGroupMembers implements [sdk.GroupStore] in two commands: bump the
// group, delete the edges by _id.
func (s *Store) RemoveGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	const op = "mongo.RemoveGroupMembers"
	g, err := s.bumpGroup(ctx, op, tenantID, groupID, now)
	if err != nil || len(memberIDs) == 0 {
		return g, 0, err
	}
	ids := make([]string, len(memberIDs))
	for i, m := range memberIDs {
		ids[i] = edgeID(tenantID, groupID, m)
	}
	res, err := s.groupEdges().DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "tenantId", Value: tenantID}})
	if err != nil {
		return nil, 0, translate(ctx, op, err)
	}
	return g, int(res.DeletedCount), nil
}

// ListGroupMembers implements [sdk.GroupStore]: one find, a range on
// memberId within the group, on tenantId_groupId_memberId.
func (s *Store) ListGroupMembers(ctx context.Context, tenantID, groupID, after string, limit int) ([]string, error) {
	const op = "mongo.ListGroupMembers"
	filter := bson.D{{Key: "tenantId", Value: tenantID}, {Key: "groupId", Value: groupID}}
	if after != "" {
		filter = append(filter, bson.E{Key: "memberId", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	cur, err := s.groupEdges().Find(ctx, filter,
		findOpts(bson.D{{Key: "memberId", Value: 1}}, limit).SetProjection(bson.D{{Key: "memberId", Value: 1}}))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []edgeDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.MemberID
	}
	return out, nil
}

// ListMemberGroups implements [sdk.GroupStore]: one find on
// tenantId_memberId_groupId.
func (s *Store) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	const op = "mongo.ListMemberGroups"
	out := []sdk.GroupEdge{}
	if len(memberIDs) == 0 {
		return out, nil
	}
	cur, err := s.groupEdges().Find(ctx,
		bson.D{{Key: "tenantId", Value: tenantID}, {Key: "memberId", Value: bson.D{{Key: "$in", Value: memberIDs}}}},
		options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "groupId", Value: 1}}))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []edgeDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	for _, d := range docs {
		out = append(out, sdk.GroupEdge{GroupID: d.GroupID, MemberID: d.MemberID})
	}
	return out, nil
}

// DeleteEdges implements [sdk.GroupStore]: one deleteMany by _id.
func (s *Store) DeleteEdges(ctx context.Context, tenantID string, edges []sdk.GroupEdge) (int, error) {
	if len(edges) == 0 {
		return 0, nil
	}
	ids := make([]string, len(edges))
	for i, e := range edges {
		ids[i] = edgeID(tenantID, e.GroupID, e.MemberID)
	}
	res, err := s.groupEdges().DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "tenantId", Value: tenantID}})
	if err != nil {
		return 0, translate(ctx, "mongo.DeleteEdges", err)
	}
	return int(res.DeletedCount), nil
}

// MissingMembers implements [sdk.GroupStore]: one find of the ids that
// exist, projected to _id.
func (s *Store) MissingMembers(ctx context.Context, tenantID string, ids []string) ([]string, error) {
	const op = "mongo.MissingMembers"
	if len(ids) == 0 {
		return nil, nil
	}
	cur, err := s.members.Find(ctx,
		bson.D{{Key: "tenantId", Value: tenantID}, {Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		findOpts(bson.D{{Key: "_id", Value: 1}}, len(ids)).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	found := make(map[string]bool, len(docs))
	for _, d := range docs {
		found[d.ID] = true
	}
	var missing []string
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	return missing, nil
}
