// Package mongo is Roster's production store: the [sdk.Store] (and
// [sdk.SeatCounter]) on MongoDB through the official driver
// (go.mongodb.org/mongo-driver/v2). The embedded default runs the very same
// code against FerretDB v1 (SQLite) in-process, so one adapter serves a
// laptop, a standalone server, a replica set and a sharded cluster.
//
// The package knows persistence, never policy: the SDK decides what may
// happen and calls the store to make it happen atomically.
//
//	s, err := mongo.Open(ctx, "mongodb://db:27017", "roster")
//	...
//	defer s.Close(ctx)
//	client := sdk.New(s)
//
// # Collections
//
// Every document of a per-tenant collection carries tenantId, and every
// index of such a collection starts with tenantId, so that a sharded
// cluster can shard them on {tenantId: 1} (or {tenantId: 1, _id: 1}) and
// every unique index stays enforceable (a unique index must be prefixed by
// the shard key). The collections of groups and tokens follow the same
// rules (see groups.go and tokens.go).
//
//	tenants   _id = tenant id; slug, name, ownerId, includedSeats,
//	          extraSeats, seatsUsed, seatsFree, roles, settings, version,
//	          createdAt, updatedAt, and pendingOwner while a creation is
//	          unfinished (see below).
//	          Indexes: _id; slug_unique {slug} (unique).
//	          The tenants collection is small and stays unsharded.
//	members   _id = member id; tenantId, the whole profile (userName,
//	          formattedName, givenName, familyName, middleName,
//	          honorificPrefix, honorificSuffix, displayName, nickName,
//	          profileUrl, title, userType, preferredLanguage, locale,
//	          timezone, emails [{value, type, display, primary}],
//	          phoneNumbers [{value, type, display, primary}], addresses
//	          [{formatted, streetAddress, locality, region, postalCode,
//	          country, type, primary}], employeeNumber, costCenter,
//	          organization, division, department, managerId, externalId,
//	          custom {name: value}), the derived email and keys (emailKey,
//	          userNameKey, extKey, emailKeys: each email value lower-cased,
//	          in order; givenKey, familyKey, displayKey, titleKey,
//	          departmentKey, employeeNumberKey: lower-cased), role, status,
//	          sessionEpoch, mfaEnrolled, version, createdAt, updatedAt,
//	          groups: the ids of the groups the member is in (its side of
//	          each membership edge; see "Group membership" below), and
//	          passwordHash (see "Passwords" below). Empty text fields and
//	          empty lists are not stored.
//	          Indexes: tenantId_emailKey_unique {tenantId, emailKey} (unique);
//	          tenantId_userNameKey_unique {tenantId, userNameKey} (unique);
//	          tenantId_extKey_unique {tenantId, extKey} (unique);
//	          tenantId_id {tenantId, _id} (paging);
//	          tenantId_status_id and tenantId_role_id (filtered paging and
//	          counts); emailKey_tenantId {emailKey, tenantId};
//	          tenantId_groups_id {tenantId, groups, _id} (multikey: a
//	          group's members, paged by _id);
//	          tenantId_emailKeys_id {tenantId, emailKeys, _id} (multikey:
//	          emails.value filters); tenantId_employeeNumberKey_id.
//	audit     _id = event id (sorts by time); tenantId, time, actorKind,
//	          actorId, channel, action, targetId, before, after.
//	          Indexes: tenantId_id {tenantId, _id} (newest-first paging).
//	invitations
//	          _id = invitation id; tenantId, memberId, email, role,
//	          inviterId, state, secretHash (SHA-256; the secret is never
//	          stored), expiresAt, resendCount, resends, version, createdAt,
//	          updatedAt.
//	          Indexes: tenantId_id, tenantId_state_id,
//	          tenantId_memberId_id (a member's newest invitation).
//	credentials
//	          _id = tenantId + "/" + memberId; tenantId, memberId,
//	          totpSecret, totpPending, totpLastStep, updatedAt, and
//	          passwordHash only for a member id without a member document
//	          (see "Passwords"). Reads match tenantId and memberId as well
//	          as _id.
//	migrations
//	          _id = the name of a finished migration (see "Migrations");
//	          doneAt. Small and global, like tenants.
//
// emailKey_tenantId is the one index that does not start with tenantId:
// [Store.EmailInOtherTenant] asks about every tenant but one ("is this
// address used by another account?"), which no tenant-prefixed index can
// answer without scanning. It is not unique, and a non-unique secondary
// index needs no shard-key prefix, so it does not stand in the way of
// sharding by tenant; on a sharded cluster that query is the one that
// visits every shard.
//
// extKey makes "the external id is unique within a tenant, when set" work
// without partial indexes, which FerretDB v1 lacks (a sparse compound index
// would not help: members without externalId still have tenantId and would
// be indexed). extKey is the external id when set, else NUL followed by the
// member id, which collides with nothing.
//
// Member ids are globally unique (the SDK makes them), so _id, unique only
// per shard on a sharded collection, needs no help.
//
// # Invariants without transactions
//
// The store never uses multi-document transactions; each invariant holds
// through one single-document conditional write, a unique index, or ordered
// steps that a repair completes:
//
//   - Seat limit: the tenant stores seatsFree = includedSeats + extraSeats -
//     seatsUsed next to seatsUsed, so taking a seat is
//     updateOne({_id, seatsFree: {$gte: 1}}, {$inc: {seatsUsed: 1,
//     seatsFree: -1}}) without $expr (FerretDB has none). AdjustExtraSeats
//     moves extraSeats and seatsFree together, on condition that
//     seatsFree >= -delta and extraSeats >= -delta. Seat moves never touch
//     the tenant's version.
//   - One owner: SetOwner is a compare-and-set of ownerId.
//   - Lost updates: UpdateMember, DeleteMember, UpdateTenant and
//     UpdateInvitation are conditional on the version they read.
//   - Uniqueness: the unique indexes above; a duplicate key is translated to
//     ReasonEmailTaken, ReasonUserNameTaken, ReasonExternalIDTaken or
//     ReasonSlugTaken.
//   - A password written with a member: the hash is a field of the member
//     document, set by the same insert or conditional update (see
//     "Passwords").
//
// Round trips: GetTenant, GetMember, GetMemberByEmail,
// GetMemberByUserName, GetMemberByExternalID, GetMemberWithPasswordHash,
// UpdateMember (with or without a password), UpdateTenant,
// AdjustExtraSeats, SetOwner, CountMembers, EmailInOtherTenant,
// AppendAudit and every page of ListMembers, ListTenants and ListAudit are
// one command each, at any page depth (range queries on _id, never skips),
// except the filters answered in part in Go (see "Filters"). CreateMember
// is two (take the seat, conditional on the tenant's version, or check
// that the tenant exists at that version; insert, with the password hash);
// an update or delete that moves a seat adds one. GetCredentials and
// DeleteCredentials are two (the member document and the credentials
// document); PutCredentials is one. Refusals may cost one more read to tell "not
// found" from "changed" or to name the violated index. For the HR sync
// ([sdk.BulkMemberStore]) CreateMembers costs three commands per batch
// (read the tenant, take the seats, one unordered insertMany) and
// AppendAudits one; UpdateMembers and DeleteMembers run the single-item
// writes, because each is conditional on its own version and a bulk write
// reports only how many matched, not which. [CommandCounter] measures all
// this.
//
// # Passwords
//
// A member's password hash is the passwordHash field of its member
// document, so that the write of a member that carries a password
// ([sdk.MemberWrite].PasswordHash) sets both atomically: a refused write
// (stale version, duplicate key, no seat) writes neither. Member writes
// without a password leave the field alone (replaceMember neither sets nor
// unsets it). Every member read projects it away, so no [sdk.Member] and
// no list carries it; [Store.GetMemberWithPasswordHash]
// ([sdk.PasswordHashReader]) reads the member and its hash in one find.
// The field is absent when no password was ever set there and "" when one
// was removed.
//
// TOTP state stays in the credentials collection. [Store.GetCredentials]
// reads both documents; the member's hash wins, and a hash on the
// credentials document counts only when the member document has none
// (credentials put for a member id that has no member document, or written
// by an older version). [Store.PutCredentials] sets only the TOTP fields
// of the credentials document and never a password hash: member writes
// alone set it, so a TOTP change made from credentials read earlier cannot
// undo a password change that raced in between. [Store.DeleteCredentials]
// removes both.
//
// # Filters
//
// An [sdk.Cond] (MemberFilter.Where) is translated by memberWhere into a
// query that is either exact or a superset of the members it matches.
// Exact: the fields with a stored value or lower-cased key (id, email,
// userName, externalId, the names, title, department, employeeNumber,
// managerId, role, status, active, the times), custom attributes
// (custom.<name>, case-exact), emails.value through emailKeys ("some item"
// is MongoDB's own semantics for a comparison on an array, and ne is the
// negation of eq), "pr" on a multi-valued attribute or a primary flag, and
// emptiness tests on any field. Not exact, bounded from above: comparisons
// on case-insensitive fields without a key (formattedName, nickName,
// locale, …: "the field is not empty"), on the other sub-attributes of
// emails, phoneNumbers and addresses (their values keep their case: "the
// member has an item"; nothing for ne), and [sdk.OpSome] (one and the same
// item: "has an item" and the bound of each comparison that must hold for
// that item, so emails[type eq "work" and value eq "x"] is answered from
// tenantId_emailKeys_id). Negation swaps the upper bound with a lower one,
// so a negated inexact term still narrows the query.
//
// When the query is not exact, ListMembers reads the candidates in id
// order, in batches of twice the page (at least 100, at most 1000, or the
// page when larger), keeps those [sdk.Cond.Match] accepts, and stops when
// the page is full or the candidates run out: one command per batch, the
// same order and cursors as an exact page. CountMembers streams the
// candidates through one cursor (a getMore per 1000), projected to the
// fields the condition reads, and counts in Go. The scan is bounded by the
// tenant and the superset query, never by the collection; a filter on
// unkeyed fields alone can cost a pass over the tenant's members from the
// cursor on. Filters by userName, email, externalId or id pin a unique
// key and the SDK answers them with one indexed read.
//
// # Group membership
//
// A membership edge is an element of the member document's groups array,
// written with $addToSet and removed with $pullAll (FerretDB v1 ignores a
// $pull condition such as $in). So an edge cannot outlive its member or
// name one that does not exist, a member's memberships go with the member
// in one delete, and no command reads or rewrites a group's whole
// membership. Adding one member to a group is two commands whatever the
// group's size: updateOne({_id, tenantId}, {$addToSet: {groups: g}}),
// whose match count is the member's existence check, then the
// findAndModify that bumps the group's version. Several members cost a
// find of the missing ones first and one updateMany. [Store.UpdateMember]
// sets every field but groups ($set and $unset, never a replacement
// document), so writing a member keeps its memberships. Members read from
// the store carry their groups in sdk.Member.Groups
// ([sdk.InlineMemberGroups]), so a page of SCIM Users with their groups is
// one query.
//
// A member's groups grow with the number of groups it is in (identity
// providers keep that to tens or hundreds), never with the size of a group.
// The price is on FerretDB, whose updateMany rewrites one document at a
// time at a cost that grows with the collection: adding many members to a
// group in one call costs there about as much as writing each member.
//
// Databases written before edges lived on member documents kept them in
// group_members, one document per edge; [Open] moves them onto the members
// in steps and drops that collection (idempotent, so a crash part-way is
// completed by the next Open).
//
// # Migrations
//
// Member documents written before members carried the whole profile have
// no userName, userNameKey, emails or emailKeys, and their password hash
// is on the credentials document. Before it builds the unique
// (tenantId, userNameKey) index (which every member must then satisfy),
// [Open] gives each such member userName = email, userNameKey = emailKey
// (unique, as emailKey is), emails = [{value: email, type: "work",
// primary: true}] and emailKeys, then copies each credentials document's
// hash onto its member (unless the member has one) and removes the copies
// that moved, a batch at a time. Every write is conditional on the field
// it sets being absent, so a crash part-way is completed by the next Open;
// when done, Open records "members.profile.v1" in the migrations
// collection and later Opens cost one find. Processes of an older version
// must not write members meanwhile: their members would lack a
// userNameKey. On FerretDB each migrated member costs an update by _id.
//
// # Crash windows and their repair
//
// Where an operation is two writes, they are ordered so that a crash in
// between errs on the safe side, and [sdk.Client.Reconcile] (which calls
// [Store.RecountSeats]) repairs what is left:
//
//   - CreateMember: seat taken, member not inserted. The counter is one too
//     high (the tenant can only under-admit); the recount fixes it. The same
//     holds for an insert that failed without a definite answer from the
//     server: the seat is given back only when the server refused the
//     insert as a duplicate.
//   - UpdateMember with seatDelta +1: seat taken, update not written; with
//     -1: update written, seat not given back. DeleteMember: member deleted,
//     seat not given back. All leave the counter too high; the recount fixes
//     it.
//   - CreateTenant inserts the tenant with a copy of the owner member
//     (pendingOwner), then the owner member, then removes the copy. A crash
//     after the first write leaves a tenant without its owner member: the
//     recount inserts the owner from the copy (only while that member is
//     still the tenant's owner: an owner cannot be removed, so a missing
//     owner can only be an unfinished creation) and removes the copy. A
//     crash after the second leaves only the copy, which it removes.
//   - Ownership transfer: SetOwner switches ownerId in one write, so there
//     is never zero or two owners; the SDK then moves the roles, and
//     Reconcile's role repair finishes a transfer a crash interrupted.
//   - DeleteCredentials removes the hash, then the
//     credentials document: a crash in between leaves the TOTP state of a
//     removed member behind, which nothing reads (member ids are never
//     reused). The migration at Open is completed by the next Open.
//   - DeleteGroup deletes the group, then pulls it from its members a page
//     at a time; AddGroupMembers adds the edges before it bumps the group
//     and pulls them again when the group turns out to be missing. Edges
//     to a deleted group that a crash leaves behind are skipped by every
//     read that resolves groups, and [sdk.Client.ReconcileGroups] removes
//     them.
//
// The recount sets seatsUsed and seatsFree with a compare-and-set on the
// values it read, so it never overwrites a seat move made meanwhile; a
// member write that took its seat before the recount read the tenant but
// inserted only after it counted is missed, and a second run fixes it.
//
// # FerretDB
//
// The store keeps to what both MongoDB and FerretDB v1.24 support: no
// transactions, collation, partial or TTL indexes, $expr, $facet,
// arrayFilters, $elemMatch with field conditions or change streams.
// Case-insensitive matching uses stored lower-cased keys and anchored,
// quoted regular expressions. An [sdk.Cond] filter (MemberFilter.Where,
// what a SCIM filter becomes) is translated into $and, $or, $nor,
// comparisons, $exists and such regular expressions (see "Filters");
// absent text fields are those missing or empty ($gt "" tells them apart),
// and times compare at the second, as ranges on the stored dates. Five
// FerretDB behaviours shape the code:
//
//   - FerretDB v1 executes an update or findAndModify as a read followed by
//     a whole-document write, not atomically: concurrent conditional
//     updates of one document can both pass their filter and one overwrite
//     the other. When [Open] finds FerretDB (buildInfo reports
//     ferretdbVersion) the store serialises its writes to each document
//     within the process ([WithSerializedWrites]). Writers in other
//     processes are not covered: the embedded server should be the only
//     writer of its data.
//   - A unique index violated by an update comes back as an InternalError
//     "UNIQUE constraint failed" rather than a duplicate key error, and an
//     insert's duplicate key error names no index; the store recognises both
//     and reads the colliding documents to name the rule.
//   - createIndexes with several existing indexes panics, so indexes are
//     listed and the missing ones created one at a time.
//   - A full first batch leaves the cursor open; pages are fetched with
//     singleBatch so that a page is one command.
//   - An update command keeps the query of each single-document statement
//     (updateOne) open, one SQLite connection each, until it ends; with a
//     pool of 100, a command of about 100 such statements waits forever.
//     The migrations send theirs in commands of at most 50.
//
// FerretDB on SQLite pushes almost no filter down to an index, so its
// queries scan; the embedded store suits evaluation, development and small
// teams, and production belongs on MongoDB.
//
// # Errors and values
//
// Driver errors are translated at the boundary into [*sdk.Error] values
// built with [sdk.E]: a missing document is CodeNotFound, a duplicate key
// CodeAlreadyExists with its reason, a conditional write that matched
// nothing CodeNotFound, CodeFailedPrecondition (ReasonVersionMismatch,
// ReasonSeatsInUse) or CodeResourceExhausted (ReasonSeatLimit), anything
// else CodeUnknown with the driver error as the cause. Errors of a
// cancelled or expired caller context pass through untouched.
//
// Times are stored as BSON dates, which keep milliseconds: a time read back
// equals the time written truncated to the millisecond.
package mongo
