package scim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/sdk"
)

// Multi-valued attributes (emails, phoneNumbers, addresses) in an edit:
// the list as a whole, the items a value filter selects, or one
// sub-attribute of those (RFC 7644 §3.5.2).

// applyList applies op to a multi-valued attribute (RFC 7644 §3.5.2):
// the whole list, the items a value filter selects, or one sub-attribute
// of those. Values keep the order they were sent in.
func (e *edit) applyList(op string, t target, v any) error {
	a, l := t.attr, t.attr.list
	e.primary = e.primary[:0]
	e.touch(l.field)
	if t.vf == nil && t.sub == nil {
		switch op {
		case "remove":
			if v == nil {
				l.keep(&e.p, func(int) bool { return false })
				return nil
			}
			return e.removeItems(a, v)
		case "replace":
			l.keep(&e.p, func(int) bool { return false })
		}
		items, err := itemValues(a, v)
		if err != nil {
			return err
		}
		for _, obj := range items {
			j := -1
			if op == "add" {
				j = e.findItem(a, obj)
			}
			if j < 0 {
				j = l.add(&e.p)
			}
			if err := e.setItem(&e.p, a, j, obj); err != nil {
				return err
			}
		}
		e.onePrimary(a)
		return nil
	}
	idx, err := e.selectItems(a, t.vf)
	if err != nil {
		return err
	}
	if op == "remove" {
		if t.sub == nil || t.sub.ident {
			drop := func(i int) bool { return slices.Contains(idx, i) }
			l.keep(&e.p, func(i int) bool { return !drop(i) })
			return nil
		}
		for _, i := range idx {
			if err := e.setText(&e.p, t.sub, i, true, nil); err != nil {
				return err
			}
		}
		// An item left without any value (an address whose last part was
		// removed) is gone rather than invalid.
		l.keep(&e.p, func(i int) bool { return !slices.Contains(idx, i) || !emptyItem(&e.p, a, i) })
		return nil
	}
	if len(idx) == 0 {
		// RFC 7644 §3.5.2.1 leaves this open; Entra ID expects
		// emails[type eq "work"].value to create the work email.
		i := l.add(&e.p)
		if t.vf != nil {
			eqs, ok := equalities(t.vf)
			if !ok {
				return scimError{Status: 400, ScimType: typeNoTarget,
					Detail: fmt.Sprintf("The filter of %s matches no item and does not say how to create one (use attribute eq value, joined with and).", t)}
			}
			for _, eq := range eqs {
				s := a.sub(eq.name)
				if s == nil {
					return unknownSub(a, eq.name)
				}
				if err := e.setText(&e.p, s, i, false, eq.value); err != nil {
					return err
				}
			}
		}
		idx = []int{i}
	}
	for _, i := range idx {
		if t.sub != nil {
			if err := e.setText(&e.p, t.sub, i, false, v); err != nil {
				return err
			}
			continue
		}
		items, err := itemValues(a, v)
		if err != nil {
			return err
		}
		if len(items) != 1 {
			return badRequest(typeInvalidValue, "The value for %s must be one item.", t)
		}
		if err := e.setItem(&e.p, a, i, items[0]); err != nil {
			return err
		}
	}
	e.onePrimary(a)
	return nil
}

// onePrimary makes the one item the current PATCH operation set primary
// the only primary one (RFC 7644 §3.5.2). An operation that sets two is
// left for the SDK to refuse.
func (e *edit) onePrimary(a *attribute) {
	if !e.patch || len(e.primary) != 1 {
		return
	}
	var flag *attribute
	for _, s := range a.subs {
		if s.flag != nil {
			flag = s
		}
	}
	for i := range a.list.n(&e.p) {
		if i != e.primary[0] {
			*flag.flag(&e.p, i) = false
		}
	}
}

// itemValues reads the value of a multi-valued attribute: a list of
// objects, or one object; a bare string is an item's default
// sub-attribute ("value").
func itemValues(a *attribute, v any) ([]map[string]any, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]map[string]any, 0, len(list))
	for _, it := range list {
		switch x := it.(type) {
		case map[string]any:
			out = append(out, x)
		case string:
			if a.def == nil {
				return nil, wrongType(a, it)
			}
			out = append(out, map[string]any{a.def.name: x})
		default:
			return nil, badRequest(typeInvalidValue, "Each item of %s must be an object of its sub-attributes.", a.path())
		}
	}
	return out, nil
}

// setItem sets the sub-attributes given in obj on item i.
func (e *edit) setItem(p *sdk.Profile, a *attribute, i int, obj map[string]any) error {
	for _, k := range sortedKeys(obj) {
		s := a.sub(k)
		if s == nil {
			return unknownSub(a, k)
		}
		if err := e.setText(p, s, i, false, obj[k]); err != nil {
			return err
		}
	}
	return nil
}

// findItem returns the item whose identifying value (compared
// case-insensitively) is the one obj gives, or -1: adding an existing
// value changes that item rather than repeating it.
func (e *edit) findItem(a *attribute, obj map[string]any) int {
	if a.def == nil {
		return -1
	}
	var val string
	for k, v := range obj {
		if strings.EqualFold(k, a.def.name) {
			val, _ = v.(string)
		}
	}
	if val == "" {
		return -1
	}
	for i := range a.list.n(&e.p) {
		if strings.EqualFold(strings.TrimSpace(*a.def.text(&e.p, i)), strings.TrimSpace(val)) {
			return i
		}
	}
	return -1
}

// removeItems removes the items whose identifying values v lists, as
// Entra ID removes group members.
func (e *edit) removeItems(a *attribute, v any) error {
	if a.def == nil {
		return badRequest(typeInvalidValue, "Remove items of %s with a filter, such as %s[type eq \"work\"].", a.path(), a.path())
	}
	items, err := itemValues(a, v)
	if err != nil {
		return err
	}
	var scratch sdk.Profile
	for _, obj := range items {
		i := a.list.add(&scratch)
		if err := e.setItem(&scratch, a, i, obj); err != nil {
			return err
		}
	}
	a.list.keep(&e.p, func(i int) bool {
		for j := range a.list.n(&scratch) {
			if strings.EqualFold(strings.TrimSpace(*a.def.text(&e.p, i)), strings.TrimSpace(*a.def.text(&scratch, j))) {
				return false
			}
		}
		return true
	})
	return nil
}

// selectItems returns the indexes of the items a value filter selects (all
// without one), evaluated with the SDK's semantics on each item alone.
func (e *edit) selectItems(a *attribute, vf filter.Expression) ([]int, error) {
	n := a.list.n(&e.p)
	var c *sdk.Cond
	if vf != nil {
		var err error
		if c, err = e.s.valueFilter(a, vf); err != nil {
			return nil, err
		}
	}
	idx := make([]int, 0, n)
	for i := range n {
		if c == nil || c.Match(a.list.one(&e.p, i)) {
			idx = append(idx, i)
		}
	}
	return idx, nil
}

func emptyItem(p *sdk.Profile, a *attribute, i int) bool {
	for _, s := range a.subs {
		if s.text != nil && s.lname != "type" && *s.text(p, i) != "" {
			return false
		}
	}
	return true
}

type equality struct {
	name  string
	value any
}

// equalities returns the sub-attribute values an "a eq x and b eq y"
// filter requires, to create an item that satisfies it.
func equalities(vf filter.Expression) ([]equality, bool) {
	switch x := vf.(type) {
	case *filter.AttributeExpression:
		if x.Operator != filter.EQ || x.AttributePath.SubAttribute != nil || x.AttributePath.URIPrefix != nil {
			return nil, false
		}
		return []equality{{x.AttributePath.AttributeName, x.CompareValue}}, true
	case *filter.LogicalExpression:
		if x.Operator != filter.AND {
			return nil, false
		}
		l, ok := equalities(x.Left)
		if !ok {
			return nil, false
		}
		r, ok := equalities(x.Right)
		return append(l, r...), ok
	}
	return nil, false
}
