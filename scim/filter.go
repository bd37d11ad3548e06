package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

const maxFilterDepth = 32

// never is the condition a comparison that cannot hold folds to.
var never = sdk.MatchNone()

// translator maps a parsed SCIM filter to the SDK's filter AST ([sdk.Cond])
// through the attribute table (RFC 7644 §3.4.2.2): each attribute path is
// looked up in the resource's schemas and compares the table's
// [sdk.Field]. An attribute outside the schemas, or an operator an
// attribute does not support, is an invalidFilter error.
type translator struct {
	s    *userSchema // for Users; nil for Groups
	kind filterKind
}

// translate maps e for the resource kind; s is the tenant's User schema
// (nil for groups).
func translate(e filter.Expression, kind filterKind, s *userSchema) (*sdk.Cond, error) {
	t := &translator{s: s, kind: kind}
	c, err := t.expr(e, 0)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(kind == groupsFilter); err != nil {
		return nil, badRequest(typeInvalidFilter, "%s", messageOf(err))
	}
	return c, nil
}

func (t *translator) expr(e filter.Expression, depth int) (*sdk.Cond, error) {
	if depth > maxFilterDepth {
		return nil, badRequest(typeInvalidFilter, "The filter is nested too deeply.")
	}
	switch x := e.(type) {
	case *filter.LogicalExpression:
		// Chains of and/or recurse without counting: the SDK flattens
		// them, and the filter's length bounds them.
		l, err := t.expr(x.Left, depth)
		if err != nil {
			return nil, err
		}
		r, err := t.expr(x.Right, depth)
		if err != nil {
			return nil, err
		}
		if x.Operator == filter.AND {
			return sdk.And(l, r), nil
		}
		return sdk.Or(l, r), nil
	case *filter.NotExpression:
		c, err := t.expr(x.Expression, depth+1)
		if err != nil {
			return nil, err
		}
		return sdk.Not(c), nil
	case *filter.ValuePath:
		if x.AttributePath.SubAttribute != nil {
			return nil, badRequest(typeInvalidFilter, "A value filter applies to a multi-valued attribute, not to %q.", x.AttributePath.String())
		}
		a, _, err := t.attr(x.AttributePath)
		if err != nil {
			return nil, err
		}
		if a.kind != inList {
			return nil, badRequest(typeInvalidFilter, "%s cannot be filtered with [ ]: only stored multi-valued attributes can.", a.path())
		}
		inner, err := t.inside(a, x.ValueFilter, depth+1)
		if err != nil {
			return nil, err
		}
		return some(a, inner), nil
	case *filter.AttributeExpression:
		a, sub, err := t.attr(x.AttributePath)
		if err != nil {
			return nil, err
		}
		return t.compare(a, sub, x.Operator, x.CompareValue)
	}
	return nil, badRequest(typeInvalidFilter, "Unsupported filter expression.")
}

// some is "some item of a satisfies inner" (a value filter, RFC 7644
// §3.4.2.2), folded when inner is constant.
func some(a *attribute, inner *sdk.Cond) *sdk.Cond {
	switch {
	case inner == nil:
		return sdk.Present(a.list.field)
	case inner == never:
		return never
	}
	return &sdk.Cond{Op: sdk.OpSome, Field: a.list.field, Args: []*sdk.Cond{inner}}
}

// inside translates the value filter of the multi-valued attribute a,
// whose comparisons name a's sub-attributes.
func (t *translator) inside(a *attribute, e filter.Expression, depth int) (*sdk.Cond, error) {
	if depth > maxFilterDepth {
		return nil, badRequest(typeInvalidFilter, "The filter is nested too deeply.")
	}
	switch y := e.(type) {
	case *filter.LogicalExpression:
		l, err := t.inside(a, y.Left, depth+1)
		if err != nil {
			return nil, err
		}
		r, err := t.inside(a, y.Right, depth+1)
		if err != nil {
			return nil, err
		}
		if y.Operator == filter.AND {
			return sdk.And(l, r), nil
		}
		return sdk.Or(l, r), nil
	case *filter.NotExpression:
		c, err := t.inside(a, y.Expression, depth+1)
		if err != nil {
			return nil, err
		}
		return sdk.Not(c), nil
	case *filter.AttributeExpression:
		ap := y.AttributePath
		sub := a.sub(ap.AttributeName)
		if ap.URIPrefix != nil || ap.SubAttribute != nil || sub == nil || sub.hidden {
			return nil, badRequest(typeInvalidFilter, "%.100q is not a sub-attribute of %s.", ap.String(), a.path())
		}
		return t.compare(a, sub, y.Operator, y.CompareValue)
	}
	return nil, badRequest(typeInvalidFilter, "Unsupported filter inside [ ].")
}

// attr resolves an attribute path of a filter.
func (t *translator) attr(ap filter.AttributePath) (*attribute, *attribute, error) {
	var a *attribute
	if t.kind == groupsFilter {
		if uri := ap.URI(); uri != "" && !strings.EqualFold(uri, groupURN) {
			return nil, nil, badRequest(typeInvalidFilter, "%.100q is not a schema of the Group resource.", uri)
		}
		if a = groupIndex.get(ap.AttributeName); a == nil {
			return nil, nil, badRequest(typeInvalidFilter, "%.100q is not an attribute of the Group resource.", ap.AttributeName)
		}
	} else {
		var err error
		if a, err = t.s.lookup(ap.URI(), ap.AttributeName); err != nil {
			var se scimError
			if errors.As(err, &se) {
				se.ScimType = typeInvalidFilter
				return nil, nil, se
			}
			return nil, nil, err
		}
	}
	if ap.SubAttribute == nil {
		return a, nil, nil
	}
	sub := a.sub(*ap.SubAttribute)
	if sub == nil || sub.hidden {
		return nil, nil, badRequest(typeInvalidFilter, "%.100q is not a sub-attribute of %s.", *ap.SubAttribute, a.path())
	}
	return a, sub, nil
}

// compare translates one comparison on attribute a (sub-attribute sub).
func (t *translator) compare(a, sub *attribute, op filter.CompareOperator, v any) (*sdk.Cond, error) {
	cop := sdk.CondOp(strings.ToLower(string(op)))
	if !validOp(cop) {
		return nil, badRequest(typeInvalidFilter, "%q is not a comparison operator.", op)
	}
	switch a.kind {
	case isMeta:
		switch {
		case sub == nil:
			return nil, badRequest(typeInvalidFilter, "meta is compared through its sub-attributes, such as meta.lastModified.")
		case sub.field != "":
			return timeCond(sub.field, cop, v)
		case sub.lname == "resourcetype":
			want := "User"
			if t.kind == groupsFilter {
				want = "Group"
			}
			return constCond(cop, want, v)
		}
		return nil, badRequest(typeInvalidFilter, "%s cannot be filtered.", sub.path())
	case isActive:
		return boolCond(a.field, cop, v)
	case isPassword:
		return nil, badRequest(typeInvalidFilter, "password cannot be filtered.")
	case isGroups:
		return nil, badRequest(typeInvalidFilter, "Users cannot be filtered by groups; read the group's members instead.")
	case isMembers:
		return nil, badRequest(typeInvalidFilter, "Groups cannot be filtered by members.")
	case isRoles:
		switch {
		case sub == nil || sub.field != "":
			return textCond(sdk.FieldRole, cop, v)
		}
		return constCond(cop, "true", v) // roles.primary: a member's one role is primary
	case inCustom:
		return customCond(a, cop, v)
	case inList:
		if sub == nil {
			if cop == sdk.OpPr {
				return sdk.Present(a.list.field), nil
			}
			if a.def == nil {
				return nil, badRequest(typeInvalidFilter, "%s is compared through its sub-attributes, such as %s.%s.", a.path(), a.path(), a.subs[0].name)
			}
			sub = a.def
		}
		if sub.flag != nil {
			return boolCond(sub.field, cop, v)
		}
		return textCond(sub.field, cop, v)
	}
	if a.typ == tComplex {
		if sub == nil {
			if cop == sdk.OpPr {
				var ors []*sdk.Cond
				for _, s := range a.subs {
					if s.kind == inProfile {
						ors = append(ors, sdk.Present(s.field))
					}
				}
				return sdk.Or(ors...), nil
			}
			if a.def == nil {
				return nil, badRequest(typeInvalidFilter, "%s is compared through its sub-attributes, such as %s.%s.", a.path(), a.path(), a.subs[0].name)
			}
			sub = a.def
		}
		if sub.kind != inProfile {
			return nil, badRequest(typeInvalidFilter, "%s cannot be filtered.", sub.path())
		}
		return textCond(sub.field, cop, v)
	}
	if a.field == "" {
		return nil, badRequest(typeInvalidFilter, "%s cannot be filtered.", a.path())
	}
	return textCond(a.field, cop, v)
}

func validOp(op sdk.CondOp) bool {
	switch op {
	case sdk.OpEq, sdk.OpNe, sdk.OpCo, sdk.OpSw, sdk.OpEw, sdk.OpGt, sdk.OpGe, sdk.OpLt, sdk.OpLe, sdk.OpPr:
		return true
	}
	return false
}

func textCond(f sdk.Field, op sdk.CondOp, v any) (*sdk.Cond, error) {
	if op == sdk.OpPr {
		return sdk.Present(f), nil
	}
	switch v.(type) {
	case map[string]any, []any:
		return nil, badRequest(typeInvalidFilter, "A comparison value must be a string, number, boolean or null.")
	}
	return sdk.Compare(f, op, compareString(v)), nil
}

func boolCond(f sdk.Field, op sdk.CondOp, v any) (*sdk.Cond, error) {
	if op == sdk.OpPr {
		return sdk.Present(f), nil
	}
	b, ok := asBool(v)
	if !ok || (op != sdk.OpEq && op != sdk.OpNe) {
		return nil, badRequest(typeInvalidFilter, "%s compares with eq or ne and true or false.", f)
	}
	return sdk.Compare(f, op, strconv.FormatBool(b)), nil
}

func timeCond(f sdk.Field, op sdk.CondOp, v any) (*sdk.Cond, error) {
	if op == sdk.OpPr {
		return sdk.Present(f), nil
	}
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, badRequest(typeInvalidFilter, "meta times compare with an RFC 3339 date-time such as \"2026-01-02T03:04:05Z\".")
	}
	switch op {
	case sdk.OpEq, sdk.OpNe, sdk.OpGt, sdk.OpGe, sdk.OpLt, sdk.OpLe:
		return sdk.CompareTime(f, op, t), nil
	}
	return nil, badRequest(typeInvalidFilter, "%q does not apply to a date-time.", op)
}

// customCond compares a custom attribute, whose values are kept in the
// canonical text of their type: the operand is put in that form too.
// Text ordering is not the order of numbers or of times, so only string
// attributes take gt, ge, lt and le, and co, sw and ew.
func customCond(a *attribute, op sdk.CondOp, v any) (*sdk.Cond, error) {
	if op == sdk.OpPr {
		return sdk.Present(a.field), nil
	}
	if a.custom != sdk.CustomString && op != sdk.OpEq && op != sdk.OpNe {
		return nil, badRequest(typeInvalidFilter, "%s (a %s) compares with eq, ne or pr.", a.path(), a.custom)
	}
	switch v.(type) {
	case map[string]any, []any:
		return nil, badRequest(typeInvalidFilter, "A comparison value must be a string, number, boolean or null.")
	}
	s := compareString(v)
	if a.custom != sdk.CustomString && v != nil {
		c, err := a.custom.Canonical(s)
		if err != nil {
			return nil, badRequest(typeInvalidFilter, "%s: %s.", a.path(), err)
		}
		s = c
	}
	return sdk.Compare(a.field, op, s), nil
}

// constCond folds a comparison against a value every resource has (such
// as meta.resourceType).
func constCond(op sdk.CondOp, have string, v any) (*sdk.Cond, error) {
	x := strings.ToLower(compareString(v))
	h := strings.ToLower(have)
	var ok bool
	switch op {
	case sdk.OpPr:
		ok = true
	case sdk.OpEq:
		ok = h == x
	case sdk.OpNe:
		ok = h != x
	case sdk.OpCo:
		ok = x != "" && strings.Contains(h, x)
	case sdk.OpSw:
		ok = x != "" && strings.HasPrefix(h, x)
	case sdk.OpEw:
		ok = x != "" && strings.HasSuffix(h, x)
	default:
		return nil, badRequest(typeInvalidFilter, "%q does not apply here.", op)
	}
	if ok {
		return nil, nil
	}
	return never, nil
}

// compareString renders a filter operand as text.
func compareString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

// userFilter and groupFilter parse and translate a filter query parameter
// ("" matches everything).
func userFilter(s *userSchema, f string) (*sdk.Cond, error) {
	return parseAndTranslate(f, usersFilter, s)
}
func groupFilter(f string) (*sdk.Cond, error) { return parseAndTranslate(f, groupsFilter, nil) }

func parseAndTranslate(f string, kind filterKind, s *userSchema) (*sdk.Cond, error) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	e, err := parseFilter(f)
	if err != nil {
		return nil, err
	}
	return translate(e, kind, s)
}
