package sqlite

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// TestQueryPlans checks that SQLite answers the queries of the hot paths
// from the index meant for them, never by scanning a table, so that their
// cost does not grow with the tenant.
func TestQueryPlans(t *testing.T) {
	s := openTest(t)
	member := func(c *sdk.Cond) (string, []any) {
		w := filterWhere("t", sdk.MemberFilter{Where: c})
		return pageSQL("members", w, false), append(append([]any{"t", ""}, w.args...), 100)
	}
	eq := func(f sdk.Field, v string) *sdk.Cond { return sdk.Compare(f, sdk.OpEq, v) }
	type query struct {
		name string
		sql  string
		args []any
		want []string // each must be in the plan
	}
	var qs []query
	add := func(name, sql string, args []any, want ...string) {
		qs = append(qs, query{name, sql, args, want})
	}
	for q := range numQueries {
		if strings.HasPrefix(strings.TrimSpace(sqlText[q]), "SELECT") && !strings.Contains(sqlText[q], "count(*) FROM tenants") {
			add(sqlText[q][:min(60, len(sqlText[q]))], sqlText[q], nil)
		}
	}
	sq, a := member(nil)
	add("list members", sq, a, "PRIMARY KEY")
	sq, a = member(eq(sdk.FieldUserName, "ann"))
	add("list userName eq", sq, a, "members_user_name")
	sq, a = member(eq(sdk.FieldEmail, "ann@x.test"))
	add("list email eq", sq, a, "members_email")
	sq, a = member(eq(sdk.FieldExternalID, "E1"))
	add("list externalId eq", sq, a, "members_external_id")
	sq, a = member(eq(sdk.FieldEmployeeNumber, "42"))
	add("list employeeNumber eq", sq, a, "members_employee")
	sq, a = member(eq(sdk.FieldEmailValue, "ann@x.test"))
	add("list emails.value eq", sq, a, "members_email", "member_emails")
	w := filterWhere("t", sdk.MemberFilter{Status: sdk.StatusDeactivated})
	add("list status", pageSQL("members", w, false), append(append([]any{"t", ""}, w.args...), 100), "members_status")
	add("list groups", pageSQL("groups", groupWhere(nil), false), []any{"t", "", 100}, "PRIMARY KEY")
	gw := groupWhere(eq(sdk.FieldDisplayName, "Admins"))
	add("list groups displayName eq", pageSQL("groups", gw, false), append(append([]any{"t", ""}, gw.args...), 100), "groups_name")
	// A page by position (Offset) skips in the index it reads the page
	// from, in id order, without sorting.
	seek := func(table string, w cond) (string, []any) {
		args := append(append([]any{"t", "t", ""}, w.args...), 5000)
		return pageSQL(table, w, true), append(append(args, w.args...), 100)
	}
	sq, a = seek("members", filterWhere("t", sdk.MemberFilter{}))
	add("list members at offset", sq, a, "SCALAR SUBQUERY", "PRIMARY KEY (tenant_id=? AND id>?)")
	sq, a = seek("members", filterWhere("t", sdk.MemberFilter{Status: sdk.StatusActive}))
	add("list status at offset", sq, a, "members_status")
	sq, a = seek("members", filterWhere("t", sdk.MemberFilter{Where: eq(sdk.FieldEmployeeNumber, "42")}))
	add("list employeeNumber eq at offset", sq, a, "members_employee")
	sq, a = seek("groups", groupWhere(nil))
	add("list groups at offset", sq, a, "PRIMARY KEY")
	sq, a = seek("groups", groupWhere(eq(sdk.FieldDisplayName, "Admins")))
	add("list groups displayName eq at offset", sq, a, "groups_name")
	add("audit by actor", "SELECT doc FROM audit WHERE tenant_id = ? AND actor_id = ? ORDER BY id DESC LIMIT ?", []any{"t", "a", 10}, "audit_actor")
	add("audit page", "SELECT doc FROM audit WHERE tenant_id = ? AND id < ? ORDER BY id DESC LIMIT ?", []any{"t", "z", 10}, "PRIMARY KEY")

	for _, q := range qs {
		args := q.args
		if args == nil {
			args = make([]any, strings.Count(q.sql, "?"))
			for i := range args {
				args[i] = "x"
			}
			// Numbered parameters count once each.
			if n := strings.Count(q.sql, "?3"); n > 0 {
				args = args[:3]
			} else if strings.Contains(q.sql, "?2") {
				args = args[:2]
			}
		}
		rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q.sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		t.Logf("%s: %s", q.name, p)
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "INDEX") && step != "SCAN CONSTANT ROW" {
				t.Errorf("%s: scans a table: %s", q.name, p)
			}
			if strings.Contains(q.name, "at offset") && strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s: sorts: %s", q.name, p)
			}
		}
		for _, want := range q.want {
			if !strings.Contains(p, want) {
				t.Errorf("%s: plan %q does not use %s", q.name, p, want)
			}
		}
	}
}
