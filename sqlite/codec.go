package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// Records are stored as documents (the doc column) beside the columns the
// indexes and filters need, which are derived from the record on every
// write. Members' documents are records of the codec in record.go; the
// others are the records' own JSON, plus the fields the sdk types keep out
// of JSON (an invitation's secret hash and resend times), which
// invitationDoc adds.

func decode(doc []byte, v any) error {
	if err := json.Unmarshal(doc, v); err != nil {
		return fmt.Errorf("decoding a stored record: %w", err)
	}
	return nil
}

// memberArgs returns the arguments of qMemberInsert (and qMemberUpdate,
// qMemberUpsert) for m: its columns, then its document.
func memberArgs(m *sdk.Member, global bool) ([]any, error) {
	c := *m
	c.Groups = nil // memberships are edges
	doc := encodeMember(&c)
	item, others := emailValues(m)
	custom := "{}"
	if len(m.Custom) > 0 {
		b, err := json.Marshal(m.Custom)
		if err != nil {
			return nil, err
		}
		custom = string(b)
	}
	return []any{
		m.TenantID, m.ID, m.Version, m.EmailKey, m.UserNameKey, m.ExternalID, string(m.Status), m.Role,
		strings.ToLower(m.DisplayName), strings.ToLower(m.GivenName), strings.ToLower(m.FamilyName),
		strings.ToLower(m.EmployeeNumber), m.ManagerID, item, others, custom,
		m.CreatedAt.Unix(), m.UpdatedAt.Unix(), global, doc,
	}, nil
}

// memberEmails is the position of other_emails in memberArgs.
const memberEmails = 14

// emailValues splits the values [sdk.Cond] compares for emails.value (each
// email item's value, lower-cased) into what the members row answers and
// what member_emails holds: item reports whether one of them is the
// member's EmailKey (most members have one address, that one), and others
// lists the other non-empty ones, sorted, each followed by a newline.
func emailValues(m *sdk.Member) (item bool, others string) {
	var vs []string
	for _, e := range m.Emails {
		switch v := strings.ToLower(e.Value); {
		case v == "":
		case v == m.EmailKey:
			item = true
		default:
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return item, ""
	}
	slices.Sort(vs)
	return item, strings.Join(slices.Compact(vs), "\n") + "\n"
}

// splitEmails returns the values of an other_emails column.
func splitEmails(others string) []string {
	if others == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(others, "\n"), "\n")
}

// scanTenant reads a (doc, seats_used) row: the seats_used column is the
// counter member writes move; the document holds the rest.
func scanTenant(sc interface{ Scan(...any) error }) (*sdk.Tenant, error) {
	var doc []byte
	var used int
	if err := sc.Scan(&doc, &used); err != nil {
		return nil, err
	}
	t := new(sdk.Tenant)
	if err := decode(doc, t); err != nil {
		return nil, err
	}
	t.SeatsUsed = used
	return t, nil
}

// tenantArgs returns the arguments of qTenantInsert for t.
func tenantArgs(t *sdk.Tenant) ([]any, error) {
	doc, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return []any{t.ID, t.Slug, t.Version, t.IncludedSeats, t.ExtraSeats, t.SeatsUsed, doc}, nil
}

// groupArgs returns the arguments of qGroupInsert for g.
func groupArgs(g *sdk.Group) ([]any, error) {
	doc, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	return []any{g.TenantID, g.ID, g.Version, g.NameKey, strings.ToLower(g.DisplayName), g.ExternalID, g.Role, g.CreatedAt.Unix(), g.UpdatedAt.Unix(), doc}, nil
}

func decodeGroup(doc []byte) (*sdk.Group, error) {
	g := new(sdk.Group)
	return g, decode(doc, g)
}

// invitationDoc is an invitation as stored, with the fields sdk.Invitation
// keeps out of its JSON.
type invitationDoc struct {
	*sdk.Invitation
	SecretHash []byte      `json:"secretHash,omitempty"`
	Resends    []time.Time `json:"resends,omitempty"`
}

// invitationArgs returns the arguments of qInvInsert for inv.
func invitationArgs(inv *sdk.Invitation) ([]any, error) {
	doc, err := json.Marshal(invitationDoc{inv, inv.SecretHash, inv.Resends})
	if err != nil {
		return nil, err
	}
	return []any{inv.TenantID, inv.ID, inv.MemberID, string(inv.State), unixNano(inv.ExpiresAt), inv.Version, doc}, nil
}

func decodeInvitation(doc []byte) (*sdk.Invitation, error) {
	d := invitationDoc{Invitation: new(sdk.Invitation)}
	if err := decode(doc, &d); err != nil {
		return nil, err
	}
	d.Invitation.SecretHash, d.Invitation.Resends = d.SecretHash, d.Resends
	return d.Invitation, nil
}

func tokenArgs(t *sdk.Token) ([]any, error) {
	doc, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return []any{t.TenantID, t.ID, t.Hash, doc}, nil
}

func decodeToken(doc []byte) (*sdk.Token, error) {
	t := new(sdk.Token)
	return t, decode(doc, t)
}

func auditArgs(e *sdk.AuditEvent) ([]any, error) {
	doc, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return []any{e.TenantID, e.ID, unixNano(e.Time), e.ActorID, e.TargetID, e.Action, doc}, nil
}

func decodeAudit(doc []byte) (*sdk.AuditEvent, error) {
	e := new(sdk.AuditEvent)
	return e, decode(doc, e)
}

// timeText and parseTime store a time as text at full precision.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// unixNano is t in nanoseconds since 1970 for an index column, clamped to
// int64 (times before 1678 or after 2262, such as the zero time, sort
// first or last).
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minNano):
		return math.MinInt64
	case t.After(maxNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)
