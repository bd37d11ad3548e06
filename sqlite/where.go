package sqlite

import (
	"regexp"
	"strings"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// cond is a translation of an [sdk.Cond] into an SQL expression over a
// row of members (or groups). It is a superset of the condition: every row
// the condition matches satisfies it. When exact is set it is the
// condition itself; otherwise the caller keeps the rows for which
// [sdk.Cond.Match] holds. An empty sql is TRUE.
type cond struct {
	sql   string
	args  []any
	exact bool
}

var (
	condTrue  = cond{exact: true}
	condFalse = cond{sql: "0", exact: true}
	// condAny is a condition SQL cannot decide: every row may match.
	condAny = cond{}
)

func constant(b bool) cond {
	if b {
		return condTrue
	}
	return condFalse
}

// memberColumns are the member fields a column answers exactly: the
// lower-cased key for case-insensitive fields, the value otherwise.
var memberColumns = map[sdk.Field]string{
	sdk.FieldID:             "id",
	sdk.FieldEmail:          "email_key",
	sdk.FieldUserName:       "user_name_key",
	sdk.FieldExternalID:     "external_id",
	sdk.FieldRole:           "role",
	sdk.FieldStatus:         "status",
	sdk.FieldDisplayName:    "display_key",
	sdk.FieldGivenName:      "given_key",
	sdk.FieldFamilyName:     "family_key",
	sdk.FieldEmployeeNumber: "employee_key",
	sdk.FieldManagerID:      "manager_id",
	sdk.FieldCreated:        "created_s",
	sdk.FieldUpdated:        "updated_s",
}

// partial lists the columns whose index is partial (WHERE col is
// not empty): an equality on one of them repeats that term so that SQLite
// uses the index.
var partial = map[string]bool{"email_key": true, "user_name_key": true, "external_id": true, "employee_key": true}

// groupColumns are the group fields columns answer; every other field is
// absent on a group.
var groupColumns = map[sdk.Field]string{
	sdk.FieldID:          "id",
	sdk.FieldDisplayName: "display_key",
	sdk.FieldExternalID:  "external_id",
	sdk.FieldRole:        "role",
	sdk.FieldCreated:     "created_s",
	sdk.FieldUpdated:     "updated_s",
}

// memberWhere translates a condition on the members of a tenant.
func memberWhere(tenantID string, c *sdk.Cond) cond {
	return lower(c, func(l *sdk.Cond) cond { return memberLeaf(tenantID, l) })
}

// groupWhere translates a group condition; the translation is always
// exact.
func groupWhere(c *sdk.Cond) cond { return lower(c, groupLeaf) }

func lower(c *sdk.Cond, leaf func(*sdk.Cond) cond) cond {
	if c == nil {
		return condTrue
	}
	switch c.Op {
	case sdk.OpAnd, sdk.OpOr:
		return junction(c, func(a *sdk.Cond) cond { return lower(a, leaf) })
	case sdk.OpNot:
		if len(c.Args) != 1 {
			return condAny
		}
		x := lower(c.Args[0], leaf)
		if !x.exact {
			return condAny
		}
		return not(x)
	}
	return leaf(c)
}

// junction translates c, an and or an or, translating its arguments with
// f.
func junction(c *sdk.Cond, f func(*sdk.Cond) cond) cond {
	parts := make([]cond, len(c.Args))
	for i, a := range c.Args {
		parts[i] = f(a)
	}
	if c.Op == sdk.OpAnd {
		return and(parts...)
	}
	return or(parts...)
}

func and(parts ...cond) cond {
	out := condTrue
	var sqls []string
	for _, p := range parts {
		out.exact = out.exact && p.exact
		switch p.sql {
		case "":
		case "0": // nothing matches, exactly or not
			return condFalse
		default:
			sqls = append(sqls, p.sql)
			out.args = append(out.args, p.args...)
		}
	}
	out.sql = join(sqls, " AND ")
	return out
}

func or(parts ...cond) cond {
	out := cond{exact: true}
	var sqls []string
	for _, p := range parts {
		out.exact = out.exact && p.exact
		switch p.sql {
		case "":
			return cond{exact: out.exact && allExact(parts)}
		case "0":
		default:
			sqls = append(sqls, p.sql)
			out.args = append(out.args, p.args...)
		}
	}
	if len(sqls) == 0 {
		return condFalse
	}
	out.sql = join(sqls, " OR ")
	return out
}

func allExact(parts []cond) bool {
	for _, p := range parts {
		if !p.exact {
			return false
		}
	}
	return true
}

func not(x cond) cond {
	switch x.sql {
	case "":
		return condFalse
	case "0":
		return condTrue
	}
	return cond{sql: "NOT (" + x.sql + ")", args: x.args, exact: true}
}

func join(sqls []string, sep string) string {
	switch len(sqls) {
	case 0:
		return ""
	case 1:
		return sqls[0]
	}
	return "(" + strings.Join(sqls, sep) + ")"
}

// safeName matches the custom attribute names that are safe inside a JSON
// path (the SDK allows no others).
var safeName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// memberLeaf translates one comparison on a member field, or an OpSome.
// Exact: the fields of memberColumns, active, custom attributes (from the
// custom column, JSON), and emails.value eq and ne an address. Anything else — the
// case-insensitive fields without a key column, the other comparisons of
// emails.value, the other sub-attributes, "pr" on a multi-valued
// attribute, OpSome — is bounded from above where it can be and left to
// Cond.Match.
func memberLeaf(tenantID string, c *sdk.Cond) cond {
	if c.Op == sdk.OpSome {
		if c.Field == sdk.FieldEmails && len(c.Args) == 1 {
			over := someOver(tenantID, c.Args[0])
			over.exact = false
			return over
		}
		return condAny
	}
	if c.Field == sdk.FieldActive {
		return activeLeaf(c)
	}
	if col, ok := memberColumns[c.Field]; ok {
		return columnLeaf(col, c)
	}
	if name, ok := c.Field.IsCustom(); ok {
		if !safeName.MatchString(name) {
			return constant(c.Match(&sdk.Member{})) // no member can have it
		}
		return textLeaf(`coalesce(json_extract(custom, '$."`+name+`"'), '')`, c.Op, c.Operand())
	}
	if c.Field == sdk.FieldEmailValue {
		return emailValueLeaf(tenantID, c.Op, c.Operand())
	}
	return condAny
}

// groupLeaf translates a comparison on a group field. An equality on the
// display name adds the name key it implies (sdk.NormalizeGroupName of the
// operand), so that SQLite finds the group from groups_name.
func groupLeaf(c *sdk.Cond) cond {
	if x := c.Operand(); c.Field == sdk.FieldDisplayName && c.Op == sdk.OpEq && x != "" {
		return cond{sql: "(display_key = ? AND name_key = ?)", args: []any{x, sdk.NormalizeGroupName(x)}, exact: true}
	}
	if col, ok := groupColumns[c.Field]; ok {
		return columnLeaf(col, c)
	}
	return constant(c.MatchGroup(&sdk.Group{}))
}

// columnLeaf compares a column holding the value Cond compares.
func columnLeaf(col string, c *sdk.Cond) cond {
	if c.Field.IsTime() {
		return timeLeaf(col, c.Op, c.Time)
	}
	x := c.Operand()
	if c.Op == sdk.OpEq && x != "" && partial[col] {
		return cond{sql: "(" + col + " = ? AND " + col + " <> '')", args: []any{x}, exact: true}
	}
	return textLeaf(col, c.Op, x)
}

// textLeaf compares the text expression v with x as [sdk.Cond] does: an
// empty value is absent, byte-wise order (SQLite's BINARY collation).
func textLeaf(v string, op sdk.CondOp, x string) cond {
	one := func(sql string, args ...any) cond { return cond{sql: sql, args: args, exact: true} }
	switch op {
	case sdk.OpPr:
		return one(v + " <> ''")
	case sdk.OpEq:
		return one(v+" = ?", x)
	case sdk.OpNe:
		return one(v+" <> ?", x)
	case sdk.OpCo, sdk.OpSw, sdk.OpEw:
		if x == "" {
			return condFalse
		}
		switch op {
		case sdk.OpCo:
			return one("instr("+v+", ?) > 0", x)
		case sdk.OpSw:
			return one("substr("+v+", 1, length(?)) = ?", x, x)
		}
		return one("substr("+v+", -length(?)) = ?", x, x)
	case sdk.OpGt:
		return one(v+" > ?", x)
	case sdk.OpGe:
		return one("("+v+" >= ? AND "+v+" <> '')", x)
	case sdk.OpLt:
		return one("("+v+" < ? AND "+v+" <> '')", x)
	case sdk.OpLe:
		return one("("+v+" <= ? AND "+v+" <> '')", x)
	}
	return condAny
}

// timeLeaf compares a column of Unix seconds with t at the precision of a
// second, as Cond does.
func timeLeaf(col string, op sdk.CondOp, t time.Time) cond {
	one := func(sql string, args ...any) cond { return cond{sql: sql, args: args, exact: true} }
	if op == sdk.OpPr {
		return one(col+" <> ?", time.Time{}.Unix())
	}
	if sym, ok := comparisons[op]; ok {
		return one(col+" "+sym+" ?", t.Truncate(time.Second).Unix())
	}
	return condAny
}

// comparisons are SQL's operators for [sdk.Cond]'s.
var comparisons = map[sdk.CondOp]string{
	sdk.OpEq: "=", sdk.OpNe: "<>", sdk.OpGt: ">", sdk.OpGe: ">=", sdk.OpLt: "<", sdk.OpLe: "<=",
}

// activeLeaf: active is "true" exactly for members in StatusActive and is
// never absent.
func activeLeaf(c *sdk.Cond) cond {
	switch {
	case c.Op == sdk.OpPr:
		return condTrue
	case (c.Op == sdk.OpEq) == (c.Value == "true"):
		return cond{sql: "status = 'active'", exact: true}
	}
	return cond{sql: "status <> 'active'", exact: true}
}

// emailValueLeaf compares "some email item's value" (lower-cased). An
// equality with an address is exact, from the address index and
// member_emails' primary key: the members whose EmailKey is that address
// and one of their items, and those whose other items have it. ne is its
// negation. The rest is left to Cond.Match.
func emailValueLeaf(tenantID string, op sdk.CondOp, x string) cond {
	if x == "" || (op != sdk.OpEq && op != sdk.OpNe) {
		return condAny
	}
	eq := cond{sql: `id IN (SELECT id FROM members WHERE email_key = ? AND email_key <> '' AND tenant_id = ? AND email_item = 1
		UNION ALL SELECT member_id FROM member_emails WHERE tenant_id = ? AND value_key = ?)`,
		args: []any{x, tenantID, tenantID, x}, exact: true}
	if op == sdk.OpNe {
		return not(eq)
	}
	return eq
}

// someOver bounds "one email item satisfies c" from above: each
// comparison on emails.value that holds for one item holds for the member;
// negations, which one item may satisfy while another breaks them, and
// the other sub-attributes are not bounded.
func someOver(tenantID string, c *sdk.Cond) cond {
	switch c.Op {
	case sdk.OpAnd, sdk.OpOr:
		return junction(c, func(a *sdk.Cond) cond { return someOver(tenantID, a) })
	case sdk.OpNot, sdk.OpNe:
		return condAny
	}
	if c.Field == sdk.FieldEmailValue {
		return emailValueLeaf(tenantID, c.Op, c.Operand())
	}
	return condAny
}
