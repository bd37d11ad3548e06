// Package mongo is Roster's production store: the [sdk.Store] on MongoDB
// through the official driver (go.mongodb.org/mongo-driver/v2), for a
// standalone server, a replica set and a sharded cluster. It is written
// for MongoDB alone. Its tests also run it against FerretDB v1 in-process
// (internal/embedded, the test double, not part of the roster binary),
// wrapped by internal/embedded's Serialize, which makes up for what
// FerretDB lacks (see "FerretDB"). The embedded default store is
// [github.com/rosterhq/roster/sqlite].
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
// rules (see groups.go and tokens.go). The one collection whose key is not
// a tenant is emailclaims (see "Addresses unique across tenants").
//
//	tenants   _id = tenant id; slug, name, ownerId, includedSeats,
//	          extraSeats, seatsUsed, seatsFree, roles, settings, version,
//	          createdAt, updatedAt, pendingOwner while a creation is
//	          unfinished (see below), the seat intents seatTakes,
//	          seatReleases and seatOps and the create intents creates
//	          (see "Seats"), and deleting while a deletion is unfinished
//	          (see "Deleting a tenant").
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
//	          each membership edge; see "Group membership" below),
//	          passwordHash (see "Passwords" below), and emailClaim (the
//	          write id of the member's claim of its address) on members
//	          written with sdk.MemberWrite's GlobalEmail only. Empty text
//	          fields and empty lists are not stored. A void placeholder (see "Seats") is a member document
//	          of tenantId "\x00void:" + the tenant id holding only its _id,
//	          emailKey, userNameKey and extKey (all = _id) and voidedAt.
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
//	          doneAt. Also the progress of copies into the database
//	          from another store (see import.go, Store.MigrationState).
//	          Small and global, like tenants.
//	emailclaims
//	          _id = an address (a member's emailKey) held by a member
//	          written with GlobalEmail; tenantId, memberId, writeId (the
//	          write that last claimed it, = the member's emailClaim), at.
//	          Indexes: _id only. Global (see below).
//
// One index does not start with tenantId, emailKey_tenantId:
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
// # Addresses unique across tenants
//
// sdk.MemberWrite's GlobalEmail (tenants that require an address to belong
// to one account) is a rule of uniqueness across tenants, which no unique
// index of members can keep while members are sharded by tenant (a unique
// index must start with the shard key, and with the tenant in front it is
// unique per tenant, which tenantId_emailKey_unique already is). It is kept
// by the emailclaims collection: one document per address held, its _id
// the address, so that the uniqueness is that of _id. It is the one
// collection whose key is not the tenant: global by nature, small (a
// document per member of a tenant that requires unique addresses), and
// shardable on _id, or left unsharded. Member writes touch it with
// single-document writes only (see claims.go):
//
//   - A write with GlobalEmail claims its address before the member write:
//     findAndModify({_id: address, memberId}, {$set: {writeId}, $setOnInsert:
//     {tenantId, at}}, upsert), which inserts the claim, or finds it the
//     member's already, or fails on the duplicate _id when another member
//     holds it. The member document then carries emailClaim = writeId. When
//     the member write is refused, the claim it inserted is deleted ({_id,
//     memberId, writeId}), or one the member held already gets its former
//     writeId back; a failure without a definite answer leaves it.
//   - After a write that leaves the member without the address it held
//     (another address, or no GlobalEmail) and after its deletion, the old
//     claim is deleted, conditional on memberId and on the writeId the
//     member document carried (the update and the delete are findAndModify
//     commands that return the document as it was, so this costs nothing
//     for a member that held no claim). The writeId keeps a release from
//     removing a claim a later write of the same member made meanwhile.
//   - A claimant that finds another member's claim reads it and its holder.
//     The holder is of the claim's tenant, has the address and carries
//     emailClaim (or is the pendingOwner of its tenant, with the address):
//     ReasonEmailTakenElsewhere. The holder cannot land (a void
//     placeholder or a member of another tenant has its id): the claim is
//     taken over. Otherwise the claim is stale (a crash between the claim
//     and the member write, or between a member write and a release) or
//     its write is in flight: the claimant waits, looking again with a
//     growing pause, until claimGrace (5 s) has passed since the claim was
//     made or since it first saw it; then it voids the write in flight as
//     RecountSeats does (see "Seats": a placeholder under a missing
//     member's id, whose insert then fails; a version bump of an existing
//     one, whose conditional update then fails; when either meets a
//     change it looks again) and takes the claim over with a replacement
//     conditional on {_id, memberId, writeId} as read. After 8 rounds of
//     changes it gives up with ReasonVersionMismatch.
//
// Of two concurrent writes of one address, exactly one holds it: the
// claims are one document, and a claim is taken over only from a write
// that can no longer land. A write voided that way fails with
// ReasonVersionMismatch (a create's retry under a new id then finds the
// address held). [Store.EmailInOtherTenant] reads members, not claims.
// Databases of earlier versions had a unique sparse index
// globalEmailKey_unique on members instead; Open drops it, and the
// globalEmailKey field it indexed stays, unread, on the documents that
// have it.
//
// # Invariants without transactions
//
// The store never uses multi-document transactions; each invariant holds
// through one single-document conditional write, a unique index, or ordered
// steps that a repair completes:
//
//   - Seat limit: the tenant stores seatsFree = includedSeats + extraSeats -
//     seatsUsed next to seatsUsed, so taking a seat is
//     findAndModify({_id, seatsFree: {$gte: 1}}, {$inc: {seatsUsed: 1,
//     seatsFree: -1, seatOps: 1}, $push: {seatTakes: token}}) without
//     $expr (FerretDB has none). AdjustExtraSeats moves extraSeats and
//     seatsFree together, on condition that seatsFree >= -delta and
//     extraSeats >= -delta. Seat moves never touch the tenant's version.
//     See "Seats" for the intents and the recount.
//   - One owner: SetOwner is a compare-and-set of ownerId.
//   - Lost updates: UpdateMember, DeleteMember, UpdateTenant and
//     UpdateInvitation are conditional on the version they read.
//   - Uniqueness: the unique indexes above; a duplicate key is translated to
//     ReasonEmailTaken, ReasonUserNameTaken, ReasonExternalIDTaken or
//     ReasonSlugTaken. Addresses unique across tenants: the claims above
//     (ReasonEmailTakenElsewhere).
//   - A password written with a member: the hash is a field of the member
//     document, set by the same insert or conditional update (see
//     "Passwords").
//   - No member outlives its tenant: every create leaves an intent on the
//     tenant first, which DeleteTenant voids (see "Deleting a tenant").
//
// Round trips: GetTenant, GetMember, GetMemberBy,
// GetMemberWithPasswordHash, UpdateMember (with or without a password),
// DeleteMember (the two a findAndModify each, returning the member as it
// was), UpdateTenant, AdjustExtraSeats, SetOwner, CountMembers,
// EmailInOtherTenant, AppendAudit and every page of ListMembers,
// ListTenants and ListAudit are one command each, at any page depth (range
// queries on _id, never skips), except the filters answered in part in Go
// (see "Filters"). CreateMember is two (take the seat, or leave a create
// intent when the member takes none, conditional on the tenant's version
// and on no deletion having started; insert, with the password hash). A write that takes a seat adds one (the
// take); one that gives a seat back adds two (the release intent before
// the member step, the seat given back after it: one more than a bare
// give-back, the price of a recount that is safe beside live traffic; see
// "Seats"). About one seat take in pruneAt (32) adds two more, to prune
// intents; about one create without a seat in pruneAt adds two or three
// (three when it voids old create intents). GetCredentials and DeleteCredentials are two (the member
// document and the credentials document); PutCredentials is one. Refusals
// may cost one more read to tell "not found" from "changed" or to name the
// violated index, and one more to give a seat back. RecountSeats with
// nothing to repair is three (read the tenant, count, delete old
// placeholders); with intents to settle, a find of their members, a write
// per write it voids and the final conditional write. For the HR sync
// ([sdk.BulkMemberStore]) CreateMembers costs three commands per batch of
// one tenant (take the seats, one unordered insertMany, remove the
// intents of the members inserted), plus a read of the tenant when seats
// are short or the writes name different tenant versions, and AppendAudits
// one. GlobalEmail adds
// the claim to a create, an update and a CreateTenant (one command; an
// insertMany for a whole CreateMembers batch), and the release of the
// claim a member leaves to an update or a delete (one command); a write
// without GlobalEmail of a member that held no claim costs nothing more.
// CreateTenant is three (tenant, owner, unset pendingOwner). DeleteTenant
// is nine or ten (see "Deleting a tenant").
// [CommandCounter] measures all this.
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
// # Migrations
//
// Open also drops indexes of earlier versions that are no longer wanted
// (globalEmailKey_unique: see "Addresses unique across tenants"), one
// dropIndexes each when present, nothing otherwise.
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
// # Seats
//
// The counter (seatsUsed, seatsFree) moves in the same command as the seat
// step of a member write, and the member step follows: a seat is taken
// before the member is written and given back after. So a crash between
// the two leaves the counter too high, never too low, and RecountSeats
// ([sdk.Client.Reconcile]) repairs it. RecountSeats must also be safe
// beside live traffic: a write whose seat step is done and whose member
// step is in flight must be neither counted twice nor lost. For that the
// tenant keeps intents, each a token "<member id>/<nonce>" (the nonce so
// that two writes of one member in flight each remove their own), and
// seatOps, incremented by every seat step:
//
//   - Take (CreateMember, UpdateMember with SeatTake, each member of
//     CreateMembers that takes one): the conditional findAndModify that
//     takes the seat also does $inc seatOps and $push seatTakes: token (for
//     a batch, $each), returning the tenant. Then the member write. When
//     the server refuses it, the seat goes back with updateOne({_id,
//     seatTakes: token}, {$inc: {seatsUsed: -1, seatsFree: 1, seatOps: 1},
//     $pullAll: {seatTakes: [token]}}), conditional on the intent, so a
//     seat a recount accounted for is never given back twice. When it
//     succeeds the intent stays; when the tenant the take returned shows
//     pruneAt or more take intents, the write finds which of them have
//     landed (the member exists in a state holding a seat under the
//     tenant's settings) and pulls those, without moving seatOps.
//     CreateMembers pulls the intents of the members it inserted at once.
//   - Create without a seat (CreateMember with SeatKeep, each member of
//     CreateMembers that takes none): a findAndModify that moves no seat
//     and leaves seatOps alone, {$push: {creates: token}} ({$each} for a
//     batch, in the same command as the batch's take), conditional like a
//     take on the tenant (its version, not marked deleting), so that
//     DeleteTenant knows every create in flight (see "Deleting a
//     tenant"); it replaces the read that checked the tenant's version.
//     Its token is "<member id>/<time>.<nonce>", the time in milliseconds
//     in base 36. A refused insert pulls its intent; one that landed leaves
//     it, and when the tenant the step returned shows pruneAt or more
//     create intents, the write reads their members and pulls those that
//     exist (landed, or an id that can never land here), and those whose
//     member is missing and that are older than createGrace (a minute),
//     after voiding their writes with placeholders (one insertMany): a
//     crashed write, a member deleted since, or a write stuck that long.
//     Younger ones stay: their inserts may be on the way. CreateMembers
//     pulls the intents of the members it inserted or that were refused.
//     RecountSeats ignores create intents: they hold no seat.
//   - Release (UpdateMember and DeleteMember with SeatRelease):
//     findAndModify {$push: {seatReleases: token}, $inc: {seatOps: 1}}; the
//     member write; then, conditional on the intent, {$inc: {seatsUsed: -1,
//     seatsFree: 1, seatOps: 1}, $pullAll: {seatReleases: [token]}} when it
//     succeeded, {$pullAll: ..., $inc: {seatOps: 1}} when the server
//     refused it. A release that succeeded also pulls the member's take
//     intents the findAndModify returned: a member that holds no seat (or
//     is gone) would keep them forever, as no prune takes them as landed.
//   - RecountSeats: up to five attempts of: read the tenant (c = seatsUsed,
//     o = seatOps, T and R its intents). Settle each take intent's member:
//     missing — void the write by inserting a placeholder under its id
//     (the create's insert then fails on _id; when the placeholder insert
//     fails instead, the member has just landed: read it again); holding a
//     seat — landed; not holding one (an update in flight) — void it by
//     bumping its version, updateOne({_id, tenantId, version: v}, {$inc:
//     {version: 1}}), which fails the update (matched nothing: read it
//     again). Settle each release intent's member: missing or not holding —
//     landed; still holding — void the write in flight by the same bump.
//     Count the members holding a seat (M), then updateOne({_id, seatOps:
//     o, includedSeats, extraSeats}, {$set: {seatsUsed: M, seatsFree},
//     $pullAll: {seatTakes: T, seatReleases: R}, $inc: {seatOps: 1}}).
//     When it matches nothing a seat moved meanwhile: try again; after the
//     fifth attempt give up with ReasonVersionMismatch, having lowered
//     nothing. Return the tenant and c.
//
// Why the count holds: every write whose seat step came after the read
// moved seatOps, so the final write fails; every intent of T and R was
// settled before the count, so the member it concerns is counted exactly
// as it ends up (a voided write cannot land, a landed one is in M), and
// its own later give-back finds the intent pulled and does nothing. A
// create that meets a placeholder fails with ReasonVersionMismatch (the
// SDK retries under a new id) and gives its seat back, conditional on its
// intent like any give-back (a no-op once the recount pulled it; before
// that it moves seatOps, and the recount counts again); an update or
// delete a bump voided fails with ReasonVersionMismatch like any stale
// write. Claimants of an address void writes the same way (see
// "Addresses unique across tenants").
// Placeholders have another tenantId, so no read of a tenant's members
// returns them, nor does EmailInOtherTenant; RecountSeats deletes those of
// the tenant older than 24 hours (never younger ones: a very slow insert
// could still land after the recount that voided it). A failure without a
// definite answer from the server (network, timeout) leaves the intent for
// a recount to settle.
//
// Two writes of one member in flight at once, one of which lands, may
// leave the counter one too high until the next recount (a prune takes
// the other's intent as landed); never too low.
//
// Every seat step of a tenant marked deleting matches nothing and answers
// CodeNotFound with ReasonTenantDeleting (read from the tenant, as the
// version is), and so does RecountSeats. So an intent removed from the
// tenant is always one whose write has landed, was refused or was voided,
// and the intents name every create that may still insert a member.
//
// # Deleting a tenant
//
// [Store.DeleteTenant] cannot delete a tenant and what it holds in one
// atomic step, and member writes of the tenant may be in flight: a create
// whose seat step came before the deletion may insert its member after the
// deletion swept the members. It deletes in five steps, which a second
// call repeats from the start after a crash:
//
//  1. Mark: findAndModify({_id, $or: [{version: expected}, {deleting:
//     true}]}, {$set: {deleting: true}, $inc: {version: 1}}), returning the
//     tenant after it. From then on every seat step of the tenant is
//     refused (see "Seats"), so its seatTakes, its creates and its
//     pendingOwner (a CreateTenant that has not inserted its owner, or
//     whose repair by RecountSeats may insert it) name every member that
//     may still be inserted.
//  2. deleteMany({$or: [{tenantId}, {tenantId: "\x00void:" + tenantId,
//     voidedAt older than 24 hours}]}): the members, and the tenant's old
//     placeholders, as a recount drops them.
//  3. Void every member id step 1 found, with a placeholder (one
//     unordered insertMany), so that an insert in flight fails on its _id
//     as one a recount voided. An id that is taken holds a placeholder
//     already, a member of another tenant, or a member that landed
//     between steps 2 and 3: deleteMany({_id: {$in: ids}, tenantId})
//     deletes the last kind, and their placeholders are inserted again (at
//     most five rounds). Voiding after the members are gone, not before,
//     also stops the recount's repair of an unfinished CreateTenant: the
//     placeholder takes the owner's id once the owner is deleted. The
//     placeholders stay as tombstones: deleting them would let a late
//     insert land. There are as many as the intents step 1 found (those
//     not pruned yet: usually fewer than pruneAt of each kind), nothing
//     reads them (tenant ids are never reused), and no recount of the
//     tenant will ever drop them.
//  4. deleteMany({tenantId}) on emailclaims, credentials, invitations,
//     groups, tokens and audit. Claims go after step 3, so the claim of a
//     member step 3 deleted goes too. A claim made later belongs to a write
//     that the mark refuses, and that write removes it (after a crash, the
//     next claimant takes it over; see "Addresses unique across tenants").
//  5. deleteOne({_id, deleting: true}).
//
// Nine commands, ten when step 1 found intents (more only when members
// land between steps 2 and 3); a refused deletion costs one read more, to
// tell an unknown tenant from a stale version. Until step 5 the tenant
// reads with Deleting set, and the SDK answers ReasonTenantDeleting for
// it. Writes that create no member and decided on the tenant before the
// mark (CreateGroup, CreateInvitation, CreateToken, PutCredentials,
// AppendAudit) are not conditional on the tenant: one that lands after
// step 4 leaves a document no read reaches, as tenant ids are never
// reused.
//
// # Crash windows and their repair
//
// Where an operation is two writes, they are ordered so that a crash in
// between errs on the safe side, and [sdk.Client.Reconcile] (which calls
// [Store.RecountSeats]) repairs what is left:
//
//   - Member writes: a crash after the seat step leaves the counter too
//     high (after a take, or after a member step that gave a seat back) or
//     as it was (after a release intent, before the member step), with an
//     intent the recount settles.
//   - CreateTenant inserts the tenant with a copy of the owner member
//     (pendingOwner), then the owner member, then removes the copy. A crash
//     after the first write leaves a tenant without its owner member: the
//     recount inserts the owner from the copy (only while that member is
//     still the tenant's owner: an owner cannot be removed, so a missing
//     owner can only be an unfinished creation) and removes the copy. A
//     crash after the second leaves only the copy, which it removes.
//   - Ownership transfer: SetOwner switches ownerId in one write, so there
//     is never zero or two owners; the SDK moves the roles around it, and
//     Reconcile's role repair finishes a transfer a crash interrupted.
//   - Addresses unique across tenants: a crash after a claim and before
//     its member write leaves a claim whose member does not hold the
//     address; one after a member write and before the release of the
//     claim it left leaves the old claim. Neither refuses anyone for long:
//     the next claimant of the address waits claimGrace, voids the write
//     (which, crashed, will never come) and takes the claim over. A crash
//     between CreateTenant's tenant insert and its owner insert leaves the
//     owner pending: claimants count it as holding its address, and the
//     recount inserts it.
//   - DeleteTenant: a crash after any of its steps leaves the tenant
//     marked deleting; the SDK's DeleteTenant by the system actor runs the
//     steps again, whatever the version (see "Deleting a tenant").
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
// and times compare at the second, as ranges on the stored dates. These
// FerretDB behaviours shape the code:
//
//   - FerretDB v1 executes an update or findAndModify as a read followed by
//     a whole-document write, not atomically: concurrent conditional
//     updates of one document can both pass their filter and one overwrite
//     the other (measured: 100 concurrent seat increments left the counter
//     at 7). The store relies on atomic single-document updates and does
//     nothing about it: on FerretDB it must run behind
//     internal/embedded's Serialize, which runs each tenant's writes one
//     at a time, as the tests and the converter of earlier data directories
//     do. (The recount's
//     protocol tests run without it: they take turns, one command at a
//     time.)
//   - Claims are global: two tenants' writes of one address meet on one
//     claim document, which Serialize, locking tenants, does not order.
//     Their inserts and upserts are safe there (a duplicate _id is refused
//     by SQLite itself), and so is the common race, where the loser waits
//     for the winner's member write. Taking over a stale claim (after a
//     crash, or a write stuck past claimGrace) writes to the claim and to
//     the holder's member document outside the holder tenant's lock, where
//     FerretDB's read-then-write updates could interleave with that
//     tenant's own writes: the takeover is as safe as the recount only on
//     MongoDB.
//   - It implements no projection on findAndModify: a seat take returns
//     the whole tenant.
//   - It ignores a $pull condition such as $in: intents and edges are
//     removed with $pullAll.
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
// queries scan: it is a test double, never a production target.
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
