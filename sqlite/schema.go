package sqlite

// schemaV1 is the initial schema (doc.go says what each table, column
// and index is for). Key columns hold the empty string, never NULL, when
// a value is absent; the unique indexes over keys that may be absent are
// partial (WHERE key <> ""), and every query meant to use one repeats that
// term literally, so that SQLite's planner can prove the index applies.
var schemaV1 = []string{
	`CREATE TABLE schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`,

	`CREATE TABLE tenants (
		id             TEXT PRIMARY KEY,
		slug           TEXT NOT NULL UNIQUE,
		version        INTEGER NOT NULL,
		included_seats INTEGER NOT NULL,
		extra_seats    INTEGER NOT NULL,
		seats_used     INTEGER NOT NULL,
		doc            BLOB NOT NULL
	)`,

	`CREATE TABLE members (
		tenant_id     TEXT NOT NULL,
		id            TEXT NOT NULL,
		version       INTEGER NOT NULL,
		email_key     TEXT NOT NULL,
		user_name_key TEXT NOT NULL,
		external_id   TEXT NOT NULL,
		status        TEXT NOT NULL,
		role          TEXT NOT NULL,
		display_key   TEXT NOT NULL,
		given_key     TEXT NOT NULL,
		family_key    TEXT NOT NULL,
		employee_key  TEXT NOT NULL,
		manager_id    TEXT NOT NULL,
		email_item    INTEGER NOT NULL,
		other_emails  TEXT NOT NULL,
		custom        TEXT NOT NULL,
		created_s     INTEGER NOT NULL,
		updated_s     INTEGER NOT NULL,
		global_email  INTEGER NOT NULL,
		doc           BLOB NOT NULL,
		PRIMARY KEY (tenant_id, id)
	) WITHOUT ROWID`,
	`CREATE UNIQUE INDEX members_email ON members(email_key, tenant_id) WHERE email_key <> ''`,
	`CREATE UNIQUE INDEX members_user_name ON members(tenant_id, user_name_key) WHERE user_name_key <> ''`,
	`CREATE UNIQUE INDEX members_external_id ON members(tenant_id, external_id) WHERE external_id <> ''`,
	`CREATE UNIQUE INDEX members_global_email ON members(email_key) WHERE global_email = 1 AND email_key <> ''`,
	`CREATE INDEX members_status ON members(tenant_id, status, id)`,
	`CREATE INDEX members_employee ON members(tenant_id, employee_key, id) WHERE employee_key <> ''`,

	`CREATE TABLE member_emails (
		tenant_id TEXT NOT NULL,
		value_key TEXT NOT NULL,
		member_id TEXT NOT NULL,
		PRIMARY KEY (tenant_id, value_key, member_id)
	) WITHOUT ROWID`,

	`CREATE TABLE credentials (
		tenant_id      TEXT NOT NULL,
		member_id      TEXT NOT NULL,
		password_hash  TEXT NOT NULL,
		totp_secret    TEXT NOT NULL,
		totp_pending   TEXT NOT NULL,
		totp_last_step INTEGER NOT NULL,
		updated_at     TEXT NOT NULL,
		PRIMARY KEY (tenant_id, member_id)
	) WITHOUT ROWID`,

	`CREATE TABLE groups (
		tenant_id   TEXT NOT NULL,
		id          TEXT NOT NULL,
		version     INTEGER NOT NULL,
		name_key    TEXT NOT NULL,
		display_key TEXT NOT NULL,
		external_id TEXT NOT NULL,
		role        TEXT NOT NULL,
		created_s   INTEGER NOT NULL,
		updated_s   INTEGER NOT NULL,
		doc         BLOB NOT NULL,
		PRIMARY KEY (tenant_id, id)
	) WITHOUT ROWID`,
	`CREATE UNIQUE INDEX groups_name ON groups(tenant_id, name_key)`,
	`CREATE UNIQUE INDEX groups_external_id ON groups(tenant_id, external_id) WHERE external_id <> ''`,

	`CREATE TABLE edges (
		tenant_id TEXT NOT NULL,
		group_id  TEXT NOT NULL,
		member_id TEXT NOT NULL,
		PRIMARY KEY (tenant_id, group_id, member_id)
	) WITHOUT ROWID`,
	`CREATE INDEX edges_member ON edges(tenant_id, member_id, group_id)`,

	`CREATE TABLE invitations (
		tenant_id  TEXT NOT NULL,
		id         TEXT NOT NULL,
		member_id  TEXT NOT NULL,
		state      TEXT NOT NULL,
		expires_ns INTEGER NOT NULL,
		version    INTEGER NOT NULL,
		doc        BLOB NOT NULL,
		PRIMARY KEY (tenant_id, id)
	) WITHOUT ROWID`,
	`CREATE INDEX invitations_member ON invitations(tenant_id, member_id, id)`,
	`CREATE INDEX invitations_state ON invitations(tenant_id, state, id)`,

	`CREATE TABLE tokens (
		tenant_id TEXT NOT NULL,
		id        TEXT NOT NULL,
		hash      TEXT NOT NULL,
		doc       BLOB NOT NULL,
		PRIMARY KEY (tenant_id, id)
	) WITHOUT ROWID`,
	`CREATE UNIQUE INDEX tokens_hash ON tokens(tenant_id, hash)`,

	`CREATE TABLE audit (
		tenant_id TEXT NOT NULL,
		id        TEXT NOT NULL,
		time_ns   INTEGER NOT NULL,
		actor_id  TEXT NOT NULL,
		target_id TEXT NOT NULL,
		action    TEXT NOT NULL,
		doc       BLOB NOT NULL,
		PRIMARY KEY (tenant_id, id)
	) WITHOUT ROWID`,
	`CREATE INDEX audit_actor ON audit(tenant_id, actor_id, id)`,
	`CREATE INDEX audit_target ON audit(tenant_id, target_id, id)`,
	`CREATE INDEX audit_action ON audit(tenant_id, action, id)`,
	`CREATE INDEX audit_time ON audit(tenant_id, time_ns)`,

	// The planner's statistics, written by hand (see doc.go, "Query
	// plans"): the shape of a large deployment, so that SQLite picks the
	// same index whatever the data, for a tenant of ten members as of a
	// million. ANALYZE creates sqlite_stat1; the last statement reloads
	// it.
	`ANALYZE`,
	`DELETE FROM sqlite_stat1`,
	`INSERT INTO sqlite_stat1(tbl, idx, stat) VALUES
		('tenants', 'sqlite_autoindex_tenants_1', '1000 1'),
		('tenants', 'sqlite_autoindex_tenants_2', '1000 1'),
		('members', 'sqlite_autoindex_members_1', '1000000 100000 1'),
		('members', 'members_email', '1000000 1 1'),
		('members', 'members_user_name', '1000000 100000 1'),
		('members', 'members_external_id', '1000000 100000 1'),
		('members', 'members_global_email', '100000 1'),
		('members', 'members_status', '1000000 100000 30000 1'),
		('members', 'members_employee', '1000000 100000 1 1'),
		('member_emails', 'sqlite_autoindex_member_emails_1', '100000 10000 1 1'),
		('credentials', 'sqlite_autoindex_credentials_1', '1000000 100000 1'),
		('groups', 'sqlite_autoindex_groups_1', '100000 10000 1'),
		('groups', 'groups_name', '100000 10000 1'),
		('groups', 'groups_external_id', '100000 10000 1'),
		('edges', 'sqlite_autoindex_edges_1', '10000000 1000000 1000 1'),
		('edges', 'edges_member', '10000000 1000000 5 1'),
		('invitations', 'sqlite_autoindex_invitations_1', '100000 10000 1'),
		('invitations', 'invitations_member', '100000 10000 1 1'),
		('invitations', 'invitations_state', '100000 10000 3000 1'),
		('tokens', 'sqlite_autoindex_tokens_1', '10000 10 1'),
		('tokens', 'tokens_hash', '10000 10 1'),
		('audit', 'sqlite_autoindex_audit_1', '10000000 1000000 1'),
		('audit', 'audit_actor', '10000000 1000000 100 1'),
		('audit', 'audit_target', '10000000 1000000 10 1'),
		('audit', 'audit_action', '10000000 1000000 50000 1'),
		('audit', 'audit_time', '10000000 1000000 1')`,
	`ANALYZE sqlite_schema`,
}
