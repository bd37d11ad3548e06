package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// query names a prepared statement of the store.
type query int

// The statements the store prepares once, at Open: the ones every hot path
// runs. Reads run on the pooled read connections, writes inside a
// transaction of the write connection (see [Store.write]).
const (
	// Tenants.
	qTenantGet query = iota
	qTenantBySlug
	qTenantSeats
	qTenantInsert
	qTenantUpdate
	qTenantUsed
	qTenantSlugExists
	qTenantUpsert
	// Members.
	qMemberGet
	qMemberWithHash
	qMemberByEmail
	qMemberByUserName
	qMemberByExternalID
	qMemberInsert
	qMemberUpdate
	qMemberUpsert
	qMemberDelete
	qMemberVersion
	qMemberOthers
	qMemberIDTaken
	qMemberEmailTaken
	qMemberUserNameTaken
	qMemberExternalIDTaken
	qMemberGlobalTaken
	qMemberElsewhere
	qMemberEmailDelete
	qMemberEmailInsert
	qMemberCountStatus
	// Credentials.
	qCredGet
	qCredSetHash
	qCredPutTOTP
	qCredDelete
	qCredAdvance
	qCredUpsert
	// Audit.
	qAuditInsert
	qAuditUpsert
	// Groups and edges.
	qGroupGet
	qGroupInsert
	qGroupUpdate
	qGroupUpsert
	qGroupTouch
	qGroupDelete
	qGroupEdgesDelete
	qGroupNameTaken
	qGroupExternalIDTaken
	qGroupIDTaken
	qEdgeInsert
	qEdgeDelete
	qEdgeMembers
	qEdgesOfMember
	// Invitations.
	qInvGet
	qInvByMember
	qInvInsert
	qInvUpdate
	qInvUpsert
	qInvExists
	// Tokens.
	qTokenByHash
	qTokenList
	qTokenInsert
	qTokenDelete
	qTokenTouch
	qTokenHashTaken
	qTokenUpsert

	numQueries
)

// onWriter and onReader mark the statements prepared on the write
// connection and on the read connections: point reads are on both (see
// [Store.read]).
var onWriter, onReader = map[query]bool{}, map[query]bool{}

// sqlText is the text of each prepared statement.
var sqlText = [numQueries]string{}

func init() {
	r := func(q query, text string) { sqlText[q] = text; onReader[q] = true }
	w := func(q query, text string) { sqlText[q] = text; onWriter[q] = true }
	p := func(q query, text string) { r(q, text); w(q, text) }

	const tenantCols = `doc, seats_used`
	p(qTenantGet, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`)
	p(qTenantBySlug, `SELECT `+tenantCols+` FROM tenants WHERE slug = ?`)
	w(qTenantSeats, `SELECT version, included_seats + extra_seats, seats_used FROM tenants WHERE id = ?`)
	w(qTenantInsert, `INSERT INTO tenants(id, slug, version, included_seats, extra_seats, seats_used, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	w(qTenantUpdate, `UPDATE tenants SET version = ?, included_seats = ?, extra_seats = ?, seats_used = ?, doc = ? WHERE id = ?`)
	w(qTenantUsed, `UPDATE tenants SET seats_used = max(0, seats_used + ?) WHERE id = ?`)
	w(qTenantSlugExists, `SELECT count(*) FROM tenants WHERE slug = ?`)
	w(qTenantUpsert, `INSERT INTO tenants(id, slug, version, included_seats, extra_seats, seats_used, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET slug = excluded.slug, version = excluded.version, included_seats = excluded.included_seats,
		extra_seats = excluded.extra_seats, seats_used = excluded.seats_used, doc = excluded.doc`)

	const memberCols = `tenant_id, id, version, email_key, user_name_key, external_id, status, role,
		display_key, given_key, family_key, employee_key, manager_id, email_item, other_emails, custom,
		created_s, updated_s, global_email, doc`
	const memberVals = `?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`
	p(qMemberGet, `SELECT doc FROM members WHERE tenant_id = ? AND id = ?`)
	p(qMemberWithHash, `SELECT m.doc, coalesce(c.password_hash, '') FROM members m
		LEFT JOIN credentials c ON c.tenant_id = m.tenant_id AND c.member_id = m.id
		WHERE m.tenant_id = ? AND m.id = ?`)
	p(qMemberByEmail, `SELECT doc FROM members WHERE tenant_id = ?1 AND email_key = ?2 AND email_key <> ''`)
	p(qMemberByUserName, `SELECT doc FROM members WHERE tenant_id = ?1 AND user_name_key = ?2 AND user_name_key <> ''`)
	p(qMemberByExternalID, `SELECT doc FROM members WHERE tenant_id = ?1 AND external_id = ?2 AND external_id <> ''`)
	w(qMemberInsert, `INSERT INTO members(`+memberCols+`) VALUES (`+memberVals+`)`)
	// The arguments of qMemberUpdate are those of qMemberInsert followed
	// by the expected version.
	w(qMemberUpdate, `UPDATE members SET version = ?3, email_key = ?4, user_name_key = ?5, external_id = ?6,
		status = ?7, role = ?8, display_key = ?9, given_key = ?10, family_key = ?11, employee_key = ?12,
		manager_id = ?13, email_item = ?14, other_emails = ?15, custom = ?16, created_s = ?17, updated_s = ?18,
		global_email = ?19, doc = ?20
		WHERE tenant_id = ?1 AND id = ?2 AND version = ?21`)
	w(qMemberUpsert, `INSERT INTO members(`+memberCols+`) VALUES (`+memberVals+`)
		ON CONFLICT(tenant_id, id) DO UPDATE SET version = excluded.version, email_key = excluded.email_key,
		user_name_key = excluded.user_name_key, external_id = excluded.external_id, status = excluded.status,
		role = excluded.role, display_key = excluded.display_key, given_key = excluded.given_key,
		family_key = excluded.family_key, employee_key = excluded.employee_key, manager_id = excluded.manager_id,
		email_item = excluded.email_item, other_emails = excluded.other_emails, custom = excluded.custom, created_s = excluded.created_s, updated_s = excluded.updated_s, global_email = excluded.global_email,
		doc = excluded.doc`)
	w(qMemberDelete, `DELETE FROM members WHERE tenant_id = ? AND id = ? AND version = ? RETURNING other_emails`)
	w(qMemberVersion, `SELECT version, other_emails FROM members WHERE tenant_id = ? AND id = ?`)
	w(qMemberOthers, `SELECT other_emails FROM members WHERE tenant_id = ? AND id = ?`)
	w(qMemberIDTaken, `SELECT count(*) FROM members WHERE tenant_id = ?1 AND id = ?2`)
	w(qMemberEmailTaken, `SELECT count(*) FROM members WHERE tenant_id = ?1 AND email_key = ?2 AND email_key <> '' AND id <> ?3`)
	w(qMemberUserNameTaken, `SELECT count(*) FROM members WHERE tenant_id = ?1 AND user_name_key = ?2 AND user_name_key <> '' AND id <> ?3`)
	w(qMemberExternalIDTaken, `SELECT count(*) FROM members WHERE tenant_id = ?1 AND external_id = ?2 AND external_id <> '' AND id <> ?3`)
	w(qMemberGlobalTaken, `SELECT count(*) FROM members WHERE email_key = ?2 AND global_email = 1 AND email_key <> ''
		AND NOT (tenant_id = ?1 AND id = ?3)`)
	r(qMemberElsewhere, `SELECT EXISTS (SELECT 1 FROM members WHERE email_key = ?2 AND email_key <> '' AND tenant_id <> ?1)`)
	w(qMemberEmailDelete, `DELETE FROM member_emails WHERE tenant_id = ? AND value_key = ? AND member_id = ?`)
	w(qMemberEmailInsert, `INSERT OR IGNORE INTO member_emails(tenant_id, value_key, member_id) VALUES (?, ?, ?)`)
	w(qMemberCountStatus, `SELECT count(*) FROM members WHERE tenant_id = ? AND status = ?`)

	p(qCredGet, `SELECT password_hash, totp_secret, totp_pending, totp_last_step, updated_at FROM credentials WHERE tenant_id = ? AND member_id = ?`)
	w(qCredSetHash, `INSERT INTO credentials(tenant_id, member_id, password_hash, totp_secret, totp_pending, totp_last_step, updated_at)
		VALUES (?1, ?2, ?3, '', '', 0, ?4)
		ON CONFLICT(tenant_id, member_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at`)
	w(qCredPutTOTP, `INSERT INTO credentials(tenant_id, member_id, password_hash, totp_secret, totp_pending, totp_last_step, updated_at)
		VALUES (?1, ?2, '', ?3, ?4, ?5, ?6)
		ON CONFLICT(tenant_id, member_id) DO UPDATE SET totp_secret = excluded.totp_secret, totp_pending = excluded.totp_pending,
		totp_last_step = excluded.totp_last_step, updated_at = excluded.updated_at`)
	w(qCredDelete, `DELETE FROM credentials WHERE tenant_id = ? AND member_id = ?`)
	w(qCredAdvance, `UPDATE credentials SET totp_last_step = ?3 WHERE tenant_id = ?1 AND member_id = ?2 AND totp_last_step < ?3`)
	w(qCredUpsert, `INSERT INTO credentials(tenant_id, member_id, password_hash, totp_secret, totp_pending, totp_last_step, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(tenant_id, member_id) DO UPDATE SET password_hash = excluded.password_hash, totp_secret = excluded.totp_secret,
		totp_pending = excluded.totp_pending, totp_last_step = excluded.totp_last_step, updated_at = excluded.updated_at`)

	const auditCols = `tenant_id, id, time_ns, actor_id, target_id, action, doc`
	w(qAuditInsert, `INSERT INTO audit(`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	w(qAuditUpsert, `INSERT INTO audit(`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(tenant_id, id) DO UPDATE SET time_ns = excluded.time_ns, actor_id = excluded.actor_id,
		target_id = excluded.target_id, action = excluded.action, doc = excluded.doc`)

	const groupCols = `tenant_id, id, version, name_key, display_key, external_id, role, created_s, updated_s, doc`
	p(qGroupGet, `SELECT doc FROM groups WHERE tenant_id = ? AND id = ?`)
	w(qGroupInsert, `INSERT INTO groups(`+groupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	w(qGroupUpdate, `UPDATE groups SET version = ?3, name_key = ?4, display_key = ?5, external_id = ?6, role = ?7,
		created_s = ?8, updated_s = ?9, doc = ?10 WHERE tenant_id = ?1 AND id = ?2`)
	w(qGroupUpsert, `INSERT INTO groups(`+groupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(tenant_id, id) DO UPDATE SET version = excluded.version, name_key = excluded.name_key,
		display_key = excluded.display_key,
		external_id = excluded.external_id, role = excluded.role, created_s = excluded.created_s,
		updated_s = excluded.updated_s, doc = excluded.doc`)
	w(qGroupTouch, `UPDATE groups SET version = ?3, updated_s = ?4, doc = ?5 WHERE tenant_id = ?1 AND id = ?2`)
	w(qGroupDelete, `DELETE FROM groups WHERE tenant_id = ? AND id = ?`)
	w(qGroupEdgesDelete, `DELETE FROM edges WHERE tenant_id = ? AND group_id = ?`)
	w(qGroupNameTaken, `SELECT count(*) FROM groups WHERE tenant_id = ?1 AND name_key = ?2 AND id <> ?3`)
	w(qGroupExternalIDTaken, `SELECT count(*) FROM groups WHERE tenant_id = ?1 AND external_id = ?2 AND external_id <> '' AND id <> ?3`)
	w(qGroupIDTaken, `SELECT count(*) FROM groups WHERE tenant_id = ? AND id = ?`)
	w(qEdgeInsert, `INSERT OR IGNORE INTO edges(tenant_id, group_id, member_id) VALUES (?, ?, ?)`)
	w(qEdgeDelete, `DELETE FROM edges WHERE tenant_id = ? AND group_id = ? AND member_id = ?`)
	r(qEdgeMembers, `SELECT member_id FROM edges WHERE tenant_id = ? AND group_id = ? AND member_id > ? ORDER BY member_id LIMIT ?`)
	r(qEdgesOfMember, `SELECT group_id FROM edges WHERE tenant_id = ? AND member_id = ? ORDER BY group_id`)

	const invCols = `tenant_id, id, member_id, state, expires_ns, version, doc`
	p(qInvGet, `SELECT doc FROM invitations WHERE tenant_id = ? AND id = ?`)
	r(qInvByMember, `SELECT doc FROM invitations WHERE tenant_id = ? AND member_id = ? ORDER BY id DESC LIMIT 1`)
	w(qInvInsert, `INSERT INTO invitations(`+invCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	w(qInvUpdate, `UPDATE invitations SET member_id = ?3, state = ?4, expires_ns = ?5, version = ?6, doc = ?7
		WHERE tenant_id = ?1 AND id = ?2 AND version = ?8`)
	w(qInvUpsert, `INSERT INTO invitations(`+invCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(tenant_id, id) DO UPDATE SET member_id = excluded.member_id, state = excluded.state,
		expires_ns = excluded.expires_ns, version = excluded.version, doc = excluded.doc`)

	w(qInvExists, `SELECT count(*) FROM invitations WHERE tenant_id = ? AND id = ?`)

	p(qTokenByHash, `SELECT doc FROM tokens WHERE tenant_id = ? AND hash = ?`)
	r(qTokenList, `SELECT doc FROM tokens WHERE tenant_id = ? ORDER BY id`)
	w(qTokenInsert, `INSERT INTO tokens(tenant_id, id, hash, doc) VALUES (?, ?, ?, ?)`)
	w(qTokenDelete, `DELETE FROM tokens WHERE tenant_id = ? AND id = ?`)
	w(qTokenTouch, `SELECT doc FROM tokens WHERE tenant_id = ? AND id = ?`)
	w(qTokenHashTaken, `SELECT count(*) FROM tokens WHERE tenant_id = ? AND hash = ?`)
	w(qTokenUpsert, `INSERT INTO tokens(tenant_id, id, hash, doc) VALUES (?, ?, ?, ?)
		ON CONFLICT(tenant_id, id) DO UPDATE SET hash = excluded.hash, doc = excluded.doc`)
}

// stmts are the prepared statements, indexed by query: r's on the read
// connections, w's on the write connection.
type stmts struct{ r, w [numQueries]*sql.Stmt }

// prepare prepares every statement of sqlText on its connections.
func prepare(ctx context.Context, w, r *sql.DB) (*stmts, error) {
	st := new(stmts)
	for q, text := range sqlText {
		if text == "" {
			return nil, fmt.Errorf("sqlite: statement %d has no text", q)
		}
		for _, on := range []struct {
			db   *sql.DB
			want bool
			into *[numQueries]*sql.Stmt
		}{{r, onReader[query(q)], &st.r}, {w, onWriter[query(q)], &st.w}} {
			if !on.want {
				continue
			}
			p, err := on.db.PrepareContext(ctx, text)
			if err != nil {
				st.close()
				return nil, fmt.Errorf("preparing %.60q: %w", text, err)
			}
			on.into[q] = p
		}
	}
	return st, nil
}

func (st *stmts) close() error {
	var errs []error
	for _, p := range append(st.r[:], st.w[:]...) {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}
