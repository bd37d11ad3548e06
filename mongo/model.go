package mongo

import (
	"maps"
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
	SeatStates               []string             `bson:"seatStates,omitempty"`
	InvitePolicy             string               `bson:"invitePolicy,omitempty"`
	DefaultRole              string               `bson:"defaultRole,omitempty"`
	SuccessorRole            string               `bson:"successorRole,omitempty"`
	UniqueEmailAcrossTenants bool                 `bson:"uniqueEmailAcrossTenants,omitempty"`
	ActOnEqualRank           bool                 `bson:"actOnEqualRank,omitempty"`
	InvitationTTLNanos       int64                `bson:"invitationTTLNanos,omitempty"`
	RequireMFA               bool                 `bson:"requireMFA,omitempty"`
	CustomAttributes         []customAttributeDoc `bson:"customAttributes,omitempty"`
}

type customAttributeDoc struct {
	Name        string `bson:"name"`
	Type        string `bson:"type"`
	Description string `bson:"description,omitempty"`
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
	// Seat intents (see seats.go): a token per seat taken whose member
	// write may not have landed yet, a token per seat about to be given
	// back, and a count of seat steps that lets RecountSeats write only
	// when no seat moved while it counted.
	SeatTakes    []string `bson:"seatTakes,omitempty"`
	SeatReleases []string `bson:"seatReleases,omitempty"`
	SeatOps      int64    `bson:"seatOps"`
	// Deleting marks a tenant whose deletion started (see tenantdelete.go).
	Deleting bool `bson:"deleting,omitempty"`
}

// memberDoc is a member as stored: the whole [sdk.Profile], the member's
// state, and keys derived for queries. Next to the case-insensitive text
// fields that filters use most it stores their lower-cased key (emailKey,
// userNameKey, givenKey, familyKey, displayKey, titleKey, departmentKey,
// employeeNumberKey, and emailKeys, one per email item): case-insensitive
// matching uses them, never collation, which FerretDB lacks. The stored
// names of the fields that existed before the whole profile was kept are
// unchanged; see doc.go for the shapes and indexes.
type memberDoc struct {
	ID       string `bson:"_id"`
	TenantID string `bson:"tenantId"`
	Email    string `bson:"email"`
	EmailKey string `bson:"emailKey"`
	// UserNameKey is unique per tenant (tenantId_userNameKey_unique).
	UserName    string `bson:"userName"`
	UserNameKey string `bson:"userNameKey"`
	ExternalID  string `bson:"externalId,omitempty"`
	// ExtKey is unique per tenant; see extKey.
	ExtKey string `bson:"extKey"`
	// EmailClaim is, on a member written with sdk.MemberWrite.GlobalEmail,
	// the write id of its claim of EmailKey in the emailclaims collection
	// (see claims.go); absent otherwise.
	EmailClaim        string `bson:"emailClaim,omitempty"`
	FormattedName     string `bson:"formattedName,omitempty"`
	GivenName         string `bson:"givenName,omitempty"`
	FamilyName        string `bson:"familyName,omitempty"`
	MiddleName        string `bson:"middleName,omitempty"`
	HonorificPrefix   string `bson:"honorificPrefix,omitempty"`
	HonorificSuffix   string `bson:"honorificSuffix,omitempty"`
	DisplayName       string `bson:"displayName,omitempty"`
	NickName          string `bson:"nickName,omitempty"`
	ProfileURL        string `bson:"profileUrl,omitempty"`
	UserType          string `bson:"userType,omitempty"`
	PreferredLanguage string `bson:"preferredLanguage,omitempty"`
	Locale            string `bson:"locale,omitempty"`
	Timezone          string `bson:"timezone,omitempty"`
	GivenKey          string `bson:"givenKey,omitempty"`
	FamilyKey         string `bson:"familyKey,omitempty"`
	DisplayKey        string `bson:"displayKey,omitempty"`
	TitleKey          string `bson:"titleKey,omitempty"`
	DeptKey           string `bson:"departmentKey,omitempty"`
	Department        string `bson:"department,omitempty"`
	Title             string `bson:"title,omitempty"`
	ManagerID         string `bson:"managerId,omitempty"`
	// Multi-valued attributes, in the order given; absent when empty.
	Emails       []emailDoc   `bson:"emails,omitempty"`
	EmailKeys    []string     `bson:"emailKeys,omitempty"` // strings.ToLower of each email value, in order
	PhoneNumbers []phoneDoc   `bson:"phoneNumbers,omitempty"`
	Addresses    []addressDoc `bson:"addresses,omitempty"`
	// Enterprise extension.
	EmployeeNumber    string `bson:"employeeNumber,omitempty"`
	EmployeeNumberKey string `bson:"employeeNumberKey,omitempty"`
	CostCenter        string `bson:"costCenter,omitempty"`
	Organization      string `bson:"organization,omitempty"`
	Division          string `bson:"division,omitempty"`
	// Custom holds the tenant's custom attributes by name (names are
	// letters, digits, '_' and '-', so they are safe as field names).
	Custom      map[string]string `bson:"custom,omitempty"`
	Role        string            `bson:"role"`
	Status      string            `bson:"status"`
	Epoch       int64             `bson:"sessionEpoch"`
	MFAEnrolled bool              `bson:"mfaEnrolled,omitempty"`
	Version     int64             `bson:"version"`
	CreatedAt   time.Time         `bson:"createdAt"`
	UpdatedAt   time.Time         `bson:"updatedAt"`
	// Groups holds the member's side of its group memberships (see
	// groups.go). Member writes never carry it: fromMember leaves it nil
	// and replacement goes through replaceMember, which keeps it.
	Groups []string `bson:"groups,omitempty"`
	// PasswordHash is the member's password hash, written by the member
	// write that carries one (sdk.MemberWrite.PasswordHash) or by the
	// migration at Open; nil (absent) when none was ever set there, "" when
	// the password was removed. It is never decoded into an sdk.Member:
	// member reads project it away (memberProjection), and only
	// GetMemberWithPasswordHash and the credential methods read it.
	PasswordHash *string `bson:"passwordHash,omitempty"`
}

type emailDoc struct {
	Value   string `bson:"value"`
	Type    string `bson:"type,omitempty"`
	Display string `bson:"display,omitempty"`
	Primary bool   `bson:"primary,omitempty"`
}

type phoneDoc struct {
	Value   string `bson:"value"`
	Type    string `bson:"type,omitempty"`
	Display string `bson:"display,omitempty"`
	Primary bool   `bson:"primary,omitempty"`
}

type addressDoc struct {
	Formatted     string `bson:"formatted,omitempty"`
	StreetAddress string `bson:"streetAddress,omitempty"`
	Locality      string `bson:"locality,omitempty"`
	Region        string `bson:"region,omitempty"`
	PostalCode    string `bson:"postalCode,omitempty"`
	Country       string `bson:"country,omitempty"`
	Type          string `bson:"type,omitempty"`
	Primary       bool   `bson:"primary,omitempty"`
}

// memberProjection leaves the password hash out of every member read but
// GetMemberWithPasswordHash's.
var memberProjection = bson.D{{Key: "passwordHash", Value: 0}}

// memberOptional lists the memberDoc fields stored only when not empty,
// by their stored names, except groups and passwordHash, which member
// writes leave alone unless told (see replaceMember).
var memberOptional = func() []string {
	var out []string
	rt := reflect.TypeFor[memberDoc]()
	for i := range rt.NumField() {
		name, opts, _ := strings.Cut(rt.Field(i).Tag.Get("bson"), ",")
		if opts == "omitempty" && name != "groups" && name != "passwordHash" {
			out = append(out, name)
		}
	}
	return out
}()

// replaceMember returns the update that makes a stored member equal d in
// every field but _id and groups: $set of the fields d stores and $unset
// of the optional ones it leaves out. A replacement document would drop
// the member's group memberships. The password hash is set when d carries
// one and otherwise left as it is.
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
		if k := e.Key(); k != "_id" && k != "groups" && (k != "passwordHash" || d.PasswordHash != nil) {
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
		ActOnEqualRank:           s.ActOnEqualRank,
		InvitationTTLNanos:       int64(s.InvitationTTL),
		RequireMFA:               s.RequireMFA,
	}
	for _, st := range s.SeatStates {
		d.SeatStates = append(d.SeatStates, string(st))
	}
	for _, a := range s.CustomAttributes {
		d.CustomAttributes = append(d.CustomAttributes, customAttributeDoc{Name: a.Name, Type: string(a.Type), Description: a.Description})
	}
	return d
}

func (d *settingsDoc) settings() sdk.Settings {
	s := sdk.Settings{
		InvitePolicy:             sdk.InvitePolicy(d.InvitePolicy),
		DefaultRole:              d.DefaultRole,
		SuccessorRole:            d.SuccessorRole,
		UniqueEmailAcrossTenants: d.UniqueEmailAcrossTenants,
		ActOnEqualRank:           d.ActOnEqualRank,
		InvitationTTL:            time.Duration(d.InvitationTTLNanos),
		RequireMFA:               d.RequireMFA,
	}
	for _, st := range d.SeatStates {
		s.SeatStates = append(s.SeatStates, sdk.Status(st))
	}
	for _, a := range d.CustomAttributes {
		s.CustomAttributes = append(s.CustomAttributes, sdk.CustomAttribute{Name: a.Name, Type: sdk.CustomAttributeType(a.Type), Description: a.Description})
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
		Deleting:      d.Deleting,
	}
	for i := range d.Roles {
		t.Roles[i] = d.Roles[i].role()
	}
	return t
}

// fromMember returns the stored form of m. Its password hash is left
// unset: the writes that carry one set it.
func fromMember(m *sdk.Member) *memberDoc {
	p := &m.Profile
	d := &memberDoc{
		ID:                m.ID,
		TenantID:          m.TenantID,
		Email:             m.Email,
		EmailKey:          m.EmailKey,
		UserName:          p.UserName,
		UserNameKey:       m.UserNameKey,
		ExternalID:        p.ExternalID,
		ExtKey:            extKey(p.ExternalID, m.ID),
		FormattedName:     p.FormattedName,
		GivenName:         p.GivenName,
		FamilyName:        p.FamilyName,
		MiddleName:        p.MiddleName,
		HonorificPrefix:   p.HonorificPrefix,
		HonorificSuffix:   p.HonorificSuffix,
		DisplayName:       p.DisplayName,
		NickName:          p.NickName,
		ProfileURL:        p.ProfileURL,
		UserType:          p.UserType,
		PreferredLanguage: p.PreferredLanguage,
		Locale:            p.Locale,
		Timezone:          p.Timezone,
		GivenKey:          strings.ToLower(p.GivenName),
		FamilyKey:         strings.ToLower(p.FamilyName),
		DisplayKey:        strings.ToLower(p.DisplayName),
		TitleKey:          strings.ToLower(p.Title),
		DeptKey:           strings.ToLower(p.Department),
		Department:        p.Department,
		Title:             p.Title,
		ManagerID:         p.ManagerID,
		EmployeeNumber:    p.EmployeeNumber,
		EmployeeNumberKey: strings.ToLower(p.EmployeeNumber),
		CostCenter:        p.CostCenter,
		Organization:      p.Organization,
		Division:          p.Division,
		Role:              m.Role,
		Status:            string(m.Status),
		Epoch:             m.SessionEpoch,
		MFAEnrolled:       m.MFAEnrolled,
		Version:           m.Version,
		CreatedAt:         m.CreatedAt,
		UpdatedAt:         m.UpdatedAt,
	}
	for _, e := range p.Emails {
		d.Emails = append(d.Emails, emailDoc(e))
		d.EmailKeys = append(d.EmailKeys, emailValueKey(e.Value))
	}
	for _, ph := range p.PhoneNumbers {
		d.PhoneNumbers = append(d.PhoneNumbers, phoneDoc(ph))
	}
	for _, a := range p.Addresses {
		d.Addresses = append(d.Addresses, addressDoc(a))
	}
	if len(p.Custom) > 0 {
		d.Custom = maps.Clone(p.Custom)
	}
	return d
}

// emailValueKey is the key of one email item's value in emailKeys: the
// value lower-cased as [sdk.Cond] compares emails.value (not trimmed, unlike
// emailKey).
func emailValueKey(v string) string { return strings.ToLower(v) }

// member returns the sdk.Member d stores. The password hash is not part of
// it.
func (d *memberDoc) member() *sdk.Member {
	m := &sdk.Member{
		ID:       d.ID,
		TenantID: d.TenantID,
		Profile: sdk.Profile{
			UserName:          d.UserName,
			FormattedName:     d.FormattedName,
			GivenName:         d.GivenName,
			FamilyName:        d.FamilyName,
			MiddleName:        d.MiddleName,
			HonorificPrefix:   d.HonorificPrefix,
			HonorificSuffix:   d.HonorificSuffix,
			DisplayName:       d.DisplayName,
			NickName:          d.NickName,
			ProfileURL:        d.ProfileURL,
			Title:             d.Title,
			UserType:          d.UserType,
			PreferredLanguage: d.PreferredLanguage,
			Locale:            d.Locale,
			Timezone:          d.Timezone,
			EmployeeNumber:    d.EmployeeNumber,
			CostCenter:        d.CostCenter,
			Organization:      d.Organization,
			Division:          d.Division,
			Department:        d.Department,
			ManagerID:         d.ManagerID,
			ExternalID:        d.ExternalID,
		},
		Email:        d.Email,
		EmailKey:     d.EmailKey,
		UserNameKey:  d.UserNameKey,
		Role:         d.Role,
		Status:       sdk.Status(d.Status),
		SessionEpoch: d.Epoch,
		MFAEnrolled:  d.MFAEnrolled,
		Version:      d.Version,
		CreatedAt:    d.CreatedAt,
		UpdatedAt:    d.UpdatedAt,
		Groups:       memberGroups(d.Groups),
	}
	for _, e := range d.Emails {
		m.Emails = append(m.Emails, sdk.Email(e))
	}
	for _, ph := range d.PhoneNumbers {
		m.PhoneNumbers = append(m.PhoneNumbers, sdk.PhoneNumber(ph))
	}
	for _, a := range d.Addresses {
		m.Addresses = append(m.Addresses, sdk.Address(a))
	}
	if len(d.Custom) > 0 {
		m.Custom = maps.Clone(d.Custom)
	}
	return m
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
