package sdk

import (
	"strconv"
	"strings"
	"time"
)

// The reference semantics of a [Cond]: how it evaluates on a member (its
// profile's single- and multi-valued fields), on one item of a
// multi-valued attribute inside [OpSome], and on a group. Stores implement
// the same semantics in their query language; the storetest suite checks
// them against these.

// Match reports whether m satisfies c (nil matches everything). It is the
// reference semantics stores implement; c should be valid.
func (c *Cond) Match(m *Member) bool {
	return c.eval(memberValues{m})
}

// memberValues reads a member's fields for [Cond.eval].
type memberValues struct{ m *Member }

func (v memberValues) values(f Field) []string {
	m := v.m
	switch f {
	case FieldID:
		return []string{m.ID}
	case FieldEmail:
		return []string{m.EmailKey}
	case FieldUserName:
		return []string{m.UserNameKey}
	case FieldRole:
		return []string{m.Role}
	case FieldStatus:
		return []string{string(m.Status)}
	case FieldActive:
		return []string{strconv.FormatBool(m.Status == StatusActive)}
	}
	if name, ok := f.customName(); ok {
		return []string{m.Custom[name]}
	}
	if c := f.Container(); c != "" {
		var out []string
		for _, it := range m.items(c) {
			out = append(out, it.values(f)...)
		}
		return out
	}
	if f.kind() == kindList {
		return make([]string, len(m.items(f)))
	}
	for i := range profileScalars {
		if profileScalars[i].field == f {
			return []string{*profileScalars[i].get(&m.Profile)}
		}
	}
	return nil
}

func (v memberValues) time(f Field) time.Time {
	if f == FieldCreated {
		return v.m.CreatedAt
	}
	return v.m.UpdatedAt
}

func (v memberValues) items(f Field) []valueSource {
	its := v.m.items(f)
	out := make([]valueSource, len(its))
	for i := range its {
		out[i] = its[i]
	}
	return out
}

// item is one item of a multi-valued attribute, for [Cond.eval].
type item struct {
	e *Email
	p *PhoneNumber
	a *Address
}

func (m *Member) items(f Field) []item {
	var out []item
	switch f {
	case FieldEmails:
		for i := range m.Emails {
			out = append(out, item{e: &m.Emails[i]})
		}
	case FieldPhoneNumbers:
		for i := range m.PhoneNumbers {
			out = append(out, item{p: &m.PhoneNumbers[i]})
		}
	case FieldAddresses:
		for i := range m.Addresses {
			out = append(out, item{a: &m.Addresses[i]})
		}
	}
	return out
}

func (it item) values(f Field) []string {
	b := strconv.FormatBool
	switch {
	case it.e != nil:
		switch f {
		case FieldEmailValue:
			return []string{it.e.Value}
		case FieldEmailType:
			return []string{it.e.Type}
		case FieldEmailDisplay:
			return []string{it.e.Display}
		case FieldEmailPrimary:
			return []string{b(it.e.Primary)}
		}
	case it.p != nil:
		switch f {
		case FieldPhoneValue:
			return []string{it.p.Value}
		case FieldPhoneType:
			return []string{it.p.Type}
		case FieldPhoneDisplay:
			return []string{it.p.Display}
		case FieldPhonePrimary:
			return []string{b(it.p.Primary)}
		}
	case it.a != nil:
		switch f {
		case FieldAddressFormatted:
			return []string{it.a.Formatted}
		case FieldAddressStreet:
			return []string{it.a.StreetAddress}
		case FieldAddressLocality:
			return []string{it.a.Locality}
		case FieldAddressRegion:
			return []string{it.a.Region}
		case FieldAddressPostalCode:
			return []string{it.a.PostalCode}
		case FieldAddressCountry:
			return []string{it.a.Country}
		case FieldAddressType:
			return []string{it.a.Type}
		case FieldAddressPrimary:
			return []string{b(it.a.Primary)}
		}
	}
	return nil
}

func (it item) time(Field) time.Time      { return time.Time{} }
func (it item) items(Field) []valueSource { return nil }

// groupValues reads a group's fields for [Cond.eval]; member-only fields
// are absent.
type groupValues struct{ g *Group }

func (v groupValues) values(f Field) []string {
	switch f {
	case FieldID:
		return []string{v.g.ID}
	case FieldDisplayName:
		return []string{v.g.DisplayName}
	case FieldExternalID:
		return []string{v.g.ExternalID}
	case FieldRole:
		return []string{v.g.Role}
	}
	return []string{""}
}

func (v groupValues) time(f Field) time.Time {
	if f == FieldCreated {
		return v.g.CreatedAt
	}
	return v.g.UpdatedAt
}

func (v groupValues) items(Field) []valueSource { return nil }

// valueSource is what [Cond.eval] reads: a member, a group, or one item
// of a multi-valued attribute.
type valueSource interface {
	values(f Field) []string // one value per item for multi-valued sub-attributes
	time(f Field) time.Time
	items(f Field) []valueSource
}

// MatchGroup reports whether g satisfies c (nil matches everything).
// Member-only fields are absent on a group.
func (c *Cond) MatchGroup(g *Group) bool {
	return c.eval(groupValues{g})
}

func (c *Cond) eval(src valueSource) bool {
	if c == nil {
		return true
	}
	switch c.Op {
	case OpAnd:
		for _, a := range c.Args {
			if !a.eval(src) {
				return false
			}
		}
		return true
	case OpOr:
		for _, a := range c.Args {
			if a.eval(src) {
				return true
			}
		}
		return false
	case OpNot:
		return len(c.Args) == 1 && !c.Args[0].eval(src)
	case OpSome:
		for _, it := range src.items(c.Field) {
			if len(c.Args) == 1 && c.Args[0].eval(it) {
				return true
			}
		}
		return false
	}
	if c.Field.IsTime() {
		return compareTime(c.Op, src.time(c.Field), c.Time)
	}
	vals := src.values(c.Field)
	x := c.Operand()
	if c.Field.kind() == kindList {
		return c.Op == OpPr && len(vals) > 0
	}
	// A multi-valued attribute without items is absent: one empty value.
	if len(vals) == 0 {
		vals = []string{""}
	}
	// ne is the negation of eq (no item equals); every other operator
	// holds when some item satisfies it.
	if c.Op == OpNe {
		return !(&Cond{Op: OpEq, Field: c.Field, Value: c.Value}).eval(src)
	}
	for _, v := range vals {
		if c.Field.CaseInsensitive() {
			v = strings.ToLower(v)
		}
		if compareText(c.Op, v, x) {
			return true
		}
	}
	return false
}

func compareText(op CondOp, v, x string) bool {
	switch op {
	case OpPr:
		return v != ""
	case OpEq:
		return v == x
	case OpNe:
		return v != x
	case OpCo:
		return x != "" && strings.Contains(v, x)
	case OpSw:
		return x != "" && strings.HasPrefix(v, x)
	case OpEw:
		return x != "" && strings.HasSuffix(v, x)
	}
	if v == "" {
		return false
	}
	switch op {
	case OpGt:
		return v > x
	case OpGe:
		return v >= x
	case OpLt:
		return v < x
	case OpLe:
		return v <= x
	}
	return false
}

func compareTime(op CondOp, v, x time.Time) bool {
	if op == OpPr {
		return !v.IsZero()
	}
	v, x = v.Truncate(time.Second), x.Truncate(time.Second)
	switch op {
	case OpEq:
		return v.Equal(x)
	case OpNe:
		return !v.Equal(x)
	case OpGt:
		return v.After(x)
	case OpGe:
		return !v.Before(x)
	case OpLt:
		return v.Before(x)
	case OpLe:
		return !v.After(x)
	}
	return false
}
