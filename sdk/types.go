package sdk

import (
	"slices"
	"strings"
	"time"
)

// Status is a member's lifecycle state.
type Status string

// Member states. Deletion is not a state: a removed member is gone.
const (
	StatusInvited     Status = "invited"     // invited, invitation pending
	StatusActive      Status = "active"      // may sign in
	StatusDeactivated Status = "deactivated" // suspended; keeps their data and, by default, their seat
)

// Valid reports whether s is one of the defined states.
func (s Status) Valid() bool {
	return s == StatusInvited || s == StatusActive || s == StatusDeactivated
}

// InvitePolicy says who may add or invite members to a tenant.
type InvitePolicy string

// Invite policies.
const (
	// InviteTeamManagers lets any role holding [PermTeamManage] add and
	// invite members. It is the default.
	InviteTeamManagers InvitePolicy = "team_manage"
	// InviteOwnerOnly lets only the owner add and invite members.
	InviteOwnerOnly InvitePolicy = "owner_only"
)

// Settings are a tenant's configurable rules. The zero value of each field
// means "use the default" so that adding a field never changes existing
// tenants.
type Settings struct {
	// SeatStates lists the member states that hold a seat. Default: invited,
	// active and deactivated (a deactivated member keeps their seat until
	// removed).
	SeatStates []Status `json:"seatStates,omitempty"`
	// InvitePolicy says who may add or invite members. Default
	// InviteTeamManagers.
	InvitePolicy InvitePolicy `json:"invitePolicy,omitempty"`
	// DefaultRole is the role given to members added without one. Default:
	// the preset's lowest-ranked role.
	DefaultRole string `json:"defaultRole,omitempty"`
	// SuccessorRole is the role the old owner receives on an ownership
	// transfer. Default: the role ranked just below the owner.
	SuccessorRole string `json:"successorRole,omitempty"`
	// UniqueEmailAcrossTenants makes an email address usable in this tenant
	// only while no other tenant has a member with it.
	UniqueEmailAcrossTenants bool `json:"uniqueEmailAcrossTenants,omitempty"`
	// ActOnEqualRank lets a member with team:manage act on members of
	// their own rank — edit, deactivate, remove, force logout, set the
	// password of another admin — not only on lower ranks. The owner stays
	// protected whatever the setting. [PresetPrimaryAdmin] turns it on at
	// tenant creation (every admin manages the other admins; only the
	// primary admin is protected); the other presets leave it off.
	ActOnEqualRank bool `json:"actOnEqualRank,omitempty"`
	// InvitationTTL is how long an invitation secret is valid. Default 72h.
	InvitationTTL time.Duration `json:"invitationTTL,omitempty"`
	// RequireMFA requires members to enrol a second factor before they are
	// considered fully active for sign-in.
	RequireMFA bool `json:"requireMFA,omitempty"`
	// CustomAttributes declares the tenant's custom member attributes, kept
	// in [Profile.Custom].
	CustomAttributes []CustomAttribute `json:"customAttributes,omitempty"`
}

// DefaultInvitationTTL is the invitation lifetime when a tenant sets none.
const DefaultInvitationTTL = 72 * time.Hour

var defaultSeatStates = []Status{StatusInvited, StatusActive, StatusDeactivated}

// HoldsSeat reports whether a member in state s occupies one of the
// tenant's seats under these settings.
func (s *Settings) HoldsSeat(st Status) bool {
	states := s.SeatStates
	if len(states) == 0 {
		states = defaultSeatStates
	}
	return slices.Contains(states, st)
}

// Tenant is one customer account: its owner, seats, roles and settings.
type Tenant struct {
	ID      string `json:"id"`
	Slug    string `json:"slug"` // unique, URL-safe, lower case
	Name    string `json:"name"`
	OwnerID string `json:"ownerId"` // the one owner; the source of truth for ownership

	IncludedSeats int `json:"includedSeats"` // seats in the plan
	ExtraSeats    int `json:"extraSeats"`    // seats bought on top
	SeatsUsed     int `json:"seatsUsed"`     // maintained atomically by the store

	Roles    []Role   `json:"roles"` // ranked, highest first; Roles[0] is the owner role
	Settings Settings `json:"settings"`

	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`

	// Deleting is set on a tenant whose deletion started and has not
	// finished (a store that deletes in steps stopped between them, see
	// [TenantStore.DeleteTenant]). The SDK answers for such a tenant as for
	// one that does not exist, with [ReasonTenantDeleting], except
	// [Client.DeleteTenant], which finishes the deletion, and
	// [Client.ListTenants], which lists it.
	Deleting bool `json:"deleting,omitempty"`
}

// SeatLimit is the number of seats the tenant pays for.
func (t *Tenant) SeatLimit() int { return t.IncludedSeats + t.ExtraSeats }

// SeatsFree is the number of seats still available.
func (t *Tenant) SeatsFree() int { return t.SeatLimit() - t.SeatsUsed }

// OwnerRole returns the name of the tenant's top-ranked role, which only the
// owner holds.
func (t *Tenant) OwnerRole() string {
	if len(t.Roles) == 0 {
		return ""
	}
	return t.Roles[0].Name
}

// Role returns the role with the given name, or nil.
func (t *Tenant) Role(name string) *Role {
	for i := range t.Roles {
		if t.Roles[i].Name == name {
			return &t.Roles[i]
		}
	}
	return nil
}

// DefaultRole is the role given to members added without one.
func (t *Tenant) DefaultRole() string {
	if t.Settings.DefaultRole != "" {
		return t.Settings.DefaultRole
	}
	if len(t.Roles) == 0 {
		return ""
	}
	return t.Roles[len(t.Roles)-1].Name
}

// SuccessorRole is the role the old owner receives on a transfer.
func (t *Tenant) SuccessorRole() string {
	if t.Settings.SuccessorRole != "" {
		return t.Settings.SuccessorRole
	}
	if len(t.Roles) < 2 {
		return t.DefaultRole()
	}
	return t.Roles[1].Name
}

// Clone returns a deep copy of t.
func (t *Tenant) Clone() *Tenant {
	if t == nil {
		return nil
	}
	c := *t
	c.Roles = make([]Role, len(t.Roles))
	for i, r := range t.Roles {
		c.Roles[i] = r
		c.Roles[i].Permissions = slices.Clone(r.Permissions)
	}
	c.Settings.SeatStates = slices.Clone(t.Settings.SeatStates)
	c.Settings.CustomAttributes = slices.Clone(t.Settings.CustomAttributes)
	return &c
}

// Member is a person in a tenant: their [Profile], and what Roster
// derives and decides about them.
type Member struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`

	// Profile is everything the member is described by; its fields are
	// promoted (m.GivenName, m.Emails, …).
	Profile

	// Email is the member's address for seats, uniqueness and invitations,
	// derived from the profile by [Profile.MemberEmail]. The SDK sets it.
	Email string `json:"email"`
	// EmailKey is Email normalised for uniqueness (lower case). The SDK sets
	// it; stores index it.
	EmailKey string `json:"emailKey"`
	// UserNameKey is UserName normalised for uniqueness ([NormalizeUserName]),
	// unique per tenant. The SDK sets it; stores index it.
	UserNameKey string `json:"userNameKey"`

	Role   string `json:"role"`
	Status Status `json:"status"`

	// SessionEpoch is bumped to invalidate every session of the member
	// (force logout, deactivation, password change). A host's session
	// records the epoch at sign-in and is valid while it still matches.
	SessionEpoch int64 `json:"sessionEpoch"`
	MFAEnrolled  bool  `json:"mfaEnrolled,omitempty"`

	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`

	// Groups holds, for a member read from a store that keeps memberships
	// on the member ([InlineMemberGroups]), the ids of the groups it was in
	// when read, sorted; otherwise it is nil. It is read-only: stores
	// ignore it on writes, and memberships change through the group
	// methods. [Client.GroupIDsOfMembers] answers from it when it can.
	Groups []string `json:"groups,omitempty"`
}

// Clone returns a copy of m.
func (m *Member) Clone() *Member {
	if m == nil {
		return nil
	}
	c := *m
	c.Profile = m.Profile.Clone()
	c.Groups = slices.Clone(m.Groups)
	return &c
}

// Name returns the member's display name, falling back to given and family
// name, then the email address.
func (m *Member) Name() string {
	if m.DisplayName != "" {
		return m.DisplayName
	}
	if n := strings.TrimSpace(m.GivenName + " " + m.FamilyName); n != "" {
		return n
	}
	return m.Email
}

// NormalizeEmail returns the uniqueness key of an email address: the
// address in lower case. "Ann@Example.com" and "ann@example.com" are the
// same member; "ann+sales@example.com" is a different one.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ActorKind says what kind of principal is acting.
type ActorKind string

// Actor kinds; they also name the audit channel.
const (
	ActorMember ActorKind = "member" // a member, through the host application (channel "sdk")
	ActorToken  ActorKind = "token"  // a SCIM bearer token (channel "scim")
	ActorSync   ActorKind = "sync"   // an HR sync run (channel "sync")
	ActorSystem ActorKind = "system" // the host application itself (channel "system")
)

// Actor is the principal on whose behalf an operation runs. It is an
// explicit argument of every mutating call, never a context value.
type Actor struct {
	Kind ActorKind
	// ID is the member id for ActorMember, the token id for ActorToken, a
	// run label for ActorSync, and free text for ActorSystem.
	ID string
}

// MemberActor is a member acting through the host application.
func MemberActor(memberID string) Actor { return Actor{Kind: ActorMember, ID: memberID} }

// TokenActor is a SCIM provisioning token.
func TokenActor(tokenID string) Actor { return Actor{Kind: ActorToken, ID: tokenID} }

// SyncActor is an HR sync run.
func SyncActor(run string) Actor { return Actor{Kind: ActorSync, ID: run} }

// SystemActor is the host application acting on its own authority (for
// example a back-office job). It passes every policy check except those that
// keep the tenant consistent: the owner can never be removed, deactivated or
// demoted, and seat limits hold.
func SystemActor() Actor { return Actor{Kind: ActorSystem, ID: "system"} }

// AuditChannels are the values of [AuditEvent.Channel], the path a change
// came through: the SDK on a member's behalf, SCIM, an HR sync, or the host
// system.
var AuditChannels = []string{"sdk", "scim", "sync", "system"}

// Channel names the path a change came through, for the audit log (one of
// [AuditChannels]).
func (a Actor) Channel() string {
	switch a.Kind {
	case ActorMember:
		return "sdk"
	case ActorToken:
		return "scim"
	case ActorSync:
		return "sync"
	default:
		return "system"
	}
}

// String returns "kind:id".
func (a Actor) String() string { return string(a.Kind) + ":" + a.ID }

// Page is one page of a list and the cursor of the next one.
type Page[T any] struct {
	Items []T
	// NextCursor is passed as ListOptions.Cursor to fetch the next page; it
	// is empty on the last page.
	NextCursor string
}

// ListOptions select a page. The order of a list is stable: a cursor
// resumes right after the last item returned, whatever was written since.
type ListOptions struct {
	PageSize int    // 1..1000, default 50
	Cursor   string // from Page.NextCursor; empty for the first page
}

// Default and maximum page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)
