package sdk

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// CreateTenantRequest describes a new tenant and its owner.
type CreateTenantRequest struct {
	Slug            string `validate:"required,slug"`
	Name            string `validate:"max=200,utf8"`
	OwnerEmail      string `validate:"required,max=254,email"`
	OwnerGivenName  string `validate:"max=100,utf8"`
	OwnerFamilyName string `validate:"max=100,utf8"`
	// IncludedSeats is the number of seats in the plan (at least 1: the
	// owner holds one).
	IncludedSeats int `validate:"gte=1,lte=10000000"`
	ExtraSeats    int `validate:"gte=0,lte=10000000"`
	// RolePreset names the role set; default PresetStandard. Ignored when
	// Roles is set.
	RolePreset RolePreset `validate:"max=64"`
	// Roles defines a custom role set instead of a preset; the highest
	// ranked role is the owner's.
	Roles    []Role `validate:"omitempty,min=2,max=50,dive"`
	Settings Settings
}

// CreateTenant creates a tenant with its owner, who is active and holds
// the first seat. Only the host system may create tenants.
func (c *Client) CreateTenant(ctx context.Context, actor Actor, req CreateTenantRequest) (*Tenant, *Member, error) {
	const op = "sdk.CreateTenant"
	if actor.Kind != ActorSystem {
		return nil, nil, deny(ReasonMissingPermission).Err(op)
	}
	req.Slug = strings.TrimSpace(req.Slug)
	req.OwnerEmail = strings.TrimSpace(req.OwnerEmail)
	if err := check(op, &req); err != nil {
		return nil, nil, err
	}
	roles := req.Roles
	if len(roles) == 0 {
		preset := req.RolePreset
		if preset == "" {
			preset = PresetStandard
		}
		rs, ok := c.presets[preset]
		if !ok {
			return nil, nil, invalid(op, "RolePreset", fmt.Sprintf("%q is not a role preset (standard, campaigns, primary_admin)", preset))
		}
		roles = rs
		if preset == PresetPrimaryAdmin {
			req.Settings.ActOnEqualRank = true
		}
	}
	t := &Tenant{
		ID:            c.newID(),
		Slug:          req.Slug,
		Name:          req.Name,
		IncludedSeats: req.IncludedSeats,
		ExtraSeats:    req.ExtraSeats,
		SeatsUsed:     1,
		Roles:         roles,
		Settings:      req.Settings,
		Version:       1,
		CreatedAt:     c.Now(),
	}
	t = t.Clone()
	sortRoles(t.Roles)
	if err := validateRoles(op, t.Roles); err != nil {
		return nil, nil, err
	}
	if err := validateSettings(op, t); err != nil {
		return nil, nil, err
	}
	if t.Name == "" {
		t.Name = t.Slug
	}
	t.UpdatedAt = t.CreatedAt
	owner := &Member{
		ID:        c.newID(),
		TenantID:  t.ID,
		Profile:   withEmail(Profile{GivenName: req.OwnerGivenName, FamilyName: req.OwnerFamilyName}, req.OwnerEmail),
		Role:      t.OwnerRole(),
		Status:    StatusActive,
		Version:   1,
		CreatedAt: t.CreatedAt,
		UpdatedAt: t.CreatedAt,
	}
	if err := derive(op, t, owner); err != nil {
		return nil, nil, err
	}
	t.OwnerID = owner.ID
	if c.uniqueEmails(t) {
		taken, err := c.store.EmailInOtherTenant(ctx, t.ID, owner.EmailKey)
		if err != nil {
			return nil, nil, withOp(op, err)
		}
		if taken {
			return nil, nil, errEmailElsewhere(op)
		}
	}
	// The owner's address is checked above against tenants that allow
	// shared addresses too; among tenants that require unique ones, the
	// store decides ([MemberWrite.GlobalEmail]).
	if err := c.store.CreateTenant(ctx, t, MemberWrite{Member: owner, GlobalEmail: c.uniqueEmails(t)}); err != nil {
		return nil, nil, withOp(op, err)
	}
	c.tenants.putAt(t, c.Now())
	c.record(ctx, Event{Type: EventTenantCreated, TenantID: t.ID, Actor: actor, Tenant: t.Clone()})
	c.record(ctx, Event{Type: EventMemberAdded, TenantID: t.ID, Actor: actor, MemberID: owner.ID, After: owner.Clone()})
	return t, owner, nil
}

func errEmailElsewhere(op string) error {
	return &Error{Op: op, Code: CodeAlreadyExists, Reason: ReasonEmailTakenElsewhere, Field: "Email",
		Message: "the email address is already used by another account"}
}

// validateRoles checks a ranked role set: unique names, unique ranks, at
// least two roles, each well formed.
func validateRoles(op string, roles []Role) error {
	if len(roles) < 2 {
		return invalid(op, "Roles", "a tenant needs at least two roles: the owner's and one other")
	}
	seen := map[string]bool{}
	ranks := map[int]bool{}
	for i := range roles {
		if err := validate.Struct(&roles[i]); err != nil {
			return check(op, &roles[i])
		}
		if seen[roles[i].Name] {
			return invalid(op, "Roles", fmt.Sprintf("role %q is defined twice", roles[i].Name))
		}
		if ranks[roles[i].Rank] {
			return invalid(op, "Roles", fmt.Sprintf("two roles share rank %d; ranks must differ", roles[i].Rank))
		}
		seen[roles[i].Name], ranks[roles[i].Rank] = true, true
	}
	return nil
}

func validateSettings(op string, t *Tenant) error {
	s := &t.Settings
	for _, st := range s.SeatStates {
		if !st.Valid() {
			return invalid(op, "Settings.SeatStates", fmt.Sprintf("%q is not a member status", st))
		}
	}
	switch s.InvitePolicy {
	case "", InviteTeamManagers, InviteOwnerOnly:
	default:
		return invalid(op, "Settings.InvitePolicy", fmt.Sprintf("%q is not an invite policy (team_manage, owner_only)", s.InvitePolicy))
	}
	if s.DefaultRole != "" {
		if t.Role(s.DefaultRole) == nil {
			return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonUnknownRole, Field: "Settings.DefaultRole", Message: fmt.Sprintf("role %q does not exist", s.DefaultRole)}
		}
		if s.DefaultRole == t.OwnerRole() {
			return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonOwnerRole, Field: "Settings.DefaultRole", Message: "the owner role cannot be the default role"}
		}
	}
	if s.SuccessorRole != "" {
		if t.Role(s.SuccessorRole) == nil {
			return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonUnknownRole, Field: "Settings.SuccessorRole", Message: fmt.Sprintf("role %q does not exist", s.SuccessorRole)}
		}
		if s.SuccessorRole == t.OwnerRole() {
			return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonOwnerRole, Field: "Settings.SuccessorRole", Message: "the old owner cannot keep the owner role"}
		}
	}
	if s.InvitationTTL < 0 {
		return invalid(op, "Settings.InvitationTTL", "must not be negative")
	}
	if err := validateCustomAttributes(op, s.CustomAttributes); err != nil {
		return err
	}
	return nil
}

// Tenant returns the tenant with the given id.
func (c *Client) Tenant(ctx context.Context, id string) (*Tenant, error) {
	return c.getTenant(ctx, "sdk.Tenant", id)
}

// TenantBySlug returns the tenant with the given slug.
func (c *Client) TenantBySlug(ctx context.Context, slug string) (*Tenant, error) {
	const op = "sdk.TenantBySlug"
	t, err := c.store.GetTenantBySlug(ctx, strings.ToLower(strings.TrimSpace(slug)))
	if err != nil {
		return nil, withOp(op, err)
	}
	if t.Deleting {
		c.tenants.forget(t.ID)
		return nil, errDeleting(op)
	}
	c.tenants.putAt(t, c.Now())
	return t, nil
}

// ListTenants returns a page of tenants in creation order, those whose
// deletion has not finished ([Tenant.Deleting]) included.
func (c *Client) ListTenants(ctx context.Context, opts ListOptions) (*Page[*Tenant], error) {
	const op = "sdk.ListTenants"
	size, after, err := pageParams(op, opts)
	if err != nil {
		return nil, err
	}
	ts, err := c.store.ListTenants(ctx, TenantQuery{After: after, Limit: size + 1})
	if err != nil {
		return nil, withOp(op, err)
	}
	return makePage(ts, size, func(t *Tenant) string { return t.ID }), nil
}

// AddSeats buys n extra seats (n ≥ 1). It needs billing:manage.
func (c *Client) AddSeats(ctx context.Context, actor Actor, tenantID string, n int) (*Tenant, error) {
	if n < 1 {
		return nil, invalid("sdk.AddSeats", "N", "must be between 1 and 10000000")
	}
	return c.adjustSeats(ctx, "sdk.AddSeats", actor, tenantID, n)
}

// RemoveSeats removes n extra seats (n ≥ 1). It never goes below the seats
// in use (CodeFailedPrecondition, ReasonSeatsInUse) nor below the plan's
// included seats. It needs billing:manage.
func (c *Client) RemoveSeats(ctx context.Context, actor Actor, tenantID string, n int) (*Tenant, error) {
	if n < 1 {
		return nil, invalid("sdk.RemoveSeats", "N", "must be between 1 and 10000000")
	}
	return c.adjustSeats(ctx, "sdk.RemoveSeats", actor, tenantID, -n)
}

func (c *Client) adjustSeats(ctx context.Context, op string, actor Actor, tenantID string, delta int) (*Tenant, error) {
	if delta == 0 || delta > 10_000_000 || delta < -10_000_000 {
		return nil, invalid(op, "N", "must be between 1 and 10000000")
	}
	p, err := c.Policy(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	if err := p.Check(ActionManageSeats, nil).Err(op); err != nil {
		return nil, err
	}
	t, err := c.store.AdjustExtraSeats(ctx, tenantID, delta, c.Now())
	if err != nil {
		return nil, withOp(op, err)
	}
	c.tenants.putAt(t, c.Now())
	c.record(ctx, Event{Type: EventTenantSeatsChanged, TenantID: t.ID, Actor: actor, Tenant: t.Clone()})
	return t, nil
}

// UpdateTenantRequest changes a tenant's name, settings or roles. Nil fields
// are left as they are.
type UpdateTenantRequest struct {
	TenantID string    `validate:"required"`
	Name     *string   `validate:"omitempty,min=1,max=200,utf8"`
	Settings *Settings // replaces all settings
	// Roles replaces the role set. The owner role (highest rank) must keep
	// its name, and every role a member holds must remain.
	Roles []Role `validate:"omitempty,min=2,max=50,dive"`
	// ExpectedVersion, when non-zero, makes the update fail with
	// ReasonVersionMismatch if the tenant changed since it was read.
	ExpectedVersion int64
}

// UpdateTenant changes a tenant's name, settings or custom roles. Only the
// owner (or the host system) may.
func (c *Client) UpdateTenant(ctx context.Context, actor Actor, req UpdateTenantRequest) (*Tenant, error) {
	const op = "sdk.UpdateTenant"
	if err := check(op, &req); err != nil {
		return nil, err
	}
	for {
		t, err := c.getTenant(ctx, op, req.TenantID)
		if err != nil {
			return nil, err
		}
		p, err := c.policyFor(ctx, op, t, actor)
		if err != nil {
			return nil, err
		}
		action := ActionUpdateSettings
		if req.Roles != nil {
			action = ActionManageRoles
		}
		if err := p.Check(action, nil).Err(op); err != nil {
			return nil, err
		}
		if req.ExpectedVersion != 0 && req.ExpectedVersion != t.Version {
			return nil, errStale(op)
		}
		nt := t.Clone()
		if req.Name != nil {
			nt.Name = *req.Name
		}
		if req.Settings != nil {
			nt.Settings = *req.Settings
			nt.Settings.SeatStates = slices.Clone(req.Settings.SeatStates)
		}
		if req.Roles != nil {
			rs := slices.Clone(req.Roles)
			sortRoles(rs)
			if err := validateRoles(op, rs); err != nil {
				return nil, err
			}
			if rs[0].Name != t.OwnerRole() {
				return nil, &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonOwnerRole, Field: "Roles",
					Message: fmt.Sprintf("the highest-ranked role must stay %q", t.OwnerRole())}
			}
			for _, old := range t.Roles {
				if slices.ContainsFunc(rs, func(r Role) bool { return r.Name == old.Name }) {
					continue
				}
				n, err := c.store.CountMembers(ctx, t.ID, MemberFilter{Role: old.Name})
				if err != nil {
					return nil, withOp(op, err)
				}
				if n > 0 {
					return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonUnknownRole, Field: "Roles",
						Message: fmt.Sprintf("role %q is held by %d member(s); move them to another role first", old.Name, n)}
				}
			}
			nt.Roles = rs
		}
		if err := validateSettings(op, nt); err != nil {
			return nil, err
		}
		if nt.Settings.SeatStates != nil && !slices.Equal(nt.Settings.SeatStates, t.Settings.SeatStates) {
			// Changing which states hold a seat changes the count in use;
			// the counter is recomputed after the update below.
			if !nt.Settings.HoldsSeat(StatusActive) {
				return nil, invalid(op, "Settings.SeatStates", "active members must hold a seat")
			}
		}
		nt.UpdatedAt = c.Now()
		err = c.store.UpdateTenant(ctx, nt, t.Version)
		if ReasonOf(err) == ReasonVersionMismatch && req.ExpectedVersion == 0 {
			continue // a concurrent seat or owner change bumped the version: re-read and retry
		}
		if err != nil {
			return nil, withOp(op, err)
		}
		if !slices.Equal(nt.Settings.SeatStates, t.Settings.SeatStates) {
			if nt, err = c.recount(ctx, t.ID, seatStates(&nt.Settings)); err != nil {
				return nil, withOp(op, err)
			}
		}
		c.tenants.putAt(nt, c.Now())
		c.record(ctx, Event{Type: EventTenantUpdated, TenantID: t.ID, Actor: actor, Tenant: nt.Clone()})
		return nt, nil
	}
}

func seatStates(s *Settings) []Status {
	if len(s.SeatStates) == 0 {
		return defaultSeatStates
	}
	return s.SeatStates
}

func errStale(op string) error {
	return &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonVersionMismatch, Message: "the record changed since it was read; reload and retry"}
}

// recount recounts the tenant's seats after a change of which states hold
// one, trying again while seats keep moving: until it succeeds the counter
// follows the old rule.
func (c *Client) recount(ctx context.Context, tenantID string, holding []Status) (*Tenant, error) {
	for attempt := 1; ; attempt++ {
		t, _, err := c.store.RecountSeats(ctx, tenantID, holding)
		if ReasonOf(err) == ReasonVersionMismatch && attempt < maxRetries {
			continue
		}
		return t, err
	}
}
