package mongo

import (
	"reflect"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rosterhq/roster/sdk"
)

// The documents below are the stored form. They are separate from the sdk
// types so that the SDK's structs never need bson tags and the stored
// field names stay stable whatever the SDK renames.

type roleDoc struct {
	Name        string   `bson:"name"`
	Rank        int      `bson:"rank"`
	Permissions []string `bson:"permissions,omitempty"`
}

type settingsDoc struct {
	SeatStates               []string `bson:"seatStates,omitempty"`
	InvitePolicy             string   `bson:"invitePolicy,omitempty"`
	DefaultRole              string   `bson:"defaultRole,omitempty"`
	SuccessorRole            string   `bson:"successorRole,omitempty"`
	UniqueEmailAcrossTenants bool     `bson:"uniqueEmailAcrossTenants,omitempty"`
	InvitationTTLNanos       int64    `bson:"invitationTTLNanos,omitempty"`
	RequireMFA               bool     `bson:"requireMFA,omitempty"`
}

type tenantDoc struct {
	ID            string      `bson:"_id"`
	Slug          string      `bson:"slug"`
	Name          string      `bson:"name"`
	OwnerID       string      `bson:"ownerId"`
	IncludedSeats int         `bson:"includedSeats"`
	ExtraSeats    int         `bson:"extraSeats"`
	SeatsUsed     int         `bson:"seatsUsed"`
	SeatsFree     int         `bson:"seatsFree"` // includedSeats + extraSeats - seatsUsed, kept in step
	Roles         []roleDoc   `bson:"roles"`
	Settings      settingsDoc `bson:"settings"`
	Version       int64       `bson:"version"`
	CreatedAt     time.Time   `bson:"createdAt"`
	UpdatedAt     time.Time   `bson:"updatedAt"`
	// PendingOwner is the owner member while CreateTenant has not yet
	// confirmed its insert; RecountSeats restores it after a crash.
	PendingOwner *memberDoc `bson:"pendingOwner,omitempty"`
}

// memberDoc stores, next to each case-insensitive text field, its
// lower-cased key (emailKey, givenKey, familyKey, displayKey, titleKey,
// departmentKey): case-insensitive matching uses them, never collation,
// which FerretDB lacks.
type memberDoc struct {
	ID         string `bson:"_id"`
	TenantID   string `bson:"tenantId"`
	Email      string `bson:"email"`
	EmailKey   string `bson:"emailKey"`
	ExternalID string `bson:"externalId,omitempty"`
	// ExtKey is unique per tenant; see extKey.
	ExtKey      string    `bson:"extKey"`
	GivenName   string    `bson:"givenName,omitempty"`
	FamilyName  string    `bson:"familyName,omitempty"`
	DisplayName string    `bson:"displayName,omitempty"`
	GivenKey    string    `bson:"givenKey,omitempty"`
	FamilyKey   string    `bson:"familyKey,omitempty"`
	DisplayKey  string    `bson:"displayKey,omitempty"`
	TitleKey    string    `bson:"titleKey,omitempty"`
	DeptKey     string    `bson:"departmentKey,omitempty"`
	Department  string    `bson:"department,omitempty"`
	Title       string    `bson:"title,omitempty"`
	ManagerID   string    `bson:"managerId,omitempty"`
	Role        string    `bson:"role"`
	Status      string    `bson:"status"`
	Epoch       int64     `bson:"sessionEpoch"`
	MFAEnrolled bool      `bson:"mfaEnrolled,omitempty"`
	Version     int64     `bson:"version"`
	CreatedAt   time.Time `bson:"createdAt"`
	UpdatedAt   time.Time `bson:"updatedAt"`
	// Groups holds the member's side of its group memberships (see
	// groups.go). Member writes never carry it: fromMember leaves it nil
	// and replacement goes through replaceMember, which keeps it.
	Groups []string `bson:"groups,omitempty"`
}

// memberOptional lists the memberDoc fields stored only when not empty,
// by their stored names, except groups.
var memberOptional = func() []string {
	var out []string
	rt := reflect.TypeFor[memberDoc]()
	for i := range rt.NumField() {
		name, opts, _ := strings.Cut(rt.Field(i).Tag.Get("bson"), ",")
		if opts == "omitempty" && name != "groups" {
			out = append(out, name)
		}
	}
	return out
}()

// replaceMember returns the update that makes a stored member equal d in
// every field but _id and groups: $set of the fields d stores and $unset
// of the optional ones it leaves out. A replacement document would drop
// the member's group memberships.
func replaceMember(d *memberDoc) (bson.D, error) {
	raw, err := bson.Marshal(d)
	if err != nil {
		return nil, err
	}
	elems, err := bson.Raw(raw).Elements()
	if err != nil {
		return nil, err
	}
	set := make(bson.D, 0, len(elems))
	for _, e := range elems {
		if k := e.Key(); k != "_id" && k != "groups" {
			set = append(set, bson.E{Key: k, Value: e.Value()})
		}
	}
	unset := bson.D{}
	for _, name := range memberOptional {
		if _, err := bson.Raw(raw).LookupErr(name); err != nil {
			unset = append(unset, bson.E{Key: name, Value: ""})
		}
	}
	u := bson.D{{Key: "$set", Value: set}}
	if len(unset) > 0 {
		u = append(u, bson.E{Key: "$unset", Value: unset})
	}
	return u, nil
}

type auditDoc struct {
	ID        string            `bson:"_id"`
	TenantID  string            `bson:"tenantId"`
	Time      time.Time         `bson:"time"`
	ActorKind string            `bson:"actorKind"`
	ActorID   string            `bson:"actorId"`
	Channel   string            `bson:"channel"`
	Action    string            `bson:"action"`
	TargetID  string            `bson:"targetId,omitempty"`
	Before    map[string]string `bson:"before,omitempty"`
	After     map[string]string `bson:"after,omitempty"`
}

// extKey is the value of the unique (tenantId, extKey) index: the external
// id when there is one, else "\x00" followed by the member id, which is
// unique by itself. FerretDB v1 has no partial indexes, and a sparse
// compound index would still index members without an external id (their
// tenantId is present), so this synthetic key is how "unique when set"
// works on both servers. An external id that itself starts with NUL gets a
// second NUL so that it can never equal a synthetic key (member ids never
// start with NUL).
func extKey(externalID, memberID string) string {
	switch {
	case externalID == "":
		return "\x00" + memberID
	case externalID[0] == 0:
		return "\x00\x00" + externalID
	}
	return externalID
}

func fromRoles(rs []sdk.Role) []roleDoc {
	out := make([]roleDoc, len(rs))
	for i, r := range rs {
		out[i] = roleDoc{Name: r.Name, Rank: r.Rank}
		for _, p := range r.Permissions {
			out[i].Permissions = append(out[i].Permissions, string(p))
		}
	}
	return out
}

func (d *roleDoc) role() sdk.Role {
	r := sdk.Role{Name: d.Name, Rank: d.Rank}
	if len(d.Permissions) > 0 {
		r.Permissions = make([]sdk.Permission, len(d.Permissions))
		for i, p := range d.Permissions {
			r.Permissions[i] = sdk.Permission(p)
		}
	}
	return r
}

func fromSettings(s *sdk.Settings) settingsDoc {
	d := settingsDoc{
		InvitePolicy:             string(s.InvitePolicy),
		DefaultRole:              s.DefaultRole,
		SuccessorRole:            s.SuccessorRole,
		UniqueEmailAcrossTenants: s.UniqueEmailAcrossTenants,
		InvitationTTLNanos:       int64(s.InvitationTTL),
		RequireMFA:               s.RequireMFA,
	}
	for _, st := range s.SeatStates {
		d.SeatStates = append(d.SeatStates, string(st))
	}
	return d
}

func (d *settingsDoc) settings() sdk.Settings {
	s := sdk.Settings{
		InvitePolicy:             sdk.InvitePolicy(d.InvitePolicy),
		DefaultRole:              d.DefaultRole,
		SuccessorRole:            d.SuccessorRole,
		UniqueEmailAcrossTenants: d.UniqueEmailAcrossTenants,
		InvitationTTL:            time.Duration(d.InvitationTTLNanos),
		RequireMFA:               d.RequireMFA,
	}
	for _, st := range d.SeatStates {
		s.SeatStates = append(s.SeatStates, sdk.Status(st))
	}
	return s
}

func fromTenant(t *sdk.Tenant) *tenantDoc {
	return &tenantDoc{
		ID:            t.ID,
		Slug:          t.Slug,
		Name:          t.Name,
		OwnerID:       t.OwnerID,
		IncludedSeats: t.IncludedSeats,
		ExtraSeats:    t.ExtraSeats,
		SeatsUsed:     t.SeatsUsed,
		SeatsFree:     t.SeatsFree(),
		Roles:         fromRoles(t.Roles),
		Settings:      fromSettings(&t.Settings),
		Version:       t.Version,
		CreatedAt:     t.CreatedAt,
		UpdatedAt:     t.UpdatedAt,
	}
}

func (d *tenantDoc) tenant() *sdk.Tenant {
	t := &sdk.Tenant{
		ID:            d.ID,
		Slug:          d.Slug,
		Name:          d.Name,
		OwnerID:       d.OwnerID,
		IncludedSeats: d.IncludedSeats,
		ExtraSeats:    d.ExtraSeats,
		SeatsUsed:     d.SeatsUsed,
		Roles:         make([]sdk.Role, len(d.Roles)),
		Settings:      d.Settings.settings(),
		Version:       d.Version,
		CreatedAt:     d.CreatedAt,
		UpdatedAt:     d.UpdatedAt,
	}
	for i := range d.Roles {
		t.Roles[i] = d.Roles[i].role()
	}
	return t
}

func fromMember(m *sdk.Member) *memberDoc {
	return &memberDoc{
		ID:          m.ID,
		TenantID:    m.TenantID,
		Email:       m.Email,
		EmailKey:    m.EmailKey,
		ExternalID:  m.ExternalID,
		ExtKey:      extKey(m.ExternalID, m.ID),
		GivenName:   m.GivenName,
		FamilyName:  m.FamilyName,
		DisplayName: m.DisplayName,
		GivenKey:    strings.ToLower(m.GivenName),
		FamilyKey:   strings.ToLower(m.FamilyName),
		DisplayKey:  strings.ToLower(m.DisplayName),
		TitleKey:    strings.ToLower(m.Title),
		DeptKey:     strings.ToLower(m.Department),
		Department:  m.Department,
		Title:       m.Title,
		ManagerID:   m.ManagerID,
		Role:        m.Role,
		Status:      string(m.Status),
		Epoch:       m.SessionEpoch,
		MFAEnrolled: m.MFAEnrolled,
		Version:     m.Version,
		CreatedAt:   m.CreatedAt,
		UpdatedAt:   m.UpdatedAt,
	}
}

func (d *memberDoc) member() *sdk.Member {
	return &sdk.Member{
		ID:           d.ID,
		TenantID:     d.TenantID,
		Email:        d.Email,
		EmailKey:     d.EmailKey,
		ExternalID:   d.ExternalID,
		GivenName:    d.GivenName,
		FamilyName:   d.FamilyName,
		DisplayName:  d.DisplayName,
		Department:   d.Department,
		Title:        d.Title,
		ManagerID:    d.ManagerID,
		Role:         d.Role,
		Status:       sdk.Status(d.Status),
		SessionEpoch: d.Epoch,
		MFAEnrolled:  d.MFAEnrolled,
		Version:      d.Version,
		CreatedAt:    d.CreatedAt,
		UpdatedAt:    d.UpdatedAt,
		Groups:       memberGroups(d.Groups),
	}
}

// memberGroups returns a member's stored group ids sorted and without
// repeats (an $addToSet never repeats one; a hand-edited document might),
// nil when there are none.
func memberGroups(gs []string) []string {
	if len(gs) == 0 {
		return nil
	}
	out := slices.Clone(gs)
	slices.Sort(out)
	return slices.Compact(out)
}

func fromAudit(e *sdk.AuditEvent) *auditDoc {
	return &auditDoc{
		ID:        e.ID,
		TenantID:  e.TenantID,
		Time:      e.Time,
		ActorKind: string(e.ActorKind),
		ActorID:   e.ActorID,
		Channel:   e.Channel,
		Action:    e.Action,
		TargetID:  e.TargetID,
		Before:    e.Before,
		After:     e.After,
	}
}

func (d *auditDoc) event() *sdk.AuditEvent {
	return &sdk.AuditEvent{
		ID:        d.ID,
		TenantID:  d.TenantID,
		Time:      d.Time,
		ActorKind: sdk.ActorKind(d.ActorKind),
		ActorID:   d.ActorID,
		Channel:   d.Channel,
		Action:    d.Action,
		TargetID:  d.TargetID,
		Before:    d.Before,
		After:     d.After,
	}
}
