package scim

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/sdk"
)

// parseFilter parses a filter expression (RFC 7644 §3.4.2.2) with
// parseFilterExpr (parse.go), within a length limit.
func parseFilter(s string) (filter.Expression, error) {
	if len(s) > maxFilterLength {
		return nil, badRequest(typeInvalidFilter, "The filter is longer than %d bytes.", maxFilterLength)
	}
	if !utf8.ValidString(s) {
		return nil, badRequest(typeInvalidFilter, "The filter is not valid UTF-8.")
	}
	e, err := parseFilterExpr(strings.TrimSpace(s))
	if err != nil {
		return nil, badRequest(typeInvalidFilter, "The filter could not be parsed: %s.", shorten(err.Error(), 200))
	}
	return e, nil
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// skipString returns the index just after the JSON string starting at i
// (len(s)+1 when it is not terminated).
func skipString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s) + 1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameChar(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$'
}

// filterKind is the resource a filter is about.
type filterKind int

const (
	usersFilter filterKind = iota
	groupsFilter
)

// translate maps a parsed SCIM filter to the SDK's filter AST, attribute
// by attribute (RFC 7643 §4.1, §4.2, §4.3, §3.1). Attributes of the schema
// that Roster does not store are absent: "pr" is false for them, "eq" never
// matches, "ne" always does. Attributes outside the schema are an
// invalidFilter error (RFC 7644 §3.4.2.2), as are operators an attribute
// does not support.
func translate(e filter.Expression, kind filterKind) (*sdk.Cond, error) {
	c, err := tr(e, kind, 0)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(kind == groupsFilter); err != nil {
		return nil, badRequest(typeInvalidFilter, "%s", messageOf(err))
	}
	return c, nil
}

const maxFilterDepth = 32

// always and never are the conditions a constant comparison folds to.
var never = sdk.MatchNone()

func tr(e filter.Expression, kind filterKind, depth int) (*sdk.Cond, error) {
	if depth > maxFilterDepth {
		return nil, badRequest(typeInvalidFilter, "The filter is nested too deeply.")
	}
	switch x := e.(type) {
	case *filter.LogicalExpression:
		// Chains of and/or recurse without counting: the SDK flattens
		// them, and the filter's length bounds them.
		l, err := tr(x.Left, kind, depth)
		if err != nil {
			return nil, err
		}
		r, err := tr(x.Right, kind, depth)
		if err != nil {
			return nil, err
		}
		if x.Operator == filter.AND {
			return sdk.And(l, r), nil
		}
		return sdk.Or(l, r), nil
	case *filter.NotExpression:
		c, err := tr(x.Expression, kind, depth+1)
		if err != nil {
			return nil, err
		}
		return sdk.Not(c), nil
	case *filter.ValuePath:
		return valuePath(x, kind, depth)
	case *filter.AttributeExpression:
		return compare(x.AttributePath, "", x.Operator, x.CompareValue, kind)
	}
	return nil, badRequest(typeInvalidFilter, "Unsupported filter expression.")
}

// valuePath translates attr[filter] (RFC 7644 §3.4.2.2): the filter's
// comparisons are on sub-attributes of attr.
func valuePath(x *filter.ValuePath, kind filterKind, depth int) (*sdk.Cond, error) {
	var walk func(e filter.Expression, depth int) (*sdk.Cond, error)
	walk = func(e filter.Expression, depth int) (*sdk.Cond, error) {
		if depth > maxFilterDepth {
			return nil, badRequest(typeInvalidFilter, "The filter is nested too deeply.")
		}
		switch y := e.(type) {
		case *filter.LogicalExpression:
			l, err := walk(y.Left, depth+1)
			if err != nil {
				return nil, err
			}
			r, err := walk(y.Right, depth+1)
			if err != nil {
				return nil, err
			}
			if y.Operator == filter.AND {
				return sdk.And(l, r), nil
			}
			return sdk.Or(l, r), nil
		case *filter.NotExpression:
			c, err := walk(y.Expression, depth+1)
			if err != nil {
				return nil, err
			}
			return sdk.Not(c), nil
		case *filter.AttributeExpression:
			if y.AttributePath.URIPrefix != nil || y.AttributePath.SubAttribute != nil {
				return nil, badRequest(typeInvalidFilter, "%q is not a sub-attribute of %s.", y.AttributePath.String(), x.AttributePath.AttributeName)
			}
			return compare(x.AttributePath, y.AttributePath.AttributeName, y.Operator, y.CompareValue, kind)
		}
		return nil, badRequest(typeInvalidFilter, "Unsupported filter inside [ ].")
	}
	if x.AttributePath.SubAttribute != nil {
		return nil, badRequest(typeInvalidFilter, "A value filter applies to a multi-valued attribute, not to %q.", x.AttributePath.String())
	}
	return walk(x.ValueFilter, depth+1)
}

// compare translates one comparison. sub, when set, overrides the path's
// sub-attribute (inside a value filter).
func compare(p filter.AttributePath, sub string, op filter.CompareOperator, v any, kind filterKind) (*sdk.Cond, error) {
	if sub == "" {
		sub = p.SubAttributeName()
	}
	attr, s := strings.ToLower(p.AttributeName), strings.ToLower(sub)
	uri := p.URI()
	ext := false
	switch {
	case uri == "":
	case kind == usersFilter && strings.EqualFold(uri, userURN), kind == groupsFilter && strings.EqualFold(uri, groupURN):
	case kind == usersFilter && strings.EqualFold(uri, enterpriseURN):
		ext = true
	default:
		return nil, badRequest(typeInvalidFilter, "%.100q is not a schema of this resource.", uri)
	}
	cop := sdk.CondOp(strings.ToLower(string(op)))
	if attr == "meta" {
		switch s {
		case "created":
			return timeCond(sdk.FieldCreated, cop, v)
		case "lastmodified":
			return timeCond(sdk.FieldUpdated, cop, v)
		case "resourcetype":
			want := "User"
			if kind == groupsFilter {
				want = "Group"
			}
			return constCond(cop, want, v, false)
		case "location", "version":
			return nil, badRequest(typeInvalidFilter, "meta.%s cannot be filtered.", sub)
		}
		return nil, badRequest(typeInvalidFilter, "%q is not a sub-attribute of meta.", sub)
	}
	if attr == "id" && s == "" {
		return textCond(sdk.FieldID, cop, v)
	}
	if attr == "externalid" && s == "" {
		return textCond(sdk.FieldExternalID, cop, v)
	}
	if kind == groupsFilter {
		switch {
		case attr == "displayname" && s == "":
			return textCond(sdk.FieldDisplayName, cop, v)
		case attr == "members":
			return nil, badRequest(typeInvalidFilter, "Groups cannot be filtered by members.")
		}
		return unknownAttr(groupSchema, attr, s, cop)
	}
	if ext {
		switch {
		case attr == "department" && s == "":
			return textCond(sdk.FieldDepartment, cop, v)
		case attr == "manager" && (s == "" || s == "value"):
			return textCond(sdk.FieldManagerID, cop, v)
		}
		return unknownAttr(enterpriseSchema, attr, s, cop)
	}
	switch attr {
	case "username":
		if s == "" {
			return textCond(sdk.FieldEmail, cop, v)
		}
	case "displayname", "title":
		if s == "" {
			f := sdk.FieldDisplayName
			if attr == "title" {
				f = sdk.FieldTitle
			}
			return textCond(f, cop, v)
		}
	case "name":
		switch s {
		case "givenname":
			return textCond(sdk.FieldGivenName, cop, v)
		case "familyname":
			return textCond(sdk.FieldFamilyName, cop, v)
		}
	case "active":
		if s == "" {
			return boolCond(cop, v)
		}
	case "emails":
		// One email, the member's: {value: email, type: "work", primary: true}.
		switch s {
		case "", "value":
			return textCond(sdk.FieldEmail, cop, v)
		case "type":
			return constCond(cop, "work", v, true)
		case "primary":
			return constCond(cop, "true", v, false)
		case "display":
			return constCond(cop, "", v, true)
		}
		return nil, badRequest(typeInvalidFilter, "%q is not a sub-attribute of emails.", sub)
	case "roles":
		if s == "" || s == "value" {
			return textCond(sdk.FieldRole, cop, v)
		}
	case "groups":
		return nil, badRequest(typeInvalidFilter, "Users cannot be filtered by groups; read the group's members instead.")
	case "password":
		return nil, badRequest(typeInvalidFilter, "password cannot be filtered.")
	}
	return unknownAttr(userSchema, attr, s, cop)
}

// unknownAttr handles an attribute Roster does not store: absent when the
// schema defines it, an error otherwise.
func unknownAttr(sc schema.Schema, attr, sub string, op sdk.CondOp) (*sdk.Cond, error) {
	a, ok := sc.Attributes.ContainsAttribute(attr)
	if !ok {
		a, ok = commonAttrs.ContainsAttribute(attr)
	}
	if ok && sub != "" {
		_, ok = a.SubAttributes().ContainsAttribute(sub)
	}
	if !ok {
		name := attr
		if sub != "" {
			name += "." + sub
		}
		return nil, badRequest(typeInvalidFilter, "%.100q is not an attribute of this resource.", name)
	}
	return absent(op)
}

// absent is what a comparison on an attribute without a value yields.
func absent(op sdk.CondOp) (*sdk.Cond, error) {
	if op == sdk.OpNe {
		return nil, nil
	}
	if !validOp(op) {
		return nil, badRequest(typeInvalidFilter, "%q is not a comparison operator.", op)
	}
	return never, nil
}

func validOp(op sdk.CondOp) bool {
	switch op {
	case sdk.OpEq, sdk.OpNe, sdk.OpCo, sdk.OpSw, sdk.OpEw, sdk.OpGt, sdk.OpGe, sdk.OpLt, sdk.OpLe, sdk.OpPr:
		return true
	}
	return false
}

func textCond(f sdk.Field, op sdk.CondOp, v any) (*sdk.Cond, error) {
	if !validOp(op) {
		return nil, badRequest(typeInvalidFilter, "%q is not a comparison operator.", op)
	}
	if op == sdk.OpPr {
		return sdk.Present(f), nil
	}
	switch v.(type) {
	case map[string]any, []any:
		return nil, badRequest(typeInvalidFilter, "A comparison value must be a string, number, boolean or null.")
	}
	return sdk.Compare(f, op, compareString(v)), nil
}

func boolCond(op sdk.CondOp, v any) (*sdk.Cond, error) {
	if op == sdk.OpPr {
		return sdk.Present(sdk.FieldActive), nil
	}
	b, ok := asBool(v)
	if !ok || (op != sdk.OpEq && op != sdk.OpNe) {
		return nil, badRequest(typeInvalidFilter, "active compares with eq or ne and true or false.")
	}
	return sdk.Compare(sdk.FieldActive, op, fmt.Sprint(b)), nil
}

func timeCond(f sdk.Field, op sdk.CondOp, v any) (*sdk.Cond, error) {
	if op == sdk.OpPr {
		return sdk.Present(f), nil
	}
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, compareString(s))
	if err != nil {
		return nil, badRequest(typeInvalidFilter, "meta times compare with an RFC 3339 date-time such as \"2026-01-02T03:04:05Z\".")
	}
	switch op {
	case sdk.OpEq, sdk.OpNe, sdk.OpGt, sdk.OpGe, sdk.OpLt, sdk.OpLe:
		return sdk.CompareTime(f, op, t), nil
	}
	return nil, badRequest(typeInvalidFilter, "%q does not apply to a date-time.", op)
}

// constCond folds a comparison against a value every member has (such as
// emails.type, always "work").
func constCond(op sdk.CondOp, have string, v any, fold bool) (*sdk.Cond, error) {
	if !validOp(op) {
		return nil, badRequest(typeInvalidFilter, "%q is not a comparison operator.", op)
	}
	c := sdk.Compare(sdk.FieldExternalID, op, compareString(v))
	if fold {
		c.Field = sdk.FieldEmail
	}
	if op != sdk.OpPr {
		if err := c.Validate(false); err != nil {
			return nil, badRequest(typeInvalidFilter, "%s", messageOf(err))
		}
	}
	m := &sdk.Member{ExternalID: have, EmailKey: sdk.NormalizeEmail(have)}
	if c.Match(m) {
		return nil, nil
	}
	return never, nil
}

// userFilter and groupFilter parse and translate a filter query parameter
// ("" matches everything).
func userFilter(s string) (*sdk.Cond, error)  { return parseAndTranslate(s, usersFilter) }
func groupFilter(s string) (*sdk.Cond, error) { return parseAndTranslate(s, groupsFilter) }

func parseAndTranslate(s string, kind filterKind) (*sdk.Cond, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	e, err := parseFilter(s)
	if err != nil {
		return nil, err
	}
	return translate(e, kind)
}
