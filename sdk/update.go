package sdk

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/alexedwards/argon2id"
)

// UpdateMemberRequest is a whole change to one member: profile fields
// named by a field mask, the status, and the password, applied by
// [Client.UpdateMember] as one conditional write.
type UpdateMemberRequest struct {
	TenantID string
	MemberID string
	// Profile holds the new values of the fields named in Fields; its other
	// fields are ignored.
	Profile
	// Fields is the field mask: the profile fields (see [ProfileFields],
	// [CustomField]) to set from Profile. A named field whose value in
	// Profile is empty is cleared. Nil changes no profile field.
	Fields []Field
	// Status, when set, is StatusActive (reactivate) or StatusDeactivated
	// (deactivate, which also ends every session).
	Status *Status
	// Password, when set, becomes the member's password (ending every
	// session) unless it is the current one, which changes nothing. It must
	// pass [CheckPasswordFrom] for the actor.
	Password *string
	// ExpectedVersion, when non-zero, refuses the update with
	// ReasonVersionMismatch if the member's version is another (an HTTP
	// If-Match). When zero, a concurrent write makes the SDK decide again on
	// fresh data.
	ExpectedVersion int64
	// Edit, when set, computes the change from the member as read, on
	// every attempt (so a change made in between is never overwritten, and
	// the member is read once): it modifies e.Member, a copy, and may set
	// e.Password. The profile fields it changed are the field mask, a
	// status it set is the new status; Profile, Fields, Status and Password
	// of the request are then ignored. An error it returns is returned as
	// is, with nothing written. A SCIM PATCH is one: its operations apply to
	// the member as stored.
	Edit func(e *MemberEdit) error

	// setEmail, from UpdateProfileRequest, replaces the member's email.
	setEmail *string
}

// MemberEdit is what an [UpdateMemberRequest.Edit] function changes.
type MemberEdit struct {
	// Member is a copy of the member as read: set its profile fields and
	// Status; other changes are ignored.
	Member *Member
	// Password, when set, becomes the member's password (as
	// [UpdateMemberRequest.Password]).
	Password *string
}

// UpdateMember applies a whole change to a member — profile fields by
// field mask, status and password — deciding policy once on the member as
// read and writing it with one conditional store write, then one audit
// event whose before/after name exactly the fields that changed. A change
// that changes nothing writes nothing and returns the member as stored.
//
// Policy: changing profile fields is [ActionUpdateProfile] (a member may
// edit their own), deactivating [ActionDeactivate], reactivating
// [ActionReactivate] (an invited member becomes active only by accepting:
// ReasonTargetNotActive), and a password [ActionSetPassword] unless it is
// the actor's own. Reactivation takes a seat when deactivated members hold
// none. Every refusal writes nothing.
//
// The tenant's rules come from the client's snapshot of the tenant when it
// is younger than [MemberSnapshotMaxAge] (a refusal is decided again on
// fresh data), so that a provisioning run's update costs a member read, a
// member write and the audit event.
//
// The event is [EventMemberDeactivated] or [EventMemberReactivated] when
// the status changed, else [EventMemberPasswordChanged] when only the
// password did, else [EventMemberUpdated]; [Event.Changed] lists the
// profile fields that changed.
func (c *Client) UpdateMember(ctx context.Context, actor Actor, req UpdateMemberRequest) (*Member, error) {
	req.setEmail = nil
	return c.updateMember(ctx, "sdk.UpdateMember", actor, req)
}

// CheckPasswordFrom checks a password set by actor: passwords pushed by an
// identity provider (a SCIM token) follow that provider's policy and are
// accepted from [MinIdPPasswordLength] characters, NIST SP 800-63B's
// floor; passwords set in Roster follow [CheckPassword].
func CheckPasswordFrom(actor Actor, pw string) error {
	if actor.Kind == ActorToken {
		return checkPassword(pw, MinIdPPasswordLength)
	}
	return CheckPassword(pw)
}

// MinIdPPasswordLength is the shortest password accepted from an identity
// provider.
const MinIdPPasswordLength = 8

func (c *Client) updateMember(ctx context.Context, op string, actor Actor, req UpdateMemberRequest) (*Member, error) {
	if req.TenantID == "" {
		return nil, invalid(op, "TenantID", "is required")
	}
	if req.MemberID == "" {
		return nil, invalid(op, "MemberID", "is required")
	}
	if req.Status != nil && *req.Status != StatusActive && *req.Status != StatusDeactivated {
		return nil, invalid(op, "Status", fmt.Sprintf("%q is not a status a member can be set to (active, deactivated)", *req.Status))
	}
	for _, f := range req.Fields {
		if !isProfileField(f) {
			return nil, invalid(op, "Fields", fmt.Sprintf("%q is not a profile field", f))
		}
	}
	if req.Password != nil {
		if err := CheckPasswordFrom(actor, *req.Password); err != nil {
			return nil, withField(op, err, "Password")
		}
	}
	var newHash, hashedFor string // hashed once, on the first attempt that needs it
	fresh := false
	for range maxRetries {
		t, cached, err := c.recentTenant(ctx, op, req.TenantID, fresh)
		if err != nil {
			return nil, err
		}
		before, hash, err := c.readForUpdate(ctx, op, req)
		if err != nil {
			return nil, err
		}
		if req.ExpectedVersion != 0 && before.Version != req.ExpectedVersion {
			return nil, errStale(op)
		}
		if cached && before.ID != t.OwnerID && before.Role == t.OwnerRole() {
			// The member holds the owner role but the snapshot names another
			// owner: ownership moved since it was read.
			fresh = true
			continue
		}
		areq := req
		if req.Edit != nil {
			if areq, err = edited(op, actor, req, before); err != nil {
				return nil, err
			}
		}
		u, err := c.decideUpdate(ctx, op, actor, areq, t, before, hash)
		if err == errNoChange {
			return before, nil
		}
		if err != nil {
			if cached && !isContextErr(err) {
				// Decided on a snapshot: decide again on fresh data before
				// refusing.
				fresh = true
				continue
			}
			return nil, err
		}
		var hashPtr *string
		if u.password {
			if newHash == "" || hashedFor != *areq.Password {
				if newHash, err = c.hashPassword(*areq.Password); err != nil {
					return nil, withOp(op, err)
				}
				hashedFor = *areq.Password
			}
			hashPtr = &newHash
		}
		m := u.member
		m.UpdatedAt = c.Now()
		ev := Event{Type: u.event, TenantID: t.ID, Actor: actor, MemberID: m.ID, Before: before, After: m,
			Changed: u.changed, PasswordChanged: u.password}
		a := c.carriedAudit(ev)
		err = c.updateStored(ctx, t, MemberWrite{Member: m, ExpectedVersion: before.Version,
			Seat: seatChange(t, before.Status, m.Status), PasswordHash: hashPtr, Audit: a})
		if ReasonOf(err) == ReasonVersionMismatch && req.ExpectedVersion == 0 {
			continue
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		ev.After = m.Clone() // with the version the store set
		c.recordWritten(ctx, ev, a)
		return m, nil
	}
	return nil, errStale(op)
}

// edited returns the request an Edit function makes of before.
func edited(op string, actor Actor, req UpdateMemberRequest, before *Member) (UpdateMemberRequest, error) {
	cp := before.Clone()
	e := &MemberEdit{Member: cp}
	if err := req.Edit(e); err != nil {
		return req, err
	}
	out := UpdateMemberRequest{TenantID: req.TenantID, MemberID: req.MemberID, ExpectedVersion: req.ExpectedVersion,
		Profile: cp.Profile, Fields: changedFields(&before.Profile, &cp.Profile), Password: e.Password}
	if cp.Status != before.Status {
		st := cp.Status
		if st != StatusActive && st != StatusDeactivated {
			return req, invalid(op, "Status", fmt.Sprintf("%q is not a status a member can be set to (active, deactivated)", st))
		}
		out.Status = &st
	}
	if e.Password != nil {
		if err := CheckPasswordFrom(actor, *e.Password); err != nil {
			return req, withField(op, err, "Password")
		}
	}
	return out, nil
}

// memberUpdate is what [Client.decideUpdate] decided: the member to write,
// the event, the profile fields changed, and whether the password changes.
type memberUpdate struct {
	member   *Member
	event    EventType
	changed  []Field
	password bool
}

// decideUpdate applies req to before in tenant t and decides policy once,
// without writing. It returns errNoChange when nothing would change.
func (c *Client) decideUpdate(ctx context.Context, op string, actor Actor, req UpdateMemberRequest, t *Tenant, before *Member, hash string) (*memberUpdate, error) {
	p, err := c.policyFor(ctx, op, t, actor)
	if err != nil {
		return nil, err
	}
	if p.refusal != "" {
		return nil, deny(p.refusal).Err(op)
	}
	m := before.Clone() // Groups stay: stores ignore them on writes, the result carries them
	if err := copyFields(op, &m.Profile, &req.Profile, req.Fields); err != nil {
		return nil, err
	}
	if req.setEmail != nil {
		setMemberEmail(m, before, *req.setEmail)
	}
	if len(req.Fields) > 0 || req.setEmail != nil {
		if req.setEmail == nil && slices.Contains(req.Fields, FieldUserName) && m.UserName == "" {
			return nil, invalid(op, string(FieldUserName), "is required and cannot be cleared")
		}
		if err := derive(op, t, m); err != nil {
			return nil, err
		}
	}
	u := &memberUpdate{member: m, event: EventMemberUpdated, changed: changedFields(&before.Profile, &m.Profile)}
	status := before.Status
	if req.Status != nil {
		status = *req.Status
	}
	if req.Password != nil {
		u.password = hash == "" || !passwordMatches(*req.Password, hash)
	}
	if len(u.changed) == 0 && status == before.Status && !u.password {
		return nil, errNoChange
	}
	if len(u.changed) > 0 {
		if err := p.Check(ActionUpdateProfile, before).Err(op); err != nil {
			return nil, err
		}
		if m.EmailKey != before.EmailKey {
			if err := c.checkEmailElsewhere(ctx, op, t, m.EmailKey); err != nil {
				return nil, err
			}
		}
		if err := c.checkManager(ctx, op, t, m, before); err != nil {
			return nil, err
		}
	}
	switch {
	case status == StatusDeactivated && before.Status != StatusDeactivated:
		if err := p.Check(ActionDeactivate, before).Err(op); err != nil {
			return nil, err
		}
		u.event = EventMemberDeactivated
		m.SessionEpoch++
	case status == StatusActive && before.Status != StatusActive:
		if err := p.Check(ActionReactivate, before).Err(op); err != nil {
			return nil, err
		}
		if before.Status == StatusInvited {
			return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonTargetNotActive,
				Message: "the member's invitation is pending; they become active by accepting it"}
		}
		u.event = EventMemberReactivated
	}
	m.Status = status
	if u.password {
		if p.self == nil || p.self.ID != before.ID {
			if err := p.Check(ActionSetPassword, before).Err(op); err != nil {
				return nil, err
			}
		}
		if u.event == EventMemberUpdated && len(u.changed) == 0 {
			u.event = EventMemberPasswordChanged
		}
		if u.event != EventMemberDeactivated {
			m.SessionEpoch++
		}
	}
	return u, nil
}

// readForUpdate reads the member and, when the request carries a password,
// its current password hash: with one read from a store that keeps both
// together ([PasswordHashReader]), else with two.
func (c *Client) readForUpdate(ctx context.Context, op string, req UpdateMemberRequest) (*Member, string, error) {
	if req.Password == nil && req.Edit == nil {
		m, err := c.store.GetMember(ctx, req.TenantID, req.MemberID)
		return m, "", withOp(op, err)
	}
	if r, ok := c.store.(PasswordHashReader); ok {
		m, h, err := r.GetMemberWithPasswordHash(ctx, req.TenantID, req.MemberID)
		return m, h, withOp(op, err)
	}
	m, err := c.store.GetMember(ctx, req.TenantID, req.MemberID)
	if err != nil {
		return nil, "", withOp(op, err)
	}
	cr, err := c.store.GetCredentials(ctx, req.TenantID, req.MemberID)
	if isNotFound(err) {
		return m, "", nil
	}
	if err != nil {
		return nil, "", withOp(op, err)
	}
	return m, cr.PasswordHash, nil
}

func passwordMatches(pw, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// setMemberEmail replaces the address the member's email is derived from
// (the primary email, else the work email; a new primary work email when
// there is neither), and the userName too when it was the old email.
func setMemberEmail(m, before *Member, email string) {
	i := slices.IndexFunc(m.Emails, func(e Email) bool { return e.Primary })
	if i < 0 {
		i = slices.IndexFunc(m.Emails, func(e Email) bool { return strings.EqualFold(strings.TrimSpace(e.Type), "work") })
	}
	if i >= 0 {
		m.Emails[i].Value = email
	} else {
		m.Emails = append([]Email{{Value: email, Type: "work", Primary: true}}, m.Emails...)
	}
	if before.UserNameKey == "" || before.UserNameKey == before.EmailKey {
		m.UserName = email
	}
}

func isProfileField(f Field) bool {
	if _, ok := f.customName(); ok {
		return true
	}
	return slices.Contains(ProfileFields(), f)
}
