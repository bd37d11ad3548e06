package scim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/sdk"
)

// edit is one change to a member as a request describes it: the profile
// the request leaves, the fields it names, and whatever else it sets. POST
// and PUT build it from an empty profile, PATCH from the member as read,
// and the caller turns it into one SDK call. It only reads the request
// through the attribute table (attrs.go); it decides nothing the SDK
// decides: values are checked by [sdk.Profile.Validate] in that call.
type edit struct {
	s        *userSchema
	p        sdk.Profile
	mask     []sdk.Field // the profile fields the request sets, each once
	active   *bool
	password *string
	roles    []string // the role values the request states (see checkRoles)
	// patch marks a PATCH: setting one item primary there makes the others
	// not primary (RFC 7644 §3.5.2); a POST or PUT with two primaries is
	// refused instead.
	patch   bool
	primary []int // items of the current operation set primary
}

func (e *edit) touch(f sdk.Field) {
	if !slices.Contains(e.mask, f) {
		e.mask = append(e.mask, f)
	}
}

// target is what a path (RFC 7644 §3.5.2, Figure 1) designates: an
// attribute, optionally a sub-attribute and a value filter, or a whole
// schema extension.
type target struct {
	schema string // a whole schema, such as the enterprise extension; attr is nil
	attr   *attribute
	sub    *attribute
	vf     filter.Expression
}

func (t target) String() string {
	switch {
	case t.attr == nil:
		return t.schema
	case t.sub != nil:
		return t.sub.path()
	}
	return t.attr.path()
}

// apply applies one PATCH operation (RFC 7644 §3.5.2); op is "add",
// "replace" or "remove". Without a path the value is a set of attributes
// keyed by path (§3.5.2.1, §3.5.2.3), as Okta and Entra ID send them.
func (e *edit) apply(op string, p *filter.Path, v any) error {
	switch op {
	case "add", "replace", "remove":
	default:
		return badRequest(typeInvalidSyntax, "%.40q is not a PATCH operation (add, remove, replace).", op)
	}
	if p == nil {
		if op == "remove" {
			return scimError{Status: 400, ScimType: typeNoTarget, Detail: "A remove operation needs a path."}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "An operation without a path needs an object value: attribute paths and their values.")
		}
		return e.applyObject(op, "", obj)
	}
	t, err := e.s.resolve(p, "")
	if err != nil {
		return err
	}
	return e.applyTarget(op, t, v)
}

// applyObject applies op to every attribute of obj: a resource (POST,
// PUT), a path-less PATCH value, or, with schema set, the object of an
// extension. Keys are attribute paths; a key that is a schema URN holds
// that schema's attributes.
func (e *edit) applyObject(op, schema string, obj map[string]any) error {
	var seenBuf [16]target
	var keyBuf [16]string
	seen := seenBuf[:0]
	for _, k := range sortedKeysInto(keyBuf[:0], obj) {
		v := obj[k]
		if schema == "" {
			if strings.EqualFold(k, "schemas") {
				continue // checked by checkSchemas on POST and PUT; meaningless in a PATCH value
			}
			if urn, ok, err := e.s.schemaURN(k); err != nil {
				return err
			} else if ok {
				if err := e.applyTarget(op, target{schema: urn}, v); err != nil {
					return err
				}
				continue
			}

		}
		t, err := e.s.resolveKey(schema, k)
		if err != nil {
			if _, isObject := v.(map[string]any); isObject && schema == "" && len(k) > 4 && strings.EqualFold(k[:4], "urn:") {
				// An object keyed by a URN that is no attribute of a known
				// schema is an extension Roster does not have.
				if _, known, _ := e.s.schemaURN(k[:strings.LastIndexByte(k, ':')]); !known {
					return badRequest(typeInvalidValue, "%.200q is not a schema of the User resource (see /Schemas).", k)
				}
			}
			return err
		}
		if t.vf == nil && slices.ContainsFunc(seen, func(s target) bool { return s.attr == t.attr && s.sub == t.sub && s.vf == nil }) {
			return badRequest(typeInvalidSyntax, "%s is given twice (attribute names are case-insensitive).", t)
		}
		seen = append(seen, t)
		if err := e.applyTarget(op, t, v); err != nil {
			return err
		}
	}
	return nil
}

func (e *edit) applyTarget(op string, t target, v any) error {
	if t.attr == nil {
		return e.applySchema(op, t.schema, v)
	}
	a := t.attr
	switch a.kind {
	case isID, isMeta, isGroups:
		return nil // readOnly: ignored in requests (RFC 7643 §2.2)
	case isActive:
		return e.setActive(op, v)
	case isPassword:
		return e.setPassword(op, v)
	case isRoles:
		return e.setRoles(op, t, v)
	case inList:
		return e.applyList(op, t, v)
	case inCustom:
		return e.setCustom(op, a, v)
	}
	if a.typ == tComplex {
		return e.applyComplex(op, a, t.sub, v)
	}
	return e.setText(&e.p, a, 0, op == "remove", v)
}

// applySchema applies op to a whole schema extension: its object of
// attributes, or, for remove and null, every attribute it has.
func (e *edit) applySchema(op, urn string, v any) error {
	if urn == userURN {
		obj, ok := v.(map[string]any)
		if op == "remove" || !ok {
			return badRequest(typeInvalidPath, "The core schema %s is not a path of its own: name one of its attributes.", userURN)
		}
		return e.applyObject(op, userURN, obj)
	}
	if op == "remove" || v == nil {
		attrs, _ := e.s.attrsOf(urn)
		for _, a := range attrs {
			if err := e.applyTarget("remove", target{attr: a}, nil); err != nil {
				return err
			}
		}
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return badRequest(typeInvalidValue, "The value of %s must be an object of its attributes.", urn)
	}
	return e.applyObject(op, urn, obj)
}

// setText sets (or, when clear is set or v is null, clears) a text value:
// a single-valued attribute, a sub-attribute of a complex one, or a
// sub-attribute of item i of a multi-valued one.
func (e *edit) setText(p *sdk.Profile, a *attribute, i int, clear bool, v any) error {
	switch {
	case a.kind == isDerived || a.kind == isIgnored:
		return nil
	case clear || v == nil:
		if a.required {
			return badRequest(typeMutability, "%s is required and cannot be removed.", a.path())
		}
		if a.flag != nil {
			*a.flag(p, i) = false
		} else {
			*a.text(p, i) = ""
		}
	case a.flag != nil:
		b, ok := asBool(v)
		if !ok {
			return wrongType(a, v)
		}
		*a.flag(p, i) = b
		if b {
			e.primary = append(e.primary, i)
		}
	default:
		s, ok := v.(string)
		if !ok {
			return wrongType(a, v)
		}
		*a.text(p, i) = s
	}
	if p == &e.p {
		e.touch(a.maskField())
	}
	return nil
}

// applyComplex applies op to a single-valued complex attribute (name,
// manager) or one of its sub-attributes. Without a sub-attribute, add and
// replace set the sub-attributes given and leave the others (RFC 7644
// §3.5.2.1, §3.5.2.3); a bare value is the default sub-attribute's
// (Entra ID sends the manager as an id, or a list of one object).
func (e *edit) applyComplex(op string, a, sub *attribute, v any) error {
	if sub != nil {
		return e.setText(&e.p, sub, 0, op == "remove", v)
	}
	if op == "remove" || v == nil {
		for _, s := range a.subs {
			if err := e.setText(&e.p, s, 0, true, nil); err != nil {
				return err
			}
		}
		return nil
	}
	if l, ok := v.([]any); ok && len(l) == 1 && a.def != nil {
		v = l[0]
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if a.def != nil {
			return e.setText(&e.p, a.def, 0, false, v)
		}
		return wrongType(a, v)
	}
	for _, k := range sortedKeys(obj) {
		s := a.sub(k)
		if s == nil {
			return unknownSub(a, k)
		}
		if err := e.setText(&e.p, s, 0, false, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

// setCustom sets or clears one of the tenant's custom attributes. The
// value is passed on as text; the SDK checks it against the declared type
// and keeps its canonical form.
func (e *edit) setCustom(op string, a *attribute, v any) error {
	e.touch(a.field)
	for k := range e.p.Custom {
		if strings.EqualFold(k, a.name) {
			delete(e.p.Custom, k)
		}
	}
	if op == "remove" || v == nil {
		return nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case bool:
		if a.typ != tBoolean {
			return wrongType(a, v)
		}
		s = strconv.FormatBool(x)
	case json.Number:
		if a.typ != tInteger && a.typ != tDecimal {
			return wrongType(a, v)
		}
		s = x.String()
	default:
		return wrongType(a, v)
	}
	if e.p.Custom == nil {
		e.p.Custom = map[string]string{}
	}
	e.p.Custom[a.name] = s
	return nil
}

// setActive records the status a request sets; null (unassigned, RFC 7643
// §2.5) sets none.
func (e *edit) setActive(op string, v any) error {
	if op == "remove" {
		return badRequest(typeMutability, "active cannot be removed: set it to false to deactivate the user.")
	}
	if v == nil {
		return nil
	}
	b, ok := asBool(v)
	if !ok {
		return badRequest(typeInvalidValue, "active must be a boolean.")
	}
	e.active = &b
	return nil
}

// setPassword records the password a request sets; null sets none.
func (e *edit) setPassword(op string, v any) error {
	if op == "remove" {
		return badRequest(typeMutability, "password cannot be removed.")
	}
	if v == nil {
		return nil
	}
	pw, ok := v.(string)
	if !ok || pw == "" {
		return badRequest(typeInvalidValue, "password must be a non-empty string.")
	}
	e.password = &pw
	return nil
}

// detailRoles explains why roles cannot be set through SCIM.
const detailRoles = "roles is read-only in Roster: a member's role comes from the tenant's group-to-role mappings " +
	"(else its default role). Map a group to the role and add the user to that group instead; " +
	"a request may only repeat the role a GET returns."

// setRoles records the roles a request states: POST and PUT bodies echo
// what a GET returned, and checkRoles accepts that and nothing else.
func (e *edit) setRoles(op string, t target, v any) error {
	if op == "remove" || t.vf != nil || t.sub != nil && t.sub.lname != "value" {
		return badRequest(typeMutability, "%s", detailRoles)
	}
	if t.sub != nil {
		s, ok := v.(string)
		if !ok {
			return wrongType(t.sub, v)
		}
		e.roles = append(e.roles, s)
		return nil
	}
	if v == nil {
		return nil
	}
	items, err := itemValues(t.attr, v)
	if err != nil {
		return err
	}
	for _, obj := range items {
		for k, x := range obj {
			if !strings.EqualFold(k, "value") {
				continue
			}
			s, ok := x.(string)
			if !ok {
				return badRequest(typeInvalidValue, "roles.value must be a string.")
			}
			e.roles = append(e.roles, s)
		}
	}
	return nil
}

// checkRoles accepts the roles a request states only when they are the
// member's role: an identity provider echoing a GET.
func (e *edit) checkRoles(current string) error {
	for _, r := range e.roles {
		if r != current {
			return badRequest(typeMutability, "%s (The user's role is %q; the request sets %q.)", detailRoles, current, r)
		}
	}
	return nil
}

// checkRequired refuses a resource without a required attribute (RFC
// 7643 §2.2: userName).
func (e *edit) checkRequired() error {
	for _, a := range coreUser {
		if a.required && a.text != nil && strings.TrimSpace(*a.text(&e.p, 0)) == "" {
			return badRequest(typeInvalidValue, "%s is required.", a.name)
		}
	}
	return nil
}

func asBool(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		// Entra ID sends "True" and "False".
		if p, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
			return p, true
		}
	}
	return false, false
}

func wrongType(a *attribute, v any) error {
	want := attrTypeNames[a.typ]
	switch {
	case a.typ == tComplex && a.def != nil:
		want = "object (or the id it holds)"
	case a.typ == tComplex:
		want = "object"
	case a.typ == tBoolean:
		want = "boolean (true or false)"
	case a.typ == tInteger || a.typ == tDecimal:
		want = "number"
	case a.typ == tDateTime || a.typ == tReference:
		want = "string"
	}
	return badRequest(typeInvalidValue, "%s must be a %s, not %s.", a.path(), want, jsonKind(v))
}

func unknownSub(a *attribute, name string) error {
	var names []string
	for _, s := range a.subs {
		if !s.hidden {
			names = append(names, s.name)
		}
	}
	if len(names) == 0 {
		return badRequest(typeInvalidPath, "%s has no sub-attributes (%.60q).", a.path(), name)
	}
	return badRequest(typeInvalidPath, "%.60q is not a sub-attribute of %s (it has %s).", name, a.path(), strings.Join(names, ", "))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string { return sortedKeysInto(make([]string, 0, len(m)), m) }

// sortedKeysInto appends the keys of m to keys, sorted: attributes are
// applied in a fixed order whatever the map's.
func sortedKeysInto(keys []string, m map[string]any) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
