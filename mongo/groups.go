package mongo

import (
	"context"
	"errors"
	"maps"
	"slices"
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
//	members        (see doc.go) carry their side of the membership: groups,
//	               the ids of the groups the member belongs to, an array
//	               that $addToSet and $pullAll change one edge at a time.
//	               Index: tenantId_groups_id (multikey: a group's members in
//	               id order, by range).
//
// An edge is an element of a member document, never a list on the group,
// so no command reads or rewrites a group's whole membership, and an edge
// can neither outlive its member nor point at one that does not exist.
// Adding one member to a group is two commands whatever the size of the
// group: the $addToSet on the member (whose match count proves the member
// exists) and a findAndModify that bumps the group's version and returns
// it. A member's groups grow with the number of groups it is in, which
// identity providers keep to tens or hundreds.
const (
	collGroups = "groups"

	idxGroupName = "tenantId_nameKey_unique"
	idxGroupExt  = "tenantId_extKey_unique"
)

func init() {
	schema = append(schema,
		collSchema{coll: collGroups, indexes: []index{
			{idxGroupName, bson.D{{Key: "tenantId", Value: 1}, {Key: "nameKey", Value: 1}}, unique},
			{idxGroupExt, bson.D{{Key: "tenantId", Value: 1}, {Key: "extKey", Value: 1}}, unique},
			{"tenantId_id", bson.D{{Key: "tenantId", Value: 1}, {Key: "_id", Value: 1}}, plain},
		}},
	)
}

var (
	_ sdk.GroupStore         = (*Store)(nil)
	_ sdk.InlineMemberGroups = (*Store)(nil)
)

// MemberGroupsInline implements [sdk.InlineMemberGroups]: the members the
// store returns carry their groups, read with them.
func (s *Store) MemberGroupsInline() bool { return true }

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

func (s *Store) groups() *driver.Collection { return s.db.Collection(collGroups) }

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
	return s.findGroupsWith(ctx, op, filter, findOpts(bson.D{{Key: "_id", Value: 1}}, limit))
}

// findGroupsWith is findGroups with the find's options.
func (s *Store) findGroupsWith(ctx context.Context, op string, filter bson.D, o *options.FindOptionsBuilder) ([]*sdk.Group, error) {
	cur, err := s.groups().Find(ctx, filter, o)
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

// ListGroups implements [sdk.GroupStore]: one find, a range on _id, which
// skips q.Offset groups (a group filter is always exact) whatever it is.
func (s *Store) ListGroups(ctx context.Context, tenantID string, q sdk.GroupQuery) ([]*sdk.Group, error) {
	filter := groupFilter(tenantID, q.Where)
	if q.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After}}})
	}
	o := findOpts(bson.D{{Key: "_id", Value: 1}}, q.Limit)
	if q.Offset > 0 {
		o.SetSkip(int64(q.Offset))
	}
	return s.findGroupsWith(ctx, "mongo.ListGroups", filter, o)
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
	res, err := s.groups().UpdateOne(ctx,
		bson.D{{Key: "_id", Value: g.ID}, {Key: "tenantId", Value: g.TenantID}, {Key: "version", Value: expectedVersion}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "displayName", Value: g.DisplayName}, {Key: "nameKey", Value: g.NameKey},
			{Key: "externalId", Value: g.ExternalID}, {Key: "extKey", Value: extKey(g.ExternalID, g.ID)},
			{Key: "role", Value: g.Role}, {Key: "updatedAt", Value: g.UpdatedAt}, {Key: "version", Value: expectedVersion + 1},
		}}})
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
// version, then the group pulled from its members' documents, a page at a
// time.
func (s *Store) DeleteGroup(ctx context.Context, tenantID, id string, expectedVersion int64) error {
	const op = "mongo.DeleteGroup"
	res, err := s.groups().DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "tenantId", Value: tenantID}, {Key: "version", Value: expectedVersion}})
	if err != nil {
		return translate(ctx, op, err)
	}
	if res.DeletedCount == 0 {
		return s.groupGone(ctx, op, tenantID, id)
	}
	if err := s.crashPoint("DeleteGroup.deleted"); err != nil {
		return err
	}
	return s.dropGroupEdges(context.WithoutCancel(ctx), op, tenantID, id)
}

// bumpGroup increments a group's version and sets updatedAt, returning the
// group after: one findAndModify.
func (s *Store) bumpGroup(ctx context.Context, op, tenantID, groupID string, now time.Time) (*sdk.Group, error) {
	var d groupDoc
	err := s.groups().FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: groupID}, {Key: "tenantId", Value: tenantID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "updatedAt", Value: now}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, driver.ErrNoDocuments) {
		return nil, notFound(op, "group")
	}
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	return d.group(), nil
}

// addToGroup writes the edges from groupID to the member documents of ids
// ($addToSet, idempotent) and returns how many were new. One id costs one
// update whose match count also proves the member exists; several cost a
// find of the missing ones first. An unknown id writes nothing.
func (s *Store) addToGroup(ctx context.Context, op, tenantID, groupID string, ids []string) (int, error) {
	if len(ids) > 1 {
		missing, err := s.MissingMembers(ctx, tenantID, ids)
		if err != nil {
			return 0, err
		}
		if len(missing) > 0 {
			return 0, sdk.UnknownMembersError(op, missing)
		}
	}
	res, err := s.updateMembers(ctx, tenantID, ids, nil, bson.D{{Key: "$addToSet", Value: bson.D{{Key: "groups", Value: groupID}}}})
	if err != nil {
		return 0, translate(ctx, op, err)
	}
	if len(ids) == 1 && res.MatchedCount == 0 {
		return 0, sdk.UnknownMembersError(op, ids)
	}
	return int(res.ModifiedCount), nil
}

// pullFromGroup deletes the edges from groupID to the member documents of
// ids and returns how many existed.
func (s *Store) pullFromGroup(ctx context.Context, tenantID, groupID string, ids []string) (int, error) {
	res, err := s.updateMembers(ctx, tenantID, ids, bson.D{{Key: "groups", Value: groupID}},
		bson.D{{Key: "$pullAll", Value: bson.D{{Key: "groups", Value: bson.A{groupID}}}}})
	if err != nil {
		return 0, err
	}
	return int(res.ModifiedCount), nil
}

// updateMembers applies update to the member documents of ids (with the
// extra conditions cond): updateOne for one id,
// updateMany for several.
func (s *Store) updateMembers(ctx context.Context, tenantID string, ids []string, cond bson.D, update bson.D) (*driver.UpdateResult, error) {
	filter := bson.D{{Key: "tenantId", Value: tenantID}}
	if len(ids) == 1 {
		filter = append(filter, bson.E{Key: "_id", Value: ids[0]})
	} else {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
	}
	filter = append(filter, cond...)
	if len(ids) == 1 {
		return s.members.UpdateOne(ctx, filter, update)
	}
	return s.members.UpdateMany(ctx, filter, update)
}

// AddGroupMembers implements [sdk.GroupStore]. An edge lives on the member
// document (its groups array), so adding one member is two commands
// whatever the size of the group: an $addToSet on the member, whose match
// count proves the member exists, then the findAndModify that bumps the
// group and proves it exists. When the group turns out to be missing the
// edges are pulled again.
func (s *Store) AddGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	const op = "mongo.AddGroupMembers"
	if len(memberIDs) == 0 {
		g, err := s.bumpGroup(ctx, op, tenantID, groupID, now)
		return g, 0, err
	}
	n, err := s.addToGroup(ctx, op, tenantID, groupID, memberIDs)
	if err != nil {
		if sdk.ReasonOf(err) == sdk.ReasonUnknownMember {
			// A missing group is the answer that comes first.
			if _, gerr := s.GetGroup(ctx, tenantID, groupID); gerr != nil {
				return nil, 0, gerr
			}
		}
		return nil, 0, err
	}
	if err := s.crashPoint("AddGroupMembers.edges"); err != nil {
		return nil, 0, err
	}
	g, err := s.bumpGroup(ctx, op, tenantID, groupID, now)
	if err != nil {
		if sdk.CodeOf(err) == sdk.CodeNotFound {
			if _, perr := s.pullFromGroup(context.WithoutCancel(ctx), tenantID, groupID, memberIDs); perr != nil {
				s.log.Warn("roster: could not take back edges to a missing group; ReconcileGroups removes them",
					"tenant", tenantID, "group", groupID, "err", perr)
			}
		}
		return nil, 0, err
	}
	return g, n, nil
}

// RemoveGroupMembers implements [sdk.GroupStore] in two commands: pull the
// group from the members' documents, then bump the group.
func (s *Store) RemoveGroupMembers(ctx context.Context, tenantID, groupID string, memberIDs []string, now time.Time) (*sdk.Group, int, error) {
	const op = "mongo.RemoveGroupMembers"
	n := 0
	if len(memberIDs) > 0 {
		var err error
		if n, err = s.pullFromGroup(ctx, tenantID, groupID, memberIDs); err != nil {
			return nil, 0, translate(ctx, op, err)
		}
	}
	g, err := s.bumpGroup(ctx, op, tenantID, groupID, now)
	if err != nil {
		return nil, 0, err
	}
	return g, n, nil
}

// ListGroupMembers implements [sdk.GroupStore]: one find of the member
// documents whose groups hold the group, a range on _id, on
// tenantId_groups_id.
func (s *Store) ListGroupMembers(ctx context.Context, tenantID, groupID, after string, limit int) ([]string, error) {
	const op = "mongo.ListGroupMembers"
	filter := bson.D{{Key: "tenantId", Value: tenantID}, {Key: "groups", Value: groupID}}
	if after != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	cur, err := s.members.Find(ctx, filter, findOpts(bson.D{{Key: "_id", Value: 1}}, limit).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out, nil
}

// ListMemberGroups implements [sdk.GroupStore]: one find of the members'
// documents, projected to their groups.
func (s *Store) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	const op = "mongo.ListMemberGroups"
	out := []sdk.GroupEdge{}
	if len(memberIDs) == 0 {
		return out, nil
	}
	cur, err := s.members.Find(ctx,
		bson.D{{Key: "tenantId", Value: tenantID}, {Key: "_id", Value: bson.D{{Key: "$in", Value: memberIDs}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "groups", Value: 1}}))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	var docs []struct {
		ID     string   `bson:"_id"`
		Groups []string `bson:"groups"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate(ctx, op, err)
	}
	for _, d := range docs {
		for _, g := range memberGroups(d.Groups) {
			out = append(out, sdk.GroupEdge{GroupID: g, MemberID: d.ID})
		}
	}
	return out, nil
}

// DeleteEdges implements [sdk.GroupStore]: one bulk write of an
// updateMany per group named, pulling that group from those of the given
// members that have it. Each statement modifies a member at most once, so
// the modified count is the number of edges that existed.
func (s *Store) DeleteEdges(ctx context.Context, tenantID string, edges []sdk.GroupEdge) (int, error) {
	const op = "mongo.DeleteEdges"
	if len(edges) == 0 {
		return 0, nil
	}
	byGroup := map[string][]string{}
	for _, e := range edges {
		if !slices.Contains(byGroup[e.GroupID], e.MemberID) {
			byGroup[e.GroupID] = append(byGroup[e.GroupID], e.MemberID)
		}
	}
	groups := slices.Sorted(maps.Keys(byGroup))
	models := make([]driver.WriteModel, len(groups))
	for i, g := range groups {
		models[i] = driver.NewUpdateManyModel().
			SetFilter(bson.D{{Key: "tenantId", Value: tenantID}, {Key: "_id", Value: bson.D{{Key: "$in", Value: byGroup[g]}}}, {Key: "groups", Value: g}}).
			SetUpdate(bson.D{{Key: "$pullAll", Value: bson.D{{Key: "groups", Value: bson.A{g}}}}})
	}
	res, err := s.members.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if err != nil {
		return 0, translate(ctx, op, err)
	}
	return int(res.ModifiedCount), nil
}

// dropGroupEdges pulls a deleted group from every member document that
// names it, a page of edgePage members at a time (two commands a page).
func (s *Store) dropGroupEdges(ctx context.Context, op, tenantID, groupID string) error {
	for {
		ids, err := s.ListGroupMembers(ctx, tenantID, groupID, "", edgePage)
		if err != nil || len(ids) == 0 {
			return err
		}
		if _, err := s.pullFromGroup(ctx, tenantID, groupID, ids); err != nil {
			return translate(ctx, op, err)
		}
	}
}

// edgePage is how many member documents one step of a group deletion
// rewrites, and how many documents one step of a migration reads (a
// variable so that tests can take small steps).
var edgePage = 1000

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
