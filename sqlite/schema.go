package sqlite

// schemaV1 is the initial schema (see doc.go for what each table, column
// and index is for). Key columns hold ” rather than NULL when a value is
// absent; the unique indexes over keys that may be absent are partial
// (WHERE key <> ”), and every query meant to use one repeats that term
// literally so that SQLite's planner can prove the index applies.
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
		created_s     INTEGER NOT NULL,
		updated_s     INTEGER NOT NULL,
		global_email  INTEGER NOT NULL,
		doc           BLOB NOT NULL
	)`,
	`CREATE UNIQUE INDEX members_id ON members(tenant_id, id)`,
	`CREATE UNIQUE INDEX members_email ON members(tenant_id, email_key) WHERE email_key <> ''`,
	`CREATE UNIQUE INDEX members_user_name ON members(tenant_id, user_name_key) WHERE user_name_key <> ''`,
	`CREATE UNIQUE INDEX members_external_id ON members(tenant_id, external_id) WHERE external_id <> ''`,
	`CREATE UNIQUE INDEX members_global_email ON members(email_key) WHERE global_email = 1 AND email_key <> ''`,
	`CREATE INDEX members_email_tenant ON members(email_key, tenant_id)`,
	`CREATE INDEX members_status ON members(tenant_id, status, id)`,
	`CREATE INDEX members_role ON members(tenant_id, role, id)`,
	`CREATE INDEX members_employee ON members(tenant_id, employee_key, id)`,

	`CREATE TABLE member_emails (
		tenant_id TEXT NOT NULL,
		member_id TEXT NOT NULL,
		value_key TEXT NOT NULL,
		PRIMARY KEY (tenant_id, member_id, value_key)
	) WITHOUT ROWID`,
	`CREATE INDEX member_emails_value ON member_emails(tenant_id, value_key, member_id)`,

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
		doc         BLOB NOT NULL
	)`,
	`CREATE UNIQUE INDEX groups_id ON groups(tenant_id, id)`,
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
		doc        BLOB NOT NULL
	)`,
	`CREATE UNIQUE INDEX invitations_id ON invitations(tenant_id, id)`,
	`CREATE INDEX invitations_member ON invitations(tenant_id, member_id, id)`,
	`CREATE INDEX invitations_state ON invitations(tenant_id, state, id)`,

	`CREATE TABLE tokens (
		tenant_id TEXT NOT NULL,
		id        TEXT NOT NULL,
		hash      TEXT NOT NULL,
		doc       BLOB NOT NULL
	)`,
	`CREATE UNIQUE INDEX tokens_id ON tokens(tenant_id, id)`,
	`CREATE UNIQUE INDEX tokens_hash ON tokens(tenant_id, hash)`,

	`CREATE TABLE audit (
		tenant_id TEXT NOT NULL,
		id        TEXT NOT NULL,
		time_ns   INTEGER NOT NULL,
		actor_id  TEXT NOT NULL,
		target_id TEXT NOT NULL,
		action    TEXT NOT NULL,
		doc       BLOB NOT NULL
	)`,
	`CREATE UNIQUE INDEX audit_id ON audit(tenant_id, id)`,
	`CREATE INDEX audit_actor ON audit(tenant_id, actor_id, id)`,
	`CREATE INDEX audit_target ON audit(tenant_id, target_id, id)`,
	`CREATE INDEX audit_action ON audit(tenant_id, action, id)`,
	`CREATE INDEX audit_time ON audit(tenant_id, time_ns)`,
}
