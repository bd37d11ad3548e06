package sdk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Cond is a filter expression over the fields of a member (or of a group):
// comparisons combined with and, or and not. It is what a SCIM filter
// (RFC 7644 §3.4.2.2) becomes once its attribute names are mapped to
// Roster's fields, and what a store translates into its query language.
//
// A comparison has Op, Field and an operand: Value for text fields and
// for [FieldActive] ("true" or "false"), Time for [FieldCreated] and
// [FieldUpdated]. [OpAnd] and [OpOr] combine two or more Args, [OpNot]
// negates exactly one. A nil *Cond matches everything.
//
// The semantics below are the contract every store MUST implement; [Cond.Match]
// is the reference, and the storetest suite checks a store against it:
//
//   - Case-insensitive fields ([FieldEmail], [FieldDisplayName],
//     [FieldGivenName], [FieldFamilyName], [FieldTitle], [FieldDepartment])
//     compare lower-cased values; [FieldEmail] compares the stored
//     [Member.EmailKey], so stores answer it from their email index rather
//     than from a collation. The other text fields are case-exact.
//   - An empty text field is absent: [OpPr] is false for it, [OpEq] with an
//     empty operand is true for it (and only for it), [OpNe] is its negation,
//     and every other comparison is false for it.
//   - [OpCo], [OpSw] and [OpEw] need a non-empty operand. The ordering
//     operators ([OpGt], [OpGe], [OpLt], [OpLe]) compare byte-wise and apply
//     to case-exact fields, [FieldEmail] and the time fields only: a store
//     cannot order case-insensitively without a normalised key.
//   - Times compare at the precision of a second (both sides truncated), the
//     precision SCIM prints them with; they are always present.
//   - [FieldActive] is true exactly for members in [StatusActive]; it takes
//     [OpEq], [OpNe] and [OpPr]. The primary sub-attributes
//     ([FieldEmailPrimary], …) are booleans too, "true" or "false" per item.
//   - A sub-attribute of a multi-valued attribute ([FieldEmailValue],
//     [FieldPhoneType], [FieldAddressLocality], …) has one value per item:
//     a comparison holds when some item satisfies it, [OpNe] is the
//     negation of [OpEq] (no item equals), and an attribute without items
//     is absent. [OpSome] with Field [FieldEmails] (or another multi-valued
//     attribute) holds when one and the same item satisfies its operand,
//     whose comparisons must be on that attribute's sub-attributes; [OpPr]
//     on the attribute itself holds when it has any item.
//   - [FieldUserName] compares the stored [Member.UserNameKey], as
//     [FieldEmail] compares EmailKey. A custom attribute ([CustomField])
//     compares its canonical text case-exactly.
//
// Build conditions with [Compare], [CompareTime], [Present], [And], [Or]
// and [Not]; check them with [Cond.Validate] (every SDK call taking one does).
type Cond struct {
	Op    CondOp
	Field Field
	Value string
	Time  time.Time
	Args  []*Cond
}

// CondOp is the operator of a [Cond]. The comparison operators are those of
// RFC 7644 §3.4.2.2, Table 3; the logical ones those of Table 4.
type CondOp string

// Operators.
const (
	OpEq  CondOp = "eq" // equal
	OpNe  CondOp = "ne" // not equal
	OpCo  CondOp = "co" // contains
	OpSw  CondOp = "sw" // starts with
	OpEw  CondOp = "ew" // ends with
	OpGt  CondOp = "gt" // greater than
	OpGe  CondOp = "ge" // greater than or equal
	OpLt  CondOp = "lt" // less than
	OpLe  CondOp = "le" // less than or equal
	OpPr  CondOp = "pr" // present (has a value)
	OpAnd CondOp = "and"
	OpOr  CondOp = "or"
	OpNot CondOp = "not"
	// OpSome holds when some item of the multi-valued Field satisfies
	// Args[0], whose comparisons are on that attribute's sub-attributes
	// (SCIM's value filter, emails[type eq "work" and value eq "…"]).
	OpSome CondOp = "some"
)

// Field names a member or group field: what a [Cond] compares, and what a
// field mask of [UpdateMemberRequest] names. Profile fields are named as
// in [Profile]'s JSON; sub-attributes of the multi-valued ones as
// "emails.value"; custom attributes as [CustomField](name).
type Field string

// Fields. Groups have FieldID, FieldDisplayName, FieldExternalID,
// FieldRole (the role the group maps to), FieldCreated and FieldUpdated.
const (
	FieldID          Field = "id"
	FieldEmail       Field = "email" // a member's EmailKey (see [Profile.MemberEmail])
	FieldExternalID  Field = "externalId"
	FieldDisplayName Field = "displayName"
	FieldGivenName   Field = "givenName"
	FieldFamilyName  Field = "familyName"
	FieldTitle       Field = "title"
	FieldDepartment  Field = "department"
	FieldManagerID   Field = "managerId"
	FieldRole        Field = "role"
	FieldStatus      Field = "status"
	FieldActive      Field = "active"
	FieldCreated     Field = "created"
	FieldUpdated     Field = "updated"

	FieldUserName          Field = "userName" // compared through UserNameKey
	FieldFormattedName     Field = "formattedName"
	FieldMiddleName        Field = "middleName"
	FieldHonorificPrefix   Field = "honorificPrefix"
	FieldHonorificSuffix   Field = "honorificSuffix"
	FieldNickName          Field = "nickName"
	FieldProfileURL        Field = "profileUrl"
	FieldUserType          Field = "userType"
	FieldPreferredLanguage Field = "preferredLanguage"
	FieldLocale            Field = "locale"
	FieldTimezone          Field = "timezone"
	FieldEmployeeNumber    Field = "employeeNumber"
	FieldCostCenter        Field = "costCenter"
	FieldOrganization      Field = "organization"
	FieldDivision          Field = "division"

	// Multi-valued attributes: in a field mask, the whole list; in a
	// [Cond], the container of an [OpSome] (or of OpPr: has any item).
	FieldEmails       Field = "emails"
	FieldPhoneNumbers Field = "phoneNumbers"
	FieldAddresses    Field = "addresses"
	// FieldCustom names every custom attribute at once in a field mask.
	FieldCustom Field = "custom"

	// Sub-attributes of the multi-valued attributes. A comparison on one
	// of them outside an [OpSome] holds when some item satisfies it.
	FieldEmailValue        Field = "emails.value"
	FieldEmailType         Field = "emails.type"
	FieldEmailDisplay      Field = "emails.display"
	FieldEmailPrimary      Field = "emails.primary"
	FieldPhoneValue        Field = "phoneNumbers.value"
	FieldPhoneType         Field = "phoneNumbers.type"
	FieldPhoneDisplay      Field = "phoneNumbers.display"
	FieldPhonePrimary      Field = "phoneNumbers.primary"
	FieldAddressFormatted  Field = "addresses.formatted"
	FieldAddressStreet     Field = "addresses.streetAddress"
	FieldAddressLocality   Field = "addresses.locality"
	FieldAddressRegion     Field = "addresses.region"
	FieldAddressPostalCode Field = "addresses.postalCode"
	FieldAddressCountry    Field = "addresses.country"
	FieldAddressType       Field = "addresses.type"
	FieldAddressPrimary    Field = "addresses.primary"
)

type fieldKind int

const (
	kindExact fieldKind = iota + 1 // case-exact text
	kindFold                       // case-insensitive text, no normalised key
	kindEmail                      // case-insensitive through a stored key (EmailKey, UserNameKey)
	kindBool
	kindTime
	kindList // a multi-valued container
)

func (f Field) kind() fieldKind {
	switch f {
	case FieldID, FieldExternalID, FieldManagerID, FieldRole, FieldStatus:
		return kindExact
	case FieldEmail, FieldUserName:
		return kindEmail
	case FieldActive, FieldEmailPrimary, FieldPhonePrimary, FieldAddressPrimary:
		return kindBool
	case FieldCreated, FieldUpdated:
		return kindTime
	case FieldEmails, FieldPhoneNumbers, FieldAddresses:
		return kindList
	case FieldDisplayName, FieldGivenName, FieldFamilyName, FieldTitle, FieldDepartment,
		FieldFormattedName, FieldMiddleName, FieldHonorificPrefix, FieldHonorificSuffix, FieldNickName,
		FieldProfileURL, FieldUserType, FieldPreferredLanguage, FieldLocale, FieldTimezone,
		FieldEmployeeNumber, FieldCostCenter, FieldOrganization, FieldDivision,
		FieldEmailValue, FieldEmailType, FieldEmailDisplay, FieldPhoneValue, FieldPhoneType, FieldPhoneDisplay,
		FieldAddressFormatted, FieldAddressStreet, FieldAddressLocality, FieldAddressRegion,
		FieldAddressPostalCode, FieldAddressCountry, FieldAddressType:
		return kindFold
	}
	if _, ok := f.customName(); ok {
		return kindExact
	}
	return 0
}

// Container returns, for a sub-attribute of a multi-valued attribute such
// as [FieldEmailValue], that attribute ([FieldEmails]); otherwise "".
func (f Field) Container() Field {
	if _, ok := f.customName(); ok {
		return ""
	}
	if c, _, ok := strings.Cut(string(f), "."); ok {
		return Field(c)
	}
	return ""
}

// IsList reports whether f is a multi-valued attribute ([FieldEmails],
// [FieldPhoneNumbers], [FieldAddresses]).
func (f Field) IsList() bool { return f.kind() == kindList }

// IsCustom reports whether f names a custom attribute, and which.
func (f Field) IsCustom() (string, bool) { return f.customName() }

// CaseInsensitive reports whether comparisons on f ignore case.
func (f Field) CaseInsensitive() bool { k := f.kind(); return k == kindFold || k == kindEmail }

// IsTime reports whether f holds a time (its operand is Cond.Time).
func (f Field) IsTime() bool { return f.kind() == kindTime }

// IsBool reports whether f is a boolean (its operand is "true" or "false").
func (f Field) IsBool() bool { return f.kind() == kindBool }

// ForGroups reports whether f is a field of groups as well as of members.
func (f Field) ForGroups() bool {
	switch f {
	case FieldID, FieldDisplayName, FieldExternalID, FieldRole, FieldCreated, FieldUpdated:
		return true
	}
	return false
}

// Compare returns the comparison "field op value" for a text or boolean
// field.
func Compare(f Field, op CondOp, value string) *Cond {
	return &Cond{Op: op, Field: f, Value: value}
}

// CompareTime returns the comparison "field op t" for a time field.
func CompareTime(f Field, op CondOp, t time.Time) *Cond {
	return &Cond{Op: op, Field: f, Time: t}
}

// Present returns "field pr".
func Present(f Field) *Cond { return &Cond{Op: OpPr, Field: f} }

// And returns the conjunction of cs; nil operands (match everything) are
// dropped, and a single remaining operand is returned as is.
func And(cs ...*Cond) *Cond { return junction(OpAnd, cs) }

// Or returns the disjunction of cs. A nil operand matches everything, so
// the disjunction does too and Or returns nil.
func Or(cs ...*Cond) *Cond {
	for _, c := range cs {
		if c == nil {
			return nil
		}
	}
	return junction(OpOr, cs)
}

func junction(op CondOp, cs []*Cond) *Cond {
	args := make([]*Cond, 0, len(cs))
	for _, c := range cs {
		if c == nil {
			continue
		}
		if c.Op == op { // flatten (a and b) and c
			args = append(args, c.Args...)
			continue
		}
		args = append(args, c)
	}
	switch len(args) {
	case 0:
		return nil
	case 1:
		return args[0]
	}
	return &Cond{Op: op, Args: args}
}

// Not returns the negation of c. Not(nil) matches nothing.
func Not(c *Cond) *Cond {
	if c == nil {
		c = Present(FieldID) // always true, so its negation is always false
	}
	return &Cond{Op: OpNot, Args: []*Cond{c}}
}

// MatchNone returns a condition no member or group satisfies.
func MatchNone() *Cond { return Not(nil) }

// Limits on a [Cond], so that a hostile filter cannot make a query
// arbitrarily expensive to translate or evaluate.
const (
	MaxCondDepth = 16
	MaxCondNodes = 256
	MaxCondValue = 1024 // bytes of a comparison operand
)

// Validate checks c against the rules above for members (groups = false)
// or groups (groups = true): known operators and fields, operands of the
// right type, operators the field supports, and the size limits. It returns
// a CodeInvalidArgument [*Error] with Field "Where".
func (c *Cond) Validate(groups bool) error {
	nodes := 0
	return c.validate(groups, 1, &nodes)
}

func (c *Cond) validate(groups bool, depth int, nodes *int) error {
	const op = "sdk.Cond.Validate"
	if c == nil {
		return nil
	}
	*nodes++
	if depth > MaxCondDepth {
		return invalid(op, "Where", fmt.Sprintf("the expression is nested more than %d levels deep", MaxCondDepth))
	}
	if *nodes > MaxCondNodes {
		return invalid(op, "Where", fmt.Sprintf("the expression has more than %d terms", MaxCondNodes))
	}
	switch c.Op {
	case OpAnd, OpOr:
		if len(c.Args) < 2 {
			return invalid(op, "Where", fmt.Sprintf("%q needs at least two operands", c.Op))
		}
		for _, a := range c.Args {
			if a == nil {
				return invalid(op, "Where", fmt.Sprintf("%q has a nil operand", c.Op))
			}
			if err := a.validate(groups, depth+1, nodes); err != nil {
				return err
			}
		}
		return nil
	case OpNot:
		if len(c.Args) != 1 || c.Args[0] == nil {
			return invalid(op, "Where", `"not" needs exactly one operand`)
		}
		return c.Args[0].validate(groups, depth+1, nodes)
	case OpSome:
		if groups || c.Field.kind() != kindList {
			return invalid(op, "Where", fmt.Sprintf("%q needs a multi-valued field, not %q", c.Op, c.Field))
		}
		if len(c.Args) != 1 || c.Args[0] == nil {
			return invalid(op, "Where", `"some" needs exactly one operand`)
		}
		var bad Field
		c.Args[0].walk(func(x *Cond) {
			if x.Op != OpAnd && x.Op != OpOr && x.Op != OpNot && x.Field.Container() != c.Field && bad == "" {
				bad = x.Field
			}
		})
		if bad != "" {
			return invalid(op, "Where", fmt.Sprintf("%q is not a sub-attribute of %q", bad, c.Field))
		}
		return c.Args[0].validate(groups, depth+1, nodes)
	}
	k := c.Field.kind()
	if k == 0 || (groups && !c.Field.ForGroups()) {
		return invalid(op, "Where", fmt.Sprintf("%q is not a field that can be filtered", c.Field))
	}
	if len(c.Args) != 0 {
		return invalid(op, "Where", fmt.Sprintf("a comparison on %q has operands", c.Field))
	}
	if k == kindList && c.Op != OpPr {
		return invalid(op, "Where", fmt.Sprintf("%q is multi-valued: compare one of its sub-attributes, or use %q or %q", c.Field, OpPr, OpSome))
	}
	switch c.Op {
	case OpPr:
		return nil
	case OpEq, OpNe:
	case OpCo, OpSw, OpEw:
		if k == kindBool || k == kindTime {
			return invalid(op, "Where", fmt.Sprintf("%q does not apply to %q", c.Op, c.Field))
		}
		if c.Value == "" {
			return invalid(op, "Where", fmt.Sprintf("%q needs a non-empty operand", c.Op))
		}
	case OpGt, OpGe, OpLt, OpLe:
		if k == kindBool || k == kindFold {
			return invalid(op, "Where", fmt.Sprintf("%q does not apply to %q (ordering is supported on case-exact fields, email and times)", c.Op, c.Field))
		}
	default:
		return invalid(op, "Where", fmt.Sprintf("%q is not an operator", c.Op))
	}
	switch k {
	case kindTime:
		if c.Time.IsZero() {
			return invalid(op, "Where", fmt.Sprintf("a comparison on %q needs a time", c.Field))
		}
	case kindBool:
		if c.Value != "true" && c.Value != "false" {
			return invalid(op, "Where", fmt.Sprintf("%q compares with true or false, not %q", c.Field, c.Value))
		}
	default:
		if len(c.Value) > MaxCondValue {
			return invalid(op, "Where", fmt.Sprintf("an operand is longer than %d bytes", MaxCondValue))
		}
		if !utf8.ValidString(c.Value) {
			return invalid(op, "Where", "an operand is not valid UTF-8")
		}
	}
	return nil
}

// Operand returns the comparison operand as a store should match it
// against the stored value: lower-cased for case-insensitive fields (and
// trimmed for an email equality, like [NormalizeEmail]), unchanged
// otherwise.
func (c *Cond) Operand() string {
	switch c.Field.kind() {
	case kindEmail:
		if c.Op == OpEq || c.Op == OpNe {
			return NormalizeEmail(c.Value)
		}
		return strings.ToLower(c.Value)
	case kindFold:
		return strings.ToLower(c.Value)
	}
	return c.Value
}

// String returns c in SCIM-like filter syntax, for logs and error messages.
func (c *Cond) String() string {
	if c == nil {
		return "true"
	}
	switch c.Op {
	case OpAnd, OpOr:
		parts := make([]string, len(c.Args))
		for i, a := range c.Args {
			parts[i] = a.String()
		}
		return "(" + strings.Join(parts, " "+string(c.Op)+" ") + ")"
	case OpNot:
		if len(c.Args) == 1 {
			return "not (" + c.Args[0].String() + ")"
		}
		return "not ()"
	case OpPr:
		return string(c.Field) + " pr"
	case OpSome:
		if len(c.Args) == 1 {
			return string(c.Field) + "[" + c.Args[0].String() + "]"
		}
		return string(c.Field) + "[]"
	}
	if c.Field.IsTime() {
		return fmt.Sprintf("%s %s %q", c.Field, c.Op, c.Time.UTC().Format(time.RFC3339))
	}
	if c.Field.IsBool() {
		return fmt.Sprintf("%s %s %s", c.Field, c.Op, c.Value)
	}
	return fmt.Sprintf("%s %s %q", c.Field, c.Op, c.Value)
}

// walk calls fn on c and every condition below it.
func (c *Cond) walk(fn func(*Cond)) {
	if c == nil {
		return
	}
	fn(c)
	for _, a := range c.Args {
		a.walk(fn)
	}
}

// Fields returns the fields c compares, each once, in the order met.
// A store uses it to decide whether its indexes can answer c.
func (c *Cond) Fields() []Field {
	var out []Field
	c.walk(func(x *Cond) {
		if x.Op != OpAnd && x.Op != OpOr && x.Op != OpNot && !slices.Contains(out, x.Field) {
			out = append(out, x.Field)
		}
	})
	return out
}

// pinned returns, when every match of c must have a given value of a
// unique key (c is "key eq v", or a conjunction containing one), that key,
// the value as stored, and the rest of the conjunction. Searches use it to
// answer "userName eq …" with one indexed read whatever the store.
func (c *Cond) pinned(keys ...Field) (Field, string, *Cond, bool) {
	if c == nil {
		return "", "", nil, false
	}
	isKey := func(a *Cond) bool {
		if a.Op != OpEq || a.Operand() == "" {
			return false
		}
		for _, k := range keys {
			if a.Field == k {
				return true
			}
		}
		return false
	}
	if isKey(c) {
		return c.Field, c.Operand(), nil, true
	}
	if c.Op != OpAnd {
		return "", "", nil, false
	}
	for i, a := range c.Args {
		if isKey(a) {
			rest := make([]*Cond, 0, len(c.Args)-1)
			rest = append(rest, c.Args[:i]...)
			rest = append(rest, c.Args[i+1:]...)
			return a.Field, a.Operand(), And(rest...), true
		}
	}
	return "", "", nil, false
}

// MemberSearch selects a page of members by a [Cond].
type MemberSearch struct {
	Where *Cond
	ListOptions
	// Offset pages by position, as SCIM's startIndex does (Offset is
	// startIndex-1): the page starts after skipping this many matching
	// members, counted from the Cursor when one is set, else from the start
	// of the list. Any page at any position costs one store query, which
	// the database serves from its (tenant, id) index, so any server can
	// answer any page without remembering earlier ones. Positions shift
	// with writes: a member added or removed before the position between
	// two pages makes the next page repeat or skip one. A Cursor does not
	// (it resumes right after the last member returned, whatever was
	// written since), so walk a whole list by NextCursor when you can, and
	// use Offset when the caller names positions (SCIM) or jumps.
	// NextCursor continues after the page either way. An Offset at or past
	// the end returns an empty page, not an error; a negative one is a
	// CodeInvalidArgument error and nothing is read.
	Offset int
	// Total asks for the number of members matching Where (whatever the
	// page), such as a SCIM list's totalResults.
	Total bool
}

// SearchMembers returns a page of the tenant's members matching s.Where, in
// the stable id order of [Client.ListMembers], and, when s.Total is set,
// how many members match in all (otherwise -1). A condition that pins a
// unique key — "email eq …", "userName eq …", "id eq …", "externalId eq
// …", alone or in a conjunction — is answered with one indexed read.
func (c *Client) SearchMembers(ctx context.Context, tenantID string, s MemberSearch) (*Page[*Member], int, error) {
	const op = "sdk.SearchMembers"
	size, after, err := pageParams(op, s.ListOptions)
	if err != nil {
		return nil, 0, err
	}
	if s.Offset < 0 {
		return nil, 0, invalid(op, "Offset", "must not be negative")
	}
	if err := s.Where.Validate(false); err != nil {
		return nil, 0, withOp(op, err)
	}
	total := -1
	if key, val, rest, ok := s.Where.pinned(FieldID, FieldEmail, FieldUserName, FieldExternalID); ok {
		var m *Member
		switch key {
		case FieldID:
			m, err = c.store.GetMember(ctx, tenantID, val)
		case FieldEmail:
			m, err = c.store.GetMemberBy(ctx, tenantID, KeyEmail, val)
		case FieldUserName:
			m, err = c.store.GetMemberBy(ctx, tenantID, KeyUserName, val)
		default:
			m, err = c.store.GetMemberBy(ctx, tenantID, KeyExternalID, val)
		}
		if err != nil && !isNotFound(err) {
			return nil, 0, withOp(op, err)
		}
		items := []*Member{}
		if m != nil && rest.Match(m) {
			if s.Total {
				total = 1
			}
			if m.ID > after && s.Offset == 0 {
				items = append(items, m)
			}
		} else if s.Total {
			total = 0
		}
		return &Page[*Member]{Items: items}, total, nil
	}
	ms, err := c.store.ListMembers(ctx, tenantID, MemberQuery{Filter: MemberFilter{Where: s.Where}, After: after, Offset: s.Offset, Limit: size + 1})
	if err != nil {
		return nil, 0, withOp(op, err)
	}
	if s.Total {
		if total, err = c.store.CountMembers(ctx, tenantID, MemberFilter{Where: s.Where}); err != nil {
			return nil, 0, withOp(op, err)
		}
	}
	return makePage(ms, size, func(m *Member) string { return m.ID }), total, nil
}

// CountMembersMatching returns how many of the tenant's members match
// where: the Total of [Client.SearchMembers] without a page, one store
// command. A SCIM list with count=0 (RFC 7644 §3.4.2.4) asks for just it.
func (c *Client) CountMembersMatching(ctx context.Context, tenantID string, where *Cond) (int, error) {
	const op = "sdk.CountMembersMatching"
	if err := where.Validate(false); err != nil {
		return 0, withOp(op, err)
	}
	n, err := c.store.CountMembers(ctx, tenantID, MemberFilter{Where: where})
	return n, withOp(op, err)
}
