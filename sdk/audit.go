package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EventType names what happened. Observers receive it and the audit log
// records it as the event's action.
type EventType string

// Event types.
const (
	EventTenantCreated              EventType = "tenant.created"
	EventTenantUpdated              EventType = "tenant.updated"
	EventTenantSeatsChanged         EventType = "tenant.seats_changed"
	EventTenantOwnershipTransferred EventType = "tenant.ownership_transferred"
	EventTenantReconciled           EventType = "tenant.reconciled"
	EventTenantDeleted              EventType = "tenant.deleted" // observers only: the audit log goes with the tenant
	EventMemberAdded                EventType = "member.added"
	EventMemberUpdated              EventType = "member.updated"
	EventMemberRoleChanged          EventType = "member.role_changed"
	EventMemberDeactivated          EventType = "member.deactivated"
	EventMemberReactivated          EventType = "member.reactivated"
	EventMemberRemoved              EventType = "member.removed"
	EventMemberLoggedOut            EventType = "member.logged_out"
)

// Event is what observers receive after a successful write.
type Event struct {
	Type     EventType
	TenantID string
	Actor    Actor
	// MemberID is the member the event is about, if any.
	MemberID string
	// Before and After are the member before and after the write (Before nil
	// on creation, After nil on removal).
	Before, After *Member
	// Changed lists the profile fields a member update changed (nil for
	// other events).
	Changed []Field
	// PasswordChanged is set when the write changed the member's password.
	PasswordChanged bool
	// Tenant is the tenant after the write, for tenant events.
	Tenant *Tenant
	Time   time.Time
}

// Observer is notified after each successful write. Observers run on their
// own goroutine: a slow observer never delays the write and a panicking one
// never breaks it (the panic is logged).
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to [Observer].
type ObserverFunc func(ctx context.Context, e Event)

// Observe calls f.
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }

// AuditEvent is one entry of a tenant's audit log: who did what to whom,
// through which channel, when, with the values before and after.
type AuditEvent struct {
	ID        string            `json:"id"` // sorts by time
	TenantID  string            `json:"tenantId"`
	Time      time.Time         `json:"time"`
	ActorKind ActorKind         `json:"actorKind"`
	ActorID   string            `json:"actorId"`
	Channel   string            `json:"channel"` // sdk, scim, sync or system
	Action    string            `json:"action"`  // an EventType
	TargetID  string            `json:"targetId,omitempty"`
	Before    map[string]string `json:"before,omitempty"`
	After     map[string]string `json:"after,omitempty"`
}

// record writes the audit event and notifies observers. The write it
// describes has already happened, so a failing audit append is retried once
// and then logged rather than reported as the operation's failure.
func (c *Client) record(ctx context.Context, ev Event) {
	c.publish(ctx, ev, c.auditEvent(ev))
}

// publish appends a, the audit entry of ev, and notifies observers of ev.
func (c *Client) publish(ctx context.Context, ev Event, a *AuditEvent) {
	actx := context.WithoutCancel(ctx)
	if err := c.store.AppendAudit(actx, a); err != nil {
		if err = c.store.AppendAudit(actx, a); err != nil {
			c.log.Error("roster: audit append failed", "tenant", a.TenantID, "action", a.Action, "target", a.TargetID, "err", err)
		}
	}
	c.announce(ctx, ev, a)
}

// announce notifies observers of ev, whose audit entry is a.
func (c *Client) announce(ctx context.Context, ev Event, a *AuditEvent) {
	ev.Time = a.Time
	actx := context.WithoutCancel(ctx)
	for _, o := range c.observers {
		go c.notify(actx, o, ev)
	}
}

// carriedAudit returns the audit entry of ev for the member write ev
// describes to carry ([MemberWrite.Audit]) when the store appends it in
// the write ([AuditedMemberWrites]), else nil. Each attempt of a write
// builds its own, so the entry that lands describes the write that did.
func (c *Client) carriedAudit(ev Event) *AuditEvent {
	if s, ok := c.store.(AuditedMemberWrites); ok && s.MemberWritesCarryAudit() {
		return c.auditEvent(ev)
	}
	return nil
}

// recordWritten is record for a member write that carried a, the audit
// entry of ev ([Client.carriedAudit]): the store appended it with the
// write, so only observers are told. With a nil (the write carried none)
// it is record.
func (c *Client) recordWritten(ctx context.Context, ev Event, a *AuditEvent) {
	if a == nil {
		c.record(ctx, ev)
		return
	}
	c.announce(ctx, ev, a)
}

// auditEvent builds the audit entry of an event.
func (c *Client) auditEvent(ev Event) *AuditEvent {
	ev.Time = c.Now()
	a := &AuditEvent{
		ID:        c.newID(),
		TenantID:  ev.TenantID,
		Time:      ev.Time,
		ActorKind: ev.Actor.Kind,
		ActorID:   ev.Actor.ID,
		Channel:   ev.Actor.Channel(),
		Action:    string(ev.Type),
		TargetID:  ev.MemberID,
	}
	a.Before, a.After = diffMembers(ev.Before, ev.After)
	if ev.PasswordChanged {
		if a.After == nil {
			a.After = map[string]string{}
		}
		a.After["password"] = "changed" // never the secret
	}
	if ev.Tenant != nil && ev.MemberID == "" {
		a.TargetID = ev.Tenant.ID
		a.After = tenantFields(ev.Tenant)
	}
	return a
}

func (c *Client) notify(ctx context.Context, o Observer, ev Event) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("roster: observer panicked", "event", ev.Type, "panic", fmt.Sprint(r))
		}
	}()
	o.Observe(ctx, ev)
}

// memberFields renders a member for the audit log: state, and every
// profile field that has a value (multi-valued ones and custom attributes
// as JSON), by [Field] name.
func memberFields(m *Member) map[string]string {
	if m == nil {
		return nil
	}
	f := map[string]string{
		"email":  m.Email,
		"role":   m.Role,
		"status": string(m.Status),
	}
	for _, s := range profileScalars {
		if v := *s.get(&m.Profile); v != "" {
			f[string(s.field)] = v
		}
	}
	put := func(k Field, v any, n int) {
		if n > 0 {
			b, _ := json.Marshal(v)
			f[string(k)] = string(b)
		}
	}
	put(FieldEmails, m.Emails, len(m.Emails))
	put(FieldPhoneNumbers, m.PhoneNumbers, len(m.PhoneNumbers))
	put(FieldAddresses, m.Addresses, len(m.Addresses))
	for k, v := range m.Custom {
		f[string(CustomField(k))] = v
	}
	return f
}

func tenantFields(t *Tenant) map[string]string {
	return map[string]string{
		"slug":          t.Slug,
		"name":          t.Name,
		"ownerId":       t.OwnerID,
		"includedSeats": strconv.Itoa(t.IncludedSeats),
		"extraSeats":    strconv.Itoa(t.ExtraSeats),
		"seatsUsed":     strconv.Itoa(t.SeatsUsed),
	}
}

// diffMembers returns the fields that differ between before and after. On
// creation or removal (one side nil) it returns every field of the other.
func diffMembers(before, after *Member) (map[string]string, map[string]string) {
	b, a := memberFields(before), memberFields(after)
	if b == nil || a == nil {
		return b, a
	}
	db, da := map[string]string{}, map[string]string{}
	for k, v := range b {
		if a[k] != v {
			db[k] = v
		}
	}
	for k, v := range a {
		if b[k] != v {
			da[k] = v
		}
	}
	if before.SessionEpoch != after.SessionEpoch {
		db["sessionEpoch"] = strconv.FormatInt(before.SessionEpoch, 10)
		da["sessionEpoch"] = strconv.FormatInt(after.SessionEpoch, 10)
	}
	return db, da
}

// AuditListOptions select and filter a page of the audit log.
type AuditListOptions struct {
	ListOptions
	ActorID  string
	TargetID string
	Action   string
	// Channel keeps the events that came through one channel: one of
	// [AuditChannels] ("sdk", "scim", "sync", "system").
	Channel string
	Since   time.Time
	Until   time.Time
}

// AuditActions are the actions the audit log records, member events first:
// every [EventType] but [EventTenantDeleted], which only observers see
// (the tenant's audit log goes with it). Filters offer and check these.
var AuditActions = []EventType{
	EventMemberAdded, EventMemberInvited, EventInvitationResent, EventInvitationRevoked,
	EventInvitationAccepted, EventMemberUpdated, EventMemberRoleChanged, EventMemberPasswordChanged,
	EventMemberDeactivated, EventMemberReactivated, EventMemberLoggedOut, EventMemberRemoved,
	EventTenantCreated, EventTenantUpdated, EventTenantSeatsChanged, EventTenantOwnershipTransferred,
	EventTenantReconciled, EventGroupCreated, EventGroupUpdated, EventGroupDeleted,
	EventGroupMembersAdded, EventGroupMembersRemoved, EventGroupRoleMapped,
	EventTokenCreated, EventTokenRevoked,
}

// AuditLog returns a tenant's audit events, newest first. Reading it needs
// team:manage (or a non-member actor).
func (c *Client) AuditLog(ctx context.Context, actor Actor, tenantID string, opts AuditListOptions) (*Page[*AuditEvent], error) {
	const op = "sdk.AuditLog"
	p, err := c.Policy(ctx, actor, tenantID)
	if err != nil {
		return nil, err
	}
	if p.refusal != "" {
		return nil, deny(p.refusal).Err(op)
	}
	if !p.has(PermTeamManage) {
		return nil, deny(ReasonMissingPermission).Err(op)
	}
	size, after, err := pageParams(op, opts.ListOptions)
	if err != nil {
		return nil, err
	}
	if opts.Channel != "" && !slices.Contains(AuditChannels, opts.Channel) {
		return nil, invalid(op, "Channel", "must be one of "+strings.Join(AuditChannels, ", "))
	}
	evs, err := c.store.ListAudit(ctx, tenantID, AuditQuery{
		ActorID: opts.ActorID, TargetID: opts.TargetID, Action: opts.Action, Channel: opts.Channel,
		Since: opts.Since, Until: opts.Until, Before: after, Limit: size + 1,
	})
	if err != nil {
		return nil, withOp(op, err)
	}
	return makePage(evs, size, func(e *AuditEvent) string { return e.ID }), nil
}
