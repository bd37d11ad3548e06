package sdk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// InvitationState is the lifecycle of an invitation record. An invitation
// is also "expired" when it is pending past ExpiresAt; that is computed,
// never stored.
type InvitationState string

// Invitation states.
const (
	InvitationPending  InvitationState = "pending"
	InvitationAccepted InvitationState = "accepted"
	InvitationRevoked  InvitationState = "revoked"
)

// Invitation is a pending invitation of a member. The invitee's member
// record exists in StatusInvited from the moment of the invitation, so seat
// and email rules apply to pending invitations exactly as to members.
type Invitation struct {
	ID        string          `json:"id"`
	TenantID  string          `json:"tenantId"`
	MemberID  string          `json:"memberId"` // the invited member
	Email     string          `json:"email"`
	Role      string          `json:"role"`
	InviterID string          `json:"inviterId"` // actor id of the inviter
	State     InvitationState `json:"state"`
	// SecretHash is the SHA-256 of the invitation secret. The secret itself
	// is returned once, by Invite or Resend, and never stored.
	SecretHash  []byte    `json:"-"`
	ExpiresAt   time.Time `json:"expiresAt"`
	ResendCount int       `json:"resendCount"`
	// Resends holds the times of recent resends, for rate limiting.
	Resends   []time.Time `json:"-"`
	Version   int64       `json:"version"`
	CreatedAt time.Time   `json:"createdAt"`
	UpdatedAt time.Time   `json:"updatedAt"`
}

// Expired reports whether a pending invitation is past its expiry at now.
func (i *Invitation) Expired(now time.Time) bool {
	return i.State == InvitationPending && !now.Before(i.ExpiresAt)
}

// InvitationStore persists invitations.
type InvitationStore interface {
	// CreateInvitation stores inv. An existing ID returns CodeAlreadyExists.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// GetInvitation returns the invitation, or CodeNotFound.
	GetInvitation(ctx context.Context, tenantID, id string) (*Invitation, error)
	// GetInvitationByMember returns the newest invitation of a member, or
	// CodeNotFound.
	GetInvitationByMember(ctx context.Context, tenantID, memberID string) (*Invitation, error)
	// UpdateInvitation replaces inv if the stored Version equals expected,
	// setting inv.Version to expected+1; otherwise CodeFailedPrecondition
	// with ReasonVersionMismatch (or CodeNotFound).
	UpdateInvitation(ctx context.Context, inv *Invitation, expected int64) error
	// ListInvitations returns up to q.Limit invitations of the tenant in
	// state q.State (any when empty) with ID greater than q.After, by ID;
	// with ExpiredBefore set, only pending invitations whose ExpiresAt is
	// at or before it, and with ValidAfter set only those expiring after it.
	ListInvitations(ctx context.Context, tenantID string, q InvitationQuery) ([]*Invitation, error)
}

// InvitationQuery selects a page of invitations.
type InvitationQuery struct {
	State         InvitationState
	ExpiredBefore time.Time // only invitations with ExpiresAt <= this
	ValidAfter    time.Time // only invitations with ExpiresAt > this
	After         string
	Limit         int
}

// Reasons for invitation refusals.
const (
	ReasonInvalidSecret      Reason = "invalid_secret"
	ReasonInvitationExpired  Reason = "invitation_expired"
	ReasonInvitationRevoked  Reason = "invitation_revoked"
	ReasonInvitationUsed     Reason = "invitation_used"
	ReasonResendRateLimited  Reason = "resend_rate_limited"
	ReasonInvitationNotFound Reason = "invitation_not_found"
)

// Resend limits: at most ResendBurst resends per ResendWindow, and at least
// ResendMinInterval between two.
const (
	ResendBurst       = 5
	ResendWindow      = 24 * time.Hour
	ResendMinInterval = time.Minute
)

// Event types of invitations.
const (
	EventMemberInvited      EventType = "member.invited"
	EventInvitationResent   EventType = "invitation.resent"
	EventInvitationRevoked  EventType = "invitation.revoked"
	EventInvitationAccepted EventType = "invitation.accepted"
)

// InviteRequest describes an invitation.
type InviteRequest struct {
	TenantID   string `validate:"required,max=64"`
	Email      string `validate:"required,max=254,email"`
	Role       string `validate:"max=64"` // default: the tenant's default role
	GivenName  string `validate:"max=100,utf8"`
	FamilyName string `validate:"max=100,utf8"`
}

// InviteResult is an invitation and its secret. The secret is shown only
// here: send it to the invitee (typically as a link) and forget it.
type InviteResult struct {
	Invitation *Invitation
	Member     *Member
	Secret     string
}

// Invite invites a member: the invitee's member record is created in
// StatusInvited (holding a seat unless the tenant says otherwise) and a
// single-use secret is returned once. Seat, email-uniqueness and invite
// policy rules apply as for AddMember.
func (c *Client) Invite(ctx context.Context, actor Actor, req InviteRequest) (*InviteResult, error) {
	const op = "sdk.Invite"
	req.Email = strings.TrimSpace(req.Email)
	if err := check(op, &req); err != nil {
		return nil, err
	}
	// The member first: it carries the seat and the email uniqueness. A
	// crash before the invitation record leaves an invited member that
	// Resend completes.
	prof := withEmail(Profile{GivenName: req.GivenName, FamilyName: req.FamilyName}, req.Email)
	t, m, _, err := c.admitMember(ctx, op, actor, req.TenantID, StatusInvited, req.Role, nil, "", func(t *Tenant, role string) (*Member, error) {
		return c.newMember(op, t, prof, role, StatusInvited)
	})
	if err != nil {
		return nil, err
	}
	now := m.CreatedAt
	secret, hash := newSecret()
	inv := &Invitation{
		ID: c.newID(), TenantID: t.ID, MemberID: m.ID, Email: m.Email, Role: m.Role, InviterID: actor.ID,
		State: InvitationPending, SecretHash: hash, ExpiresAt: now.Add(invitationTTL(t)),
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := c.store.CreateInvitation(ctx, inv); err != nil {
		return nil, withOp(op, err)
	}
	c.record(ctx, Event{Type: EventMemberInvited, TenantID: t.ID, Actor: actor, MemberID: m.ID, After: m.Clone()})
	return &InviteResult{Invitation: inv, Member: m, Secret: formatSecret(t.ID, inv.ID, secret)}, nil
}

func invitationTTL(t *Tenant) time.Duration {
	if t.Settings.InvitationTTL > 0 {
		return t.Settings.InvitationTTL
	}
	return DefaultInvitationTTL
}

// newSecret returns 32 random bytes, base64url-encoded, and their hash.
func newSecret() (string, []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	s := base64.RawURLEncoding.EncodeToString(b[:])
	return s, hashSecret(s)
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// An invitation secret names its tenant and invitation so that it can be
// looked up by primary key, then compared with the stored hash in
// constant time: "inv_<tenant>.<invitation>.<random>".
func formatSecret(tenantID, invID, secret string) string {
	return "inv_" + tenantID + "." + invID + "." + secret
}

func parseSecret(op, s string) (tenantID, invID, secret string, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "inv_")
	parts := strings.Split(rest, ".")
	if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" || len(parts[2]) != 43 || len(s) > 200 {
		return "", "", "", &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonInvalidSecret, Field: "Secret",
			Message: "this is not an invitation link issued by Roster"}
	}
	return parts[0], parts[1], parts[2], nil
}

// lookupInvitation resolves a secret to its invitation, failing alike for
// unknown invitations and wrong secrets so that neither can be probed.
func (c *Client) lookupInvitation(ctx context.Context, op string, s string) (*Invitation, error) {
	tenantID, invID, secret, err := parseSecret(op, s)
	if err != nil {
		return nil, err
	}
	inv, err := c.store.GetInvitation(ctx, tenantID, invID)
	if isNotFound(err) || (err == nil && subtle.ConstantTimeCompare(inv.SecretHash, hashSecret(secret)) != 1) {
		return nil, &Error{Op: op, Code: CodeNotFound, Reason: ReasonInvitationNotFound,
			Message: "the invitation does not exist or the link was replaced by a newer one"}
	}
	if err != nil {
		return nil, withOp(op, err)
	}
	return inv, nil
}

func invitationUnusable(op string, inv *Invitation, now time.Time) error {
	switch {
	case inv.State == InvitationRevoked:
		return &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonInvitationRevoked, Message: "the invitation was revoked"}
	case inv.State == InvitationAccepted:
		return &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonInvitationUsed, Message: "the invitation was already accepted"}
	case inv.Expired(now):
		return &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonInvitationExpired,
			Message: fmt.Sprintf("the invitation expired at %s; ask for a new one", inv.ExpiresAt.Format(time.RFC3339))}
	}
	return nil
}

// AcceptRequest accepts an invitation.
type AcceptRequest struct {
	Secret     string `validate:"required,max=200"`
	GivenName  string `validate:"max=100,utf8"`
	FamilyName string `validate:"max=100,utf8"`
	// Password, when set, becomes the member's password (for hosts that
	// keep credentials in Roster); it must satisfy [CheckPassword].
	Password string `validate:"max=256"`
}

// Accept activates the invited member. It fails with ReasonInvalidSecret
// for a malformed secret, ReasonInvitationNotFound for an unknown or
// replaced one, and ReasonInvitationExpired, ReasonInvitationRevoked or
// ReasonInvitationUsed when the invitation can no longer be used. Of two
// concurrent accepts of one invitation exactly one succeeds.
func (c *Client) Accept(ctx context.Context, req AcceptRequest) (*Member, error) {
	const op = "sdk.Accept"
	if err := check(op, &req); err != nil {
		return nil, err
	}
	var pwHash string
	if req.Password != "" {
		if err := CheckPassword(req.Password); err != nil {
			return nil, withField(op, err, "Password")
		}
	}
	inv, err := c.lookupInvitation(ctx, op, req.Secret)
	if err != nil {
		return nil, err
	}
	now := c.Now()
	if err := invitationUnusable(op, inv, now); err != nil {
		return nil, err
	}
	if req.Password != "" {
		if pwHash, err = c.hashPassword(req.Password); err != nil {
			return nil, withOp(op, err)
		}
	}
	t, err := c.getTenant(ctx, op, inv.TenantID)
	if err != nil {
		return nil, err
	}
	for range maxRetries {
		before, err := c.store.GetMember(ctx, inv.TenantID, inv.MemberID)
		if isNotFound(err) {
			return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonInvitationRevoked, Message: "the invited member was removed"}
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		if before.Status != StatusInvited {
			// Someone accepted first (or a crash left the invitation
			// pending after the member was activated): settle the record.
			c.markAccepted(ctx, inv, now)
			return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonInvitationUsed, Message: "the invitation was already accepted"}
		}
		m := before.Clone()
		m.Status = StatusActive
		if req.GivenName != "" {
			m.GivenName = req.GivenName
		}
		if req.FamilyName != "" {
			m.FamilyName = req.FamilyName
		}
		m.UpdatedAt = now
		// The member's version is the lock: of two accepts, one update
		// wins and the other re-reads an active member. The password is
		// written with the activation, so no crash leaves an active member
		// without the password they chose.
		w := MemberWrite{Member: m, ExpectedVersion: before.Version, Seat: seatChange(t, StatusInvited, StatusActive)}
		if pwHash != "" {
			w.PasswordHash = &pwHash
		}
		err = c.updateStored(ctx, t, w)
		if ReasonOf(err) == ReasonVersionMismatch {
			continue
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		c.markAccepted(ctx, inv, now)
		actor := MemberActor(m.ID)
		c.record(ctx, Event{Type: EventInvitationAccepted, TenantID: m.TenantID, Actor: actor, MemberID: m.ID, Before: before, After: m.Clone()})
		return m, nil
	}
	return nil, errStale(op)
}

// markAccepted records that an invitation was used. Failure is harmless:
// the member's state already says so, and the next accept attempt or
// Reconcile writes it again.
func (c *Client) markAccepted(ctx context.Context, inv *Invitation, now time.Time) {
	for range maxRetries {
		if inv.State != InvitationPending {
			return
		}
		cp := *inv
		cp.State, cp.UpdatedAt = InvitationAccepted, now
		err := c.store.UpdateInvitation(ctx, &cp, inv.Version)
		if err == nil {
			*inv = cp
			return
		}
		if ReasonOf(err) != ReasonVersionMismatch {
			c.log.Warn("roster: marking invitation accepted failed", "invitation", inv.ID, "err", err)
			return
		}
		fresh, err := c.store.GetInvitation(ctx, inv.TenantID, inv.ID)
		if err != nil {
			return
		}
		*inv = *fresh
	}
}

// Resend issues a new secret and expiry for a pending invitation; the old
// secret stops working at once. Resends are rate limited
// (ReasonResendRateLimited): at most ResendBurst per ResendWindow and one
// per ResendMinInterval. Resending for an invited member whose invitation
// record was lost (a crash during Invite) creates it.
func (c *Client) Resend(ctx context.Context, actor Actor, tenantID, memberID string) (*InviteResult, error) {
	const op = "sdk.Resend"
	t, p, m, err := c.loadTarget(ctx, op, actor, tenantID, memberID)
	if err != nil {
		return nil, err
	}
	if err := p.checkInviteRights().Err(op); err != nil {
		return nil, err
	}
	if m.Status != StatusInvited {
		return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonInvitationUsed, Message: "the member is not waiting on an invitation"}
	}
	now := c.Now()
	secret, hash := newSecret()
	inv, err := c.store.GetInvitationByMember(ctx, tenantID, memberID)
	if isNotFound(err) {
		inv = &Invitation{
			ID: c.newID(), TenantID: t.ID, MemberID: m.ID, Email: m.Email, Role: m.Role, InviterID: actor.ID,
			State: InvitationPending, SecretHash: hash, ExpiresAt: now.Add(invitationTTL(t)),
			Version: 1, CreatedAt: now, UpdatedAt: now,
		}
		if err := c.store.CreateInvitation(ctx, inv); err != nil {
			return nil, withOp(op, err)
		}
	} else if err != nil {
		return nil, withOp(op, err)
	} else {
		if inv.State == InvitationRevoked {
			return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonInvitationRevoked, Message: "the invitation was revoked"}
		}
		var recent []time.Time
		for _, r := range inv.Resends {
			if now.Sub(r) < ResendWindow {
				recent = append(recent, r)
			}
		}
		if len(recent) >= ResendBurst || (len(recent) > 0 && now.Sub(recent[len(recent)-1]) < ResendMinInterval) {
			return nil, &Error{Op: op, Code: CodeResourceExhausted, Reason: ReasonResendRateLimited,
				Message: fmt.Sprintf("the invitation was resent too often; at most %d resends a day, one a minute", ResendBurst)}
		}
		upd := *inv
		upd.SecretHash, upd.ExpiresAt, upd.State = hash, now.Add(invitationTTL(t)), InvitationPending
		upd.Resends = append(recent, now)
		upd.ResendCount++
		upd.UpdatedAt = now
		if err := c.store.UpdateInvitation(ctx, &upd, inv.Version); err != nil {
			return nil, withOp(op, err)
		}
		inv = &upd
	}
	c.record(ctx, Event{Type: EventInvitationResent, TenantID: t.ID, Actor: actor, MemberID: m.ID, After: m.Clone()})
	return &InviteResult{Invitation: inv, Member: m, Secret: formatSecret(t.ID, inv.ID, secret)}, nil
}

// Revoke withdraws a pending invitation: the invited member is removed
// (freeing the seat and the address) and the invitation is marked revoked
// so that its link says so.
func (c *Client) Revoke(ctx context.Context, actor Actor, tenantID, memberID string) error {
	const op = "sdk.Revoke"
	t, p, m, err := c.loadTarget(ctx, op, actor, tenantID, memberID)
	if err != nil {
		return err
	}
	if err := p.checkInviteRights().Err(op); err != nil {
		return err
	}
	if m.Status != StatusInvited {
		return &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonInvitationUsed, Message: "the member is not waiting on an invitation; remove them instead"}
	}
	// Mark first: a crash after it leaves an invited member whose
	// invitation is revoked, which Revoke (run again) removes.
	if inv, err := c.store.GetInvitationByMember(ctx, tenantID, memberID); err == nil && inv.State == InvitationPending {
		upd := *inv
		upd.State, upd.UpdatedAt = InvitationRevoked, c.Now()
		if err := c.store.UpdateInvitation(ctx, &upd, inv.Version); err != nil {
			return withOp(op, err)
		}
	} else if err != nil && !isNotFound(err) {
		return withOp(op, err)
	}
	if err := c.store.DeleteMember(ctx, memberDelete(t, m)); err != nil {
		return withOp(op, err)
	}
	c.dropMemberEdges(ctx, t.ID, m)
	c.record(ctx, Event{Type: EventInvitationRevoked, TenantID: t.ID, Actor: actor, MemberID: m.ID, Before: m})
	return nil
}

// ListInvitationsOptions select invitations.
type ListInvitationsOptions struct {
	ListOptions
	// Expired selects pending invitations past their expiry; otherwise
	// pending invitations still valid are listed.
	Expired bool
}

// ListInvitations returns a tenant's pending (or expired) invitations in
// creation order.
func (c *Client) ListInvitations(ctx context.Context, tenantID string, opts ListInvitationsOptions) (*Page[*Invitation], error) {
	const op = "sdk.ListInvitations"
	size, after, err := pageParams(op, opts.ListOptions)
	if err != nil {
		return nil, err
	}
	q := InvitationQuery{State: InvitationPending, After: after, Limit: size + 1}
	if opts.Expired {
		q.ExpiredBefore = c.Now()
	} else {
		q.ValidAfter = c.Now()
	}
	invs, err := c.store.ListInvitations(ctx, tenantID, q)
	if err != nil {
		return nil, withOp(op, err)
	}
	return makePage(invs, size, func(i *Invitation) string { return i.ID }), nil
}

func withField(op string, err error, field string) error {
	if e, ok := err.(*Error); ok {
		cp := *e
		cp.Op, cp.Field = op, field
		return &cp
	}
	return err
}
