// Package sqlite is Roster's embedded store: the [sdk.Store] on one SQLite
// database file, through the pure-Go driver modernc.org/sqlite (no cgo).
// `roster serve --data DIR` opens DIR/roster.db with it, and the admin
// commands open the same file while a server runs.
//
// Like every store it knows persistence, never policy: the SDK decides
// what may happen and calls the store to make it happen atomically. Unlike
// the mongo store it has transactions, so each store method is exactly one
// SQLite transaction and no invariant needs a repair path.
//
//	s, err := sqlite.Open(ctx, filepath.Join(dir, "roster.db"))
//	...
//	defer s.Close()
//	client := sdk.New(s)
//
// Besides [sdk.Store] it implements [sdk.BulkMemberStore],
// [sdk.MemberScanner] and [sdk.PasswordHashReader]; not
// [sdk.InlineMemberGroups] (a member's groups are one index range away,
// see edges, and carrying them on every read would cost each read that
// range). The Import methods and [Store.Counts] serve the data migration
// (roster migrate), [Store.Backup] the backup command.
//
// # Files
//
// The database is the file given to [Open] and, while it is open, two
// files beside it: NAME-wal (the write-ahead log) and NAME-shm (its index
// in shared memory). Copy a live database with [Store.Backup], never with
// cp. The file identifies itself: PRAGMA application_id is 0x52535452
// ("RSTR") and PRAGMA user_version the schema version.
//
// # Tables
//
// Every per-tenant table's primary key starts with tenant_id, and so does
// every index but two (members_email and members_global_email, whose
// leading column is the address: they answer "is this address used in
// another tenant"). The per-tenant tables are WITHOUT ROWID: a record
// lives in its primary key's b-tree, so reading one by id is one b-tree
// descent, and a page of a list is one range of it. tenants is an
// ordinary table, whose large documents (roles, settings) stay on one
// page, so that a member write's seat update rewrites that page alone. Key
// columns hold the empty string, never NULL, when a value is absent.
//
//	tenants      id (primary key), slug (unique: sqlite_autoindex_tenants_2,
//	             GetTenantBySlug), version, included_seats, extra_seats,
//	             seats_used, doc.
//	             doc is the tenant's JSON. seats_used is the counter member
//	             writes move; reads take SeatsUsed from it. The other
//	             columns are copies of the document's fields, written with
//	             it, that a member write reads without decoding it.
//	members      (tenant_id, id) primary key: GetMember, the pages of
//	             ListMembers and ScanMembers (id > ? ORDER BY id LIMIT ?,
//	             whose cost does not grow with depth);
//	             email_key (sdk.Member.EmailKey), user_name_key, external_id,
//	             status, role, the lower-cased display_key, given_key,
//	             family_key, employee_key, manager_id, created_s and
//	             updated_s (Unix seconds), custom (the custom attributes as
//	             a JSON object), email_item and other_emails (see
//	             member_emails), global_email (1 when the member's latest
//	             write carried sdk.MemberWrite.GlobalEmail), doc.
//	             Indexes:
//	             members_email (email_key, tenant_id) unique where
//	             email_key is not empty: the per-tenant uniqueness of
//	             addresses, GetMemberBy(KeyEmail), filters on email, and
//	             EmailInOtherTenant;
//	             members_user_name (tenant_id, user_name_key) unique where
//	             not empty: GetMemberBy(KeyUserName), userName filters;
//	             members_external_id (tenant_id, external_id) unique where
//	             not empty: GetMemberBy(KeyExternalID), externalId filters;
//	             members_global_email (email_key) unique where global_email
//	             is 1 and email_key not empty: addresses unique across the
//	             tenants that ask for it;
//	             members_status (tenant_id, status, id): pages and counts by
//	             status (and active), RecountSeats;
//	             members_employee (tenant_id, employee_key, id) where
//	             employee_key is not empty: employeeNumber filters.
//	member_emails
//	             (tenant_id, value_key, member_id) primary key: the
//	             lower-cased values of a member's email items other than its
//	             EmailKey. Most members have one address, their EmailKey, and
//	             no row here: email_item says whether one of their items is
//	             that address, and other_emails lists the rows, so a write
//	             that does not change them touches nothing here. A filter
//	             "emails.value eq X" is the members of members_email with
//	             email_item set, and those of this table.
//	credentials  (tenant_id, member_id) primary key; password_hash,
//	             totp_secret, totp_pending, totp_last_step, updated_at. A
//	             member write with a password hash sets password_hash in its
//	             transaction; PutCredentials sets the rest and never the hash.
//	             GetMemberWithPasswordHash joins it to members in one query.
//	groups       (tenant_id, id) primary key; version, name_key (unique per
//	             tenant: groups_name, which also serves displayName eq
//	             filters), display_key, external_id (unique per tenant where
//	             not empty: groups_external_id), role, created_s,
//	             updated_s, doc (JSON).
//	edges        (tenant_id, group_id, member_id) primary key: a group's
//	             members in id order (ListGroupMembers), idempotent adds;
//	             edges_member (tenant_id, member_id, group_id): a member's
//	             groups (ListMemberGroups).
//	invitations  (tenant_id, id) primary key; member_id, state, expires_ns,
//	             version, doc (JSON with the secret hash and resend times).
//	             invitations_member (tenant_id, member_id, id): a member's
//	             newest invitation; invitations_state (tenant_id, state, id):
//	             pages by state.
//	tokens       (tenant_id, id) primary key; hash (unique per tenant:
//	             tokens_hash, GetTokenByHash on every SCIM request), doc.
//	audit        (tenant_id, id) primary key (ids sort by time: newest-first
//	             pages); time_ns, actor_id, target_id, action, doc.
//	             audit_actor, audit_target, audit_action (tenant_id, X, id):
//	             the filtered pages of ListAudit; audit_time (tenant_id,
//	             time_ns): Since and Until.
//	schema_migrations
//	             version, name, applied_at: the migrations applied.
//
// There are no foreign keys (PRAGMA foreign_keys is off): as the contract
// has it, deleting a member leaves its credentials and group edges for the
// SDK to delete (DeleteCredentials, DeleteEdges), and an edge may name a
// member that a concurrent deletion removed until ReconcileGroups runs.
//
// Documents (the doc columns) hold the whole record; the other columns are
// derived from it on every write and exist for indexes and filters. A
// member's document is a compact binary record (record.go: the fields JSON
// would write, by their JSON names, length-prefixed; three times faster to
// read than JSON, which is what a page of a hundred members costs); the
// other documents are the records' JSON. A member's Groups is never stored.
//
// # Query plans
//
// SQLite chooses indexes from statistics. Those in sqlite_stat1 are
// written by the schema, by hand, to describe a large deployment (a
// million members, a hundred thousand per tenant), so that every database
// — the empty one of a test as the large one of a customer — gets the
// plans TestQueryPlans checks: no query of a hot path scans a table. The
// store never runs ANALYZE.
//
// # Transactions and invariants
//
// Each method that writes is one transaction begun with BEGIN IMMEDIATE
// (the DSN's _txlock=immediate): it takes SQLite's write lock before its
// first read, so two writers never both read and then deadlock upgrading
// their locks; the second waits (busy_timeout) and then reads what the
// first wrote. Within it:
//
//   - Seats: a member write reads the tenant's seats (limit, used) and
//     version, inserts or updates the member, and adds its seat change to
//     seats_used; a SeatTake with no seat free is refused and rolled back.
//     CreateMembers reads each tenant's seats once, counts the seats its
//     writes take, and adds them at the end. RecountSeats counts and sets
//     seats_used in one transaction, so it never gives up.
//   - Uniqueness: the unique indexes refuse a duplicate email, userName,
//     externalId, slug, group name or token hash; the store then looks, in
//     the same transaction, for the record holding the key (in the order
//     the memstore checks them) to return the right reason. The GlobalEmail
//     rule is the partial unique index members_global_email: of two writes
//     of one address, the second's insert fails, whichever the process.
//   - Versions: an update reads the stored version and refuses a stale one
//     before it writes.
//   - One owner: SetOwner compares and sets OwnerID in one transaction.
//   - A group and its edges are deleted together; AddGroupMembers checks
//     that each id is a member and adds the edges and the version in one
//     transaction (its cost depends on the ids given, not on the group).
//
// A refused write leaves nothing: CreateMembers, which goes on with the
// next write after a refusal, orders each write so that every check runs
// before anything is written, or is the insert itself (which SQLite undoes
// alone), or undoes the insert (the seat check, which the uniqueness
// checks precede).
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL: a commit appends
// to the WAL without waiting for the disk, and the WAL is synced before
// each checkpoint copies it into the database file. A process killed at
// any point (kill -9, a crash, an OOM kill) loses no committed
// transaction: the WAL is in the operating system's page cache, and the
// next opener recovers from it. A power loss or kernel crash may roll back
// the last transactions committed since the last sync (so a write
// acknowledged just before it may be lost), but never corrupts the
// database and never keeps half a transaction. A background goroutine
// checkpoints every second (PRAGMA wal_checkpoint(PASSIVE), which waits for
// nobody); a commit that finds the WAL above 20,000 pages checkpoints
// itself, and the WAL file is truncated back to 64 MiB after a
// checkpoint. Backup uses VACUUM INTO, which copies one consistent
// snapshot while readers and writers go on.
//
// # Concurrency
//
// Within a process, a Store holds one write connection (writes queue for
// it instead of contending for SQLite's lock) and a pool of read
// connections, each reading a consistent snapshot while a write goes on.
// A point read (a member, a tenant, a token by hash) runs on the write
// connection when no write holds it: SQLite drops a connection's page
// cache whenever another connection has committed, and the write
// connection's survives this process's own writes, so it answers from
// memory; when a write holds it, the read goes to the pool.
//
// Between processes — a server and an admin command, or two servers on one
// data directory — correctness rests on SQLite's locks alone: the WAL's
// shared-memory locks (fcntl) order the writers, and each reader sees a
// snapshot. A writer waits up to the busy timeout ([WithBusyTimeout],
// 10 s by default) for another's transaction; past it the call fails with
// CodeUnknown and a hint. The file must be on a local file system (WAL
// needs shared memory between the processes; not NFS or SMB).
//
// # Schema versions
//
// Open runs the forward migrations this build knows (migrate.go: a list
// of steps, version 1 the initial schema) in one write transaction, which
// another process opening the file at the same moment waits for and then
// finds nothing to do; the migration also sets application_id and
// user_version and records itself in schema_migrations. A failing step
// leaves the database as it was. A database of a newer version than the
// build knows is refused with [ErrNewerSchema], a file that is not a
// Roster database (not SQLite, another application id, or tables of
// another application) with [ErrNotRosterDatabase]; both are left
// untouched, byte for byte (Open reads the header, and asks SQLite through
// an immutable read-only connection, before anything writes).
//
// # Filters
//
// ListMembers and CountMembers translate an [sdk.Cond] into SQL over the
// columns above (where.go). Exact in SQL: id, email, userName, externalId,
// status and active, role, displayName, givenName, familyName,
// employeeNumber, managerId, created and updated, custom attributes, and
// emails.value eq and ne an address; with and, or and not of those. The
// equalities on email, userName, externalId, employeeNumber, emails.value
// and status are served by their index; the others are evaluated in SQL on
// the rows of the tenant in id order, without decoding documents.
//
// Everything else — the other case-insensitive profile fields (title,
// department, nickName, ...: SQLite's lower() folds ASCII only, so the
// store keeps no key for them), the other comparisons of emails.value,
// the sub-attributes of phone numbers and addresses and the other email
// sub-attributes, "pr" on a multi-valued attribute, and "some item"
// (emails[type eq "work" and value eq ...]) — is bounded from above in SQL
// where the condition allows and checked with [sdk.Cond.Match] on the
// decoded members, reading 500 rows at a time in id order until the page
// is full. Such a page's cost grows with the members it skips (a rare
// match scans the tenant), and such a count reads every member the SQL
// bound lets through; a page of an exact filter costs one query of the
// page's size. Group filters are always exact. ListAudit's filters are
// exact; ListInvitations' too.
//
// # Limits
//
// One machine: every process must reach the file through a local file
// system, and SQLite admits one writer at a time (a write transaction here
// takes tens to hundreds of microseconds). A write is bounded by the
// syscalls of its commit (two per page written to the WAL) more than by
// CPU. Ids, keys and documents are limited by SQLite's 1 GB per value,
// far beyond what the SDK validates. To outgrow one machine, migrate to
// the mongo store (roster migrate).
package sqlite
