package mongo

import (
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rosterhq/roster/sdk"
)

// memberPaths maps the fields of an [sdk.Cond] that a query answers
// exactly to the stored member field holding the value compared: the
// lower-cased key for case-insensitive fields, the value itself otherwise.
// Empty text fields are omitted from the documents (omitempty) or stored
// as "", and the translation treats both as absent. The other member
// fields are handled by memberLeaf.
var memberPaths = map[sdk.Field]string{
	sdk.FieldID:             "_id",
	sdk.FieldEmail:          "emailKey",
	sdk.FieldUserName:       "userNameKey",
	sdk.FieldExternalID:     "externalId",
	sdk.FieldDisplayName:    "displayKey",
	sdk.FieldGivenName:      "givenKey",
	sdk.FieldFamilyName:     "familyKey",
	sdk.FieldTitle:          "titleKey",
	sdk.FieldDepartment:     "departmentKey",
	sdk.FieldEmployeeNumber: "employeeNumberKey",
	sdk.FieldManagerID:      "managerId",
	sdk.FieldRole:           "role",
	sdk.FieldStatus:         "status",
	sdk.FieldCreated:        "createdAt",
	sdk.FieldUpdated:        "updatedAt",
}

// Filters that match every and no document, for operands that decide a
// comparison on their own.
var (
	matchAll  = bson.D{}
	matchNone = bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: false}}}}
)

func isAll(d bson.D) bool { return len(d) == 0 }

func isNone(d bson.D) bool {
	if len(d) != 1 || d[0].Key != "_id" {
		return false
	}
	v, ok := d[0].Value.(bson.D)
	return ok && len(v) == 1 && v[0].Key == "$exists" && v[0].Value == false
}

// whereFilter translates c, which the SDK has validated, into a query with
// the semantics of [sdk.Cond.Match] over documents whose fields paths
// names (groups: every field of a group condition is in groupPaths or
// absent, so the answer is always exact). It uses only operators MongoDB
// and FerretDB v1 share ($and, $or, $nor, comparisons, $exists, anchored
// and quoted regular expressions).
func whereFilter(c *sdk.Cond, paths map[sdk.Field]string) bson.D {
	return lower(c, func(l *sdk.Cond) approx { return pathLeaf(l, paths) }).over
}

// memberWhere translates a member condition. When exact is true, q
// matches exactly the members c matches. Otherwise q matches a superset of
// them — what the indexed keys can tell — and the caller keeps those for
// which c.Match holds (see ListMembers and CountMembers).
func memberWhere(c *sdk.Cond) (q bson.D, exact bool) {
	a := lower(c, memberLeaf)
	return a.over, a.exact
}

// approx is a translation of a condition: over matches every document the
// condition matches (and maybe more), under only documents it matches
// (maybe fewer); exact means both equal the condition. Negation swaps
// them, so "not" of an inexact condition still narrows the query.
type approx struct {
	over, under bson.D
	exact       bool
}

func exactly(d bson.D) approx { return approx{over: d, under: d, exact: true} }

// roughly is a condition the query can only bound from above.
func roughly(over bson.D) approx { return approx{over: over, under: matchNone} }

func lower(c *sdk.Cond, leaf func(*sdk.Cond) approx) approx {
	if c == nil {
		return exactly(matchAll)
	}
	switch c.Op {
	case sdk.OpAnd, sdk.OpOr:
		join := and
		if c.Op == sdk.OpOr {
			join = or
		}
		overs := make([]bson.D, len(c.Args))
		unders := make([]bson.D, len(c.Args))
		exact := true
		for i, a := range c.Args {
			x := lower(a, leaf)
			overs[i], unders[i] = x.over, x.under
			exact = exact && x.exact
		}
		if exact {
			return exactly(join(overs...))
		}
		return approx{over: join(overs...), under: join(unders...)}
	case sdk.OpNot:
		x := lower(c.Args[0], leaf)
		if x.exact {
			return exactly(not(x.over))
		}
		return approx{over: not(x.under), under: not(x.over)}
	}
	return leaf(c)
}

// and, or and not build the operators, folding the constants.
func and(ds ...bson.D) bson.D {
	args := bson.A{}
	for _, d := range ds {
		switch {
		case isNone(d):
			return matchNone
		case !isAll(d):
			args = append(args, d)
		}
	}
	switch len(args) {
	case 0:
		return matchAll
	case 1:
		return args[0].(bson.D)
	}
	return bson.D{{Key: "$and", Value: args}}
}

func or(ds ...bson.D) bson.D {
	args := bson.A{}
	for _, d := range ds {
		switch {
		case isAll(d):
			return matchAll
		case !isNone(d):
			args = append(args, d)
		}
	}
	switch len(args) {
	case 0:
		return matchNone
	case 1:
		return args[0].(bson.D)
	}
	return bson.D{{Key: "$or", Value: args}}
}

func not(d bson.D) bson.D {
	switch {
	case isAll(d):
		return matchNone
	case isNone(d):
		return matchAll
	}
	return bson.D{{Key: "$nor", Value: bson.A{d}}}
}

// pathLeaf translates a comparison on a field stored at paths[field]
// exactly; a field the documents do not have is absent.
func pathLeaf(c *sdk.Cond, paths map[sdk.Field]string) approx {
	if c.Field == sdk.FieldActive {
		return exactly(activeFilter(c))
	}
	path, ok := paths[c.Field]
	if !ok {
		return exactly(compareAbsent(c))
	}
	if c.Field.IsTime() {
		return exactly(timeFilter(path, c.Op, c.Time))
	}
	return exactly(textFilter(path, c.Op, c.Operand()))
}

// safeName matches custom attribute names that are safe as a field path
// (the SDK allows no others).
var safeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// memberLeaf translates one comparison on a member field (or an OpSome).
// Exact: the fields of memberPaths, custom attributes, emails.value
// (through emailKeys), "pr" on a multi-valued attribute and on the
// primary flags, and absence tests. Bounded from above: case-insensitive
// fields without a stored key and the other sub-attributes of
// multi-valued attributes (their values keep their case), and OpSome.
func memberLeaf(c *sdk.Cond) approx {
	if c.Op == sdk.OpSome {
		return roughly(and(hasItems(c.Field), someOver(c.Args[0])))
	}
	if _, ok := memberPaths[c.Field]; ok || c.Field == sdk.FieldActive {
		return pathLeaf(c, memberPaths)
	}
	if name, ok := c.Field.IsCustom(); ok {
		if !safeName.MatchString(name) {
			return exactly(compareAbsent(c)) // no member can have it
		}
		return exactly(textFilter("custom."+name, c.Op, c.Operand()))
	}
	if c.Field.IsList() { // only "pr": has any item
		return exactly(hasItems(c.Field))
	}
	if c.Field == sdk.FieldEmailValue {
		return exactly(emailValueFilter(c.Op, c.Operand()))
	}
	if list := c.Field.Container(); list != "" {
		hasItem := hasItems(list)
		switch {
		case c.Field.IsBool() && c.Op == sdk.OpPr:
			return exactly(hasItem) // every item has "true" or "false"
		case c.Op == sdk.OpNe, c.Op == sdk.OpEq && c.Operand() == "":
			// Hold for members without items too.
			return roughly(matchAll)
		}
		return roughly(hasItem)
	}
	if !c.Field.CaseInsensitive() || c.Field.IsTime() || c.Field.IsBool() {
		// Not a member field.
		return exactly(compareAbsent(c))
	}
	// A case-insensitive scalar without a stored key: presence tests are
	// exact (case does not change emptiness), the rest needs a value.
	path := string(c.Field)
	x := c.Operand()
	switch {
	case c.Op == sdk.OpPr, c.Op == sdk.OpNe && x == "":
		return exactly(present(path))
	case c.Op == sdk.OpEq && x == "":
		return exactly(not(present(path)))
	case c.Op == sdk.OpNe:
		return roughly(matchAll)
	}
	return roughly(present(path))
}

// someOver bounds from above "one item satisfies c": every comparison that
// holds for one item holds for the member (as "some item satisfies it"),
// except negations ("ne", "not"), which hold for one item while another
// item breaks them; those are left unbounded.
func someOver(c *sdk.Cond) bson.D {
	switch c.Op {
	case sdk.OpAnd, sdk.OpOr:
		ds := make([]bson.D, len(c.Args))
		for i, a := range c.Args {
			ds[i] = someOver(a)
		}
		if c.Op == sdk.OpAnd {
			return and(ds...)
		}
		return or(ds...)
	case sdk.OpNot, sdk.OpNe:
		return matchAll
	}
	return memberLeaf(c).over
}

// emailValueFilter compares "some email item's value" through emailKeys,
// the lower-cased values, one per item (absent when there is none). On an
// array a comparison holds when some element satisfies it, which is the
// semantics of a sub-attribute; ne is the negation of eq.
func emailValueFilter(op sdk.CondOp, x string) bson.D {
	const path = "emailKeys"
	eq := func() bson.D {
		if x == "" { // no items, or an item without a value
			return or(bson.D{{Key: path, Value: bson.D{{Key: "$exists", Value: false}}}}, bson.D{{Key: path, Value: ""}})
		}
		return bson.D{{Key: path, Value: x}}
	}
	switch op {
	case sdk.OpEq:
		return eq()
	case sdk.OpNe:
		return not(eq())
	}
	return textFilter(path, op, x)
}

// hasItems matches members with at least one item of the multi-valued
// attribute list: the stored array is omitted when empty.
func hasItems(list sdk.Field) bson.D {
	return bson.D{{Key: string(list), Value: bson.D{{Key: "$exists", Value: true}}}}
}

// present matches a non-empty string (on an array of strings, one with a
// non-empty element): missing fields and "" fail $gt "", which compares
// only with strings.
func present(path string) bson.D {
	return bson.D{{Key: path, Value: bson.D{{Key: "$gt", Value: ""}}}}
}

// textFilter compares the stored string at path, an empty or missing value
// being absent: "pr" is false for it, "eq" with an empty operand true,
// every ordering false.
func textFilter(path string, op sdk.CondOp, x string) bson.D {
	cmp := func(o string) bson.D {
		// The added $gt "" keeps absent values out of the ordering.
		if o == "$gt" {
			return bson.D{{Key: path, Value: bson.D{{Key: o, Value: x}}}}
		}
		return bson.D{{Key: path, Value: bson.D{{Key: o, Value: x}, {Key: "$gt", Value: ""}}}}
	}
	re := func(pattern string) bson.D {
		return bson.D{{Key: path, Value: bson.Regex{Pattern: pattern}}}
	}
	switch op {
	case sdk.OpPr:
		return present(path)
	case sdk.OpEq:
		if x == "" {
			return not(present(path))
		}
		return bson.D{{Key: path, Value: x}}
	case sdk.OpNe:
		if x == "" {
			return present(path)
		}
		return bson.D{{Key: path, Value: bson.D{{Key: "$ne", Value: x}}}}
	case sdk.OpCo, sdk.OpSw, sdk.OpEw:
		if x == "" {
			return matchNone
		}
		// \z, not $: in PCRE (MongoDB) $ also matches before a final
		// newline.
		q := regexp.QuoteMeta(x)
		switch op {
		case sdk.OpSw:
			return re("^" + q)
		case sdk.OpEw:
			return re(q + `\z`)
		}
		return re(q)
	case sdk.OpGt:
		return cmp("$gt")
	case sdk.OpGe:
		return cmp("$gte")
	case sdk.OpLt:
		return cmp("$lt")
	case sdk.OpLe:
		return cmp("$lte")
	}
	return matchNone
}

// timeFilter compares at the precision of a second, as Cond does: with
// T = t truncated and T1 = T + 1s, "v eq t" is T <= v < T1, "v gt t" is
// v >= T1, "v ge t" is v >= T, "v lt t" is v < T and "v le t" is v < T1.
func timeFilter(path string, op sdk.CondOp, t time.Time) bson.D {
	lo := t.Truncate(time.Second)
	hi := lo.Add(time.Second)
	rng := func(bounds ...bson.E) bson.D { return bson.D{{Key: path, Value: bson.D(bounds)}} }
	switch op {
	case sdk.OpPr:
		return rng(bson.E{Key: "$ne", Value: time.Time{}})
	case sdk.OpEq:
		return rng(bson.E{Key: "$gte", Value: lo}, bson.E{Key: "$lt", Value: hi})
	case sdk.OpNe:
		return not(rng(bson.E{Key: "$gte", Value: lo}, bson.E{Key: "$lt", Value: hi}))
	case sdk.OpGt:
		return rng(bson.E{Key: "$gte", Value: hi})
	case sdk.OpGe:
		return rng(bson.E{Key: "$gte", Value: lo})
	case sdk.OpLt:
		return rng(bson.E{Key: "$lt", Value: lo})
	case sdk.OpLe:
		return rng(bson.E{Key: "$lt", Value: hi})
	}
	return matchNone
}

// activeFilter: active is "true" exactly for members in StatusActive and
// is never absent.
func activeFilter(c *sdk.Cond) bson.D {
	isActive := bson.D{{Key: "status", Value: string(sdk.StatusActive)}}
	switch {
	case c.Op == sdk.OpPr:
		return matchAll
	case (c.Op == sdk.OpEq) == (c.Value == "true"):
		return isActive
	}
	return not(isActive)
}

// compareAbsent decides a comparison on a field the documents do not have.
func compareAbsent(c *sdk.Cond) bson.D {
	if (c.Op == sdk.OpEq && c.Operand() == "") || (c.Op == sdk.OpNe && c.Operand() != "") {
		return matchAll
	}
	return matchNone
}

// memberFields returns the stored fields [sdk.Cond.Match] reads to decide
// c on a member, for the projection of a count that filters in Go.
func memberFields(c *sdk.Cond) bson.D {
	seen := map[string]bool{}
	out := bson.D{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, bson.E{Key: name, Value: 1})
		}
	}
	for _, f := range c.Fields() {
		switch {
		case f == sdk.FieldID:
		case f == sdk.FieldEmail:
			add("emailKey")
		case f == sdk.FieldUserName:
			add("userNameKey")
		case f == sdk.FieldActive, f == sdk.FieldStatus:
			add("status")
		case f == sdk.FieldRole:
			add("role")
		case f == sdk.FieldCreated:
			add("createdAt")
		case f == sdk.FieldUpdated:
			add("updatedAt")
		case f.IsList():
			add(string(f))
		case f.Container() != "":
			add(string(f.Container()))
		default:
			if _, ok := f.IsCustom(); ok {
				add("custom")
				continue
			}
			// Scalars are stored under their field name.
			add(string(f))
		}
	}
	if len(out) == 0 {
		add("_id")
	}
	return out
}
