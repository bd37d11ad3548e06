package mongo

import (
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rosterhq/roster/sdk"
)

// memberPaths maps the fields of an [sdk.Cond] to the stored member field
// that holds the value compared: the lower-cased key for case-insensitive
// fields, the value itself otherwise. Empty text fields are omitted from
// the documents (omitempty) or stored as "", and the translation treats
// both as absent.
var memberPaths = map[sdk.Field]string{
	sdk.FieldID:          "_id",
	sdk.FieldEmail:       "emailKey",
	sdk.FieldExternalID:  "externalId",
	sdk.FieldDisplayName: "displayKey",
	sdk.FieldGivenName:   "givenKey",
	sdk.FieldFamilyName:  "familyKey",
	sdk.FieldTitle:       "titleKey",
	sdk.FieldDepartment:  "departmentKey",
	sdk.FieldManagerID:   "managerId",
	sdk.FieldRole:        "role",
	sdk.FieldStatus:      "status",
	sdk.FieldCreated:     "createdAt",
	sdk.FieldUpdated:     "updatedAt",
}

// Filters that match every and no document, for operands that decide a
// comparison on their own.
var (
	matchAll  = bson.D{}
	matchNone = bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: false}}}}
)

// whereFilter translates c, which the SDK has validated, into a query with
// the semantics of [sdk.Cond.Match], using only operators MongoDB and
// FerretDB v1 share ($and, $or, $nor, comparisons, $exists, anchored and
// quoted regular expressions).
func whereFilter(c *sdk.Cond, paths map[sdk.Field]string) bson.D {
	if c == nil {
		return matchAll
	}
	switch c.Op {
	case sdk.OpAnd, sdk.OpOr:
		args := make(bson.A, len(c.Args))
		for i, a := range c.Args {
			args[i] = whereFilter(a, paths)
		}
		return bson.D{{Key: "$" + string(c.Op), Value: args}}
	case sdk.OpNot:
		return not(whereFilter(c.Args[0], paths))
	}
	if c.Field == sdk.FieldActive {
		return activeFilter(c)
	}
	path, ok := paths[c.Field]
	if !ok {
		// Not a field of these documents: absent.
		return compareAbsent(c)
	}
	if c.Field.IsTime() {
		return timeFilter(path, c.Op, c.Time)
	}
	return textFilter(path, c.Op, c.Operand())
}

func not(d bson.D) bson.D { return bson.D{{Key: "$nor", Value: bson.A{d}}} }

// present matches a non-empty string: missing fields and "" fail $gt "".
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
