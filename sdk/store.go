package sdk

import (
	"context"
	"time"
)

// Store is the persistence the SDK needs. It knows nothing of policy: the
// SDK decides what may happen and calls the store to make it happen
// atomically. Every method returns [*Error] values for the outcomes it
// documents (translated at the store's boundary) and passes context errors
// through untouched.
//
// A store must not rely on multi-document transactions: each method is one
// conditional single-document write, or ordered idempotent steps whose
// half-done state [Client.Reconcile] repairs. [github.com/rosterhq/roster/sdk/storetest]
// checks a store against this contract.
//
// Lists page two ways, and every store MUST serve both: by range on the id
// (After, the exclusive lower bound a cursor carries) and by position
// ([MemberQuery.Offset], [GroupQuery.Offset]: skip so many matching items
// after After). A page by position is one database command whatever the
// position, served from the store's (tenant, id) index, so that a stateless
// server can answer SCIM's startIndex (RFC 7644 §3.4.2.4) at any depth.
//
// Optional capabilities — [BulkMemberStore], [MemberScanner],
// [PasswordHashReader], [InlineMemberGroups], [AuditedMemberWrites] — are
// discovered with a type assertion; the SDK falls back to the methods
// above without them. Each is there because a store serves it in fewer
// round trips, never to change an outcome.
type Store interface {
	TenantStore
	MemberStore
	AuditStore
	InvitationStore
	CredentialStore
	GroupStore
	TokenStore
}

// TenantStore persists tenants. A tenant's Version counts changes to its
// name, roles, settings, owner and extra seats; SeatsUsed moves with member
// writes and never changes Version.
type TenantStore interface {
	// CreateTenant stores t and its owner, owner.Member (whose ID is
	// t.OwnerID and whose seat is counted in t.SeatsUsed, 1 on entry;
	// owner.Seat, ExpectedVersion and TenantVersion are ignored). It returns
	// an error with CodeAlreadyExists and ReasonSlugTaken when the slug is
	// in use, CodeAlreadyExists when t.ID is, and, for an owner written with
	// owner.GlobalEmail, the ReasonEmailTakenElsewhere of
	// [MemberStore.CreateMember]; in each case nothing stays written.
	// owner.PasswordHash, when set, is stored with the owner.
	CreateTenant(ctx context.Context, t *Tenant, owner MemberWrite) error
	// GetTenant returns the tenant, or CodeNotFound.
	GetTenant(ctx context.Context, id string) (*Tenant, error)
	// GetTenantBySlug returns the tenant, or CodeNotFound.
	GetTenantBySlug(ctx context.Context, slug string) (*Tenant, error)
	// ListTenants returns up to q.Limit tenants whose ID is greater than
	// q.After, ordered by ID.
	ListTenants(ctx context.Context, q TenantQuery) ([]*Tenant, error)
	// UpdateTenant replaces t's Name, Roles and Settings and sets Version to
	// expectedVersion+1 and UpdatedAt, if the stored version equals
	// expectedVersion. It MUST NOT change OwnerID or seat fields. It returns
	// CodeNotFound, or CodeFailedPrecondition with ReasonVersionMismatch.
	// On success t.Version holds the new version.
	UpdateTenant(ctx context.Context, t *Tenant, expectedVersion int64) error
	// AdjustExtraSeats adds delta (may be negative) to ExtraSeats in one
	// atomic step and returns the updated tenant. When a removal (delta < 0)
	// would leave fewer seats than are in use, or ExtraSeats below zero,
	// nothing changes and it returns CodeFailedPrecondition with
	// ReasonSeatsInUse. Buying seats always succeeds, even for a tenant that
	// is over its limit (after a change of which states hold a seat).
	AdjustExtraSeats(ctx context.Context, tenantID string, delta int, now time.Time) (*Tenant, error)
	// SetOwner atomically changes OwnerID from `from` to `to`. It returns
	// CodeFailedPrecondition with ReasonVersionMismatch when the owner is no
	// longer `from`.
	SetOwner(ctx context.Context, tenantID, from, to string, now time.Time) (*Tenant, error)
	// RecountSeats repairs the seat counter, which a crash between a
	// member write's seat step and its member step leaves too high: it
	// sets SeatsUsed to the number of the tenant's members whose Status is
	// in holding, and returns the tenant after the repair and the count it
	// replaced. It MUST be safe beside concurrent member writes of the
	// tenant: a seat taken by a write still in flight is either counted or
	// voided (that write then fails with ReasonVersionMismatch and holds
	// nothing), and a seat given back by a write in flight is given back
	// exactly once, so SeatsUsed never ends below the seats members hold.
	// When seats keep moving while it counts, it may give up after a few
	// attempts with CodeFailedPrecondition and ReasonVersionMismatch,
	// leaving the counter as it was. An unknown tenant is CodeNotFound.
	RecountSeats(ctx context.Context, tenantID string, holding []Status) (t *Tenant, previous int, err error)
	// DeleteTenant deletes the tenant and everything it holds — its
	// members and their credentials, invitations, groups and memberships,
	// tokens and audit log — and frees its slug and its members' addresses
	// (those written with [MemberWrite.GlobalEmail] included), if the
	// tenant's Version equals expectedVersion. It returns CodeNotFound for
	// an unknown tenant, or CodeFailedPrecondition with
	// ReasonVersionMismatch. A member write of the tenant racing the
	// deletion either lands before it, and is deleted with the rest, or
	// fails: no member of a deleted tenant survives it.
	//
	// A store that cannot delete it all in one atomic step first marks the
	// tenant deleting ([Tenant.Deleting] set, Version+1), after which no
	// member write takes a seat of it, then deletes what it holds, then the
	// tenant. Until that last step GetTenant, GetTenantBySlug and
	// ListTenants return the tenant with Deleting set. A crash leaves the
	// mark, and DeleteTenant on a marked tenant finishes the deletion,
	// whatever expectedVersion.
	//
	// An audit event appended after the deletion, by an operation that
	// decided before it, may remain: it is unreachable, since tenant ids
	// are never reused.
	DeleteTenant(ctx context.Context, tenantID string, expectedVersion int64) error
}

// TenantQuery selects a page of tenants.
type TenantQuery struct {
	After string // exclusive lower bound on ID; "" for the first page
	Limit int
}

// SeatChange is what a member write does to its tenant's seat counter.
type SeatChange int8

// Seat changes. A store orders the seat step and the member step so that,
// whatever interleaves and wherever a crash stops it, the counter never
// counts fewer seats than members hold: a seat is taken before the member
// step and given back after it.
const (
	// SeatKeep leaves the counter alone.
	SeatKeep SeatChange = 0
	// SeatTake takes a seat in the same step as the write (create, update):
	// when none is free the store returns CodeResourceExhausted with
	// ReasonSeatLimit and writes nothing.
	SeatTake SeatChange = 1
	// SeatRelease gives a seat back once the write (update, delete) is done.
	SeatRelease SeatChange = -1
)

// MemberWrite is one conditional write of a member, as
// [MemberStore.CreateMember] and [MemberStore.UpdateMember] (and
// [BulkMemberStore.CreateMembers]) take it.
type MemberWrite struct {
	// Member is the member as it is to be stored (its whole profile and
	// state; Groups is ignored).
	Member *Member
	// ExpectedVersion (UpdateMember): the stored Version must equal it;
	// the write sets Version to ExpectedVersion+1.
	ExpectedVersion int64
	// TenantVersion (CreateMember): when not zero, the tenant's Version
	// must equal it (the SDK decided on that version).
	TenantVersion int64
	// Seat is what the write does to the tenant's seat counter: SeatTake
	// (create, update) or SeatRelease (update only).
	Seat SeatChange
	// PasswordHash, when not nil, becomes the member's password hash in
	// the same atomic write as the member ("" removes the password);
	// [CredentialStore.GetCredentials] returns it from then on. Other
	// credentials (TOTP) are left as they are.
	PasswordHash *string
	// GlobalEmail makes the member's EmailKey unique among the members of
	// every tenant whose latest write carried GlobalEmail (a tenant
	// requiring addresses unique across tenants): a write that would make
	// two such members share one returns CodeAlreadyExists with
	// ReasonEmailTakenElsewhere and writes nothing. Of two concurrent writes
	// of one address, exactly one succeeds. A write without it takes the
	// member out of that set; so does its deletion.
	GlobalEmail bool
	// Audit, when not nil, is the write's audit event: CreateMember and
	// UpdateMember append it, as [AuditStore.AppendAudit] would (a no-op
	// when its ID exists), in the same atomic write as the member, and not
	// at all when the write fails. The SDK sets it only for a store with
	// [AuditedMemberWrites]; [TenantStore.CreateTenant] and
	// [BulkMemberStore.CreateMembers] ignore it.
	Audit *AuditEvent
}

// MemberDelete is one conditional deletion of a member, as
// [MemberStore.DeleteMember] takes it.
type MemberDelete struct {
	TenantID string
	ID       string
	// ExpectedVersion: the stored Version must equal it.
	ExpectedVersion int64
	// Seat is SeatRelease when the member holds a seat, to be given back
	// once the member is deleted; SeatKeep otherwise.
	Seat SeatChange
}

// MemberKey names a unique lookup key of a member within its tenant.
type MemberKey int8

// Member lookup keys, as [MemberStore.GetMemberBy] takes them.
const (
	// KeyEmail is the member's EmailKey ([NormalizeEmail] of its email).
	KeyEmail MemberKey = iota + 1
	// KeyUserName is the member's UserNameKey ([NormalizeUserName]).
	KeyUserName
	// KeyExternalID is the member's ExternalID, compared exactly.
	KeyExternalID
)

// MemberStore persists members and keeps the seat counter.
type MemberStore interface {
	// CreateMember stores w.Member. When w.TenantVersion is not zero, the
	// tenant's Version must equal it: otherwise nothing is written and it
	// returns CodeFailedPrecondition with ReasonVersionMismatch. With
	// w.Seat SeatTake it takes a seat in the same step: if none is free it
	// returns CodeResourceExhausted with ReasonSeatLimit and writes
	// nothing. Within the tenant, a duplicate EmailKey returns
	// CodeAlreadyExists with ReasonEmailTaken, a duplicate UserNameKey
	// ReasonUserNameTaken, a duplicate ExternalID ReasonExternalIDTaken;
	// w.GlobalEmail adds ReasonEmailTakenElsewhere. In each case nothing
	// stays written and the seat taken is given back. A store may also
	// refuse with CodeFailedPrecondition and ReasonVersionMismatch when a
	// concurrent [TenantStore.RecountSeats] voided the seat it took; the
	// SDK then retries with a new member id. An unknown tenant returns
	// CodeNotFound. w.PasswordHash, when set, is stored with the member.
	CreateMember(ctx context.Context, w MemberWrite) error
	// GetMember returns the member of the tenant, or CodeNotFound.
	GetMember(ctx context.Context, tenantID, id string) (*Member, error)
	// GetMemberBy returns the member of the tenant whose key equals value
	// (normalised by the caller for KeyEmail and KeyUserName), or
	// CodeNotFound.
	GetMemberBy(ctx context.Context, tenantID string, key MemberKey, value string) (*Member, error)
	// ListMembers returns up to q.Limit members of the tenant matching
	// q.Filter whose ID is greater than q.After, ordered by ID, after
	// skipping the first q.Offset of them (an Offset at or past the end
	// returns none, without error). Every store MUST implement Offset. The
	// cost of a page MUST NOT grow with how deep it is when it is reached by
	// After; reached by Offset, a store serves it from its (tenant, id)
	// index in one query, and one that evaluates part of q.Filter outside
	// the database (documented by the store) may read the skipped members.
	ListMembers(ctx context.Context, tenantID string, q MemberQuery) ([]*Member, error)
	// CountMembers returns how many members of the tenant match f.
	CountMembers(ctx context.Context, tenantID string, f MemberFilter) (int, error)
	// EmailInOtherTenant reports whether a member of a tenant other than
	// tenantID has EmailKey emailKey, without saying which.
	EmailInOtherTenant(ctx context.Context, tenantID, emailKey string) (bool, error)
	// UpdateMember replaces the stored member with w.Member (every profile
	// field, state and derived key, in one atomic write) if the stored
	// Version equals w.ExpectedVersion, setting w.Member.Version to
	// w.ExpectedVersion+1, and sets the password hash in the same write
	// when w.PasswordHash is set. w.Seat SeatTake takes a seat first
	// (CodeResourceExhausted, ReasonSeatLimit when none is free; nothing
	// written); SeatRelease gives one back after the write. Uniqueness
	// errors are those of CreateMember. A stale version returns
	// CodeFailedPrecondition with ReasonVersionMismatch (also when a
	// concurrent RecountSeats voided the write's seat); a missing member
	// CodeNotFound. Whenever it fails, a seat it took is given back exactly
	// once.
	UpdateMember(ctx context.Context, w MemberWrite) error
	// DeleteMember deletes the member if its Version equals
	// d.ExpectedVersion, then gives back its seat when d.Seat is
	// SeatRelease. Outcomes as for UpdateMember.
	DeleteMember(ctx context.Context, d MemberDelete) error
}

// MemberFilter narrows a member list. Zero fields match everything.
type MemberFilter struct {
	Status Status // exact state
	Role   string // exact role name
	// Prefix matches members whose EmailKey, or lower-cased given, family
	// or display name, starts with it. The SDK passes it lower-cased.
	Prefix string
	// Where, when set, is an expression every matching member satisfies,
	// with the semantics documented on [Cond] (the SDK validates it first).
	Where *Cond
}

// MemberQuery selects a page of members.
type MemberQuery struct {
	Filter MemberFilter
	After  string // exclusive lower bound on ID; "" for the first page
	// Offset skips this many matching members after After before the first
	// one returned: the page starts at position Offset (0-based) of the
	// list that After and Filter select. It is never negative (the SDK
	// checks); 0 skips none.
	Offset int
	Limit  int
}

// AuditStore persists the audit log.
type AuditStore interface {
	// AppendAudit stores e. Appending an event whose ID exists is a no-op
	// (so a retried write never logs twice).
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns up to q.Limit events of the tenant matching q,
	// newest first: ordered by ID descending, IDs below q.Before when set.
	ListAudit(ctx context.Context, tenantID string, q AuditQuery) ([]*AuditEvent, error)
}

// AuditQuery selects a page of audit events.
type AuditQuery struct {
	ActorID  string    // only events by this actor id
	TargetID string    // only events about this target id
	Action   string    // only events of this action
	Channel  string    // only events that came through this channel (see [AuditChannels])
	Since    time.Time // only events at or after (zero: no bound)
	Until    time.Time // only events before (zero: no bound)
	Before   string    // exclusive upper bound on ID; "" for the newest page
	Limit    int
}

// PasswordHashReader is implemented by stores that keep a member's
// password hash with the member, so that one read returns both. The SDK
// uses it to tell whether a password sent again is the current one without
// a second read.
type PasswordHashReader interface {
	// GetMemberWithPasswordHash returns the member, as GetMember does, and
	// its password hash ("" when none is set).
	GetMemberWithPasswordHash(ctx context.Context, tenantID, id string) (*Member, string, error)
}
