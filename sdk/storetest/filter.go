package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// testWhere checks that a store answers sdk.Cond filters exactly as the
// reference semantics of sdk.Cond.Match: every operator on every kind of
// field, absent values, case folding, regular-expression metacharacters,
// nesting, and paging through a filtered list.
func testWhere(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 100)
	type spec struct {
		email, ext, given, family, display, title, dept, mgr, role string
		st                                                         sdk.Status
		created                                                    time.Duration
	}
	specs := []spec{
		{"Alice.Smith@Example.com", "A-1", "Alice", "Smith", "Alice S.", "Engineer (Sr.)", "R&D", "", "admin", sdk.StatusActive, 1*time.Hour + 300*time.Millisecond},
		{"bob@example.com", "a-1", "Bob", "Brown", "", "", "Sales", "mgr1", "standard", sdk.StatusDeactivated, 2 * time.Hour},
		{"carol+test@example.org", "", "Carol", "Ÿoung", "Carøl", "c++ dev", "R&D", "mgr1", "standard", sdk.StatusActive, 3 * time.Hour},
		{"dan@sub.example.com", "B-2", "dan", "", "Dan.*", "Lead", "", "", "standard", sdk.StatusInvited, 3*time.Hour + 999*time.Millisecond},
		{"erin@example.com", "b-10", "ERIN", "Zed", "erin", "lead", "sales", "mgr2", "admin", sdk.StatusActive, 4 * time.Hour},
	}
	var members []*sdk.Member
	for _, sp := range specs {
		m := newMember(tn.ID, sp.email)
		m.ExternalID, m.GivenName, m.FamilyName, m.DisplayName = sp.ext, sp.given, sp.family, sp.display
		m.Title, m.Department, m.ManagerID, m.Role, m.Status = sp.title, sp.dept, sp.mgr, sp.role, sp.st
		m.CreatedAt = epoch.Add(sp.created)
		m.UpdatedAt = m.CreatedAt.Add(time.Minute)
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, HoldsSeat: true}); err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	all, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) time.Time { return epoch.Add(d) }
	C, T, P := sdk.Compare, sdk.CompareTime, sdk.Present
	conds := []*sdk.Cond{
		C(sdk.FieldEmail, sdk.OpEq, "alice.smith@example.com"),
		C(sdk.FieldEmail, sdk.OpEq, " ALICE.SMITH@EXAMPLE.COM "),
		C(sdk.FieldEmail, sdk.OpNe, "bob@example.com"),
		C(sdk.FieldEmail, sdk.OpCo, "+TEST"),
		C(sdk.FieldEmail, sdk.OpSw, "Dan@"),
		C(sdk.FieldEmail, sdk.OpEw, ".COM"),
		C(sdk.FieldEmail, sdk.OpEw, "example.com"),
		C(sdk.FieldEmail, sdk.OpGt, "c"),
		C(sdk.FieldEmail, sdk.OpGe, "Carol+test@example.org"),
		C(sdk.FieldEmail, sdk.OpLt, "BOB"),
		C(sdk.FieldEmail, sdk.OpLe, "bob@example.com"),
		C(sdk.FieldEmail, sdk.OpCo, "."),
		C(sdk.FieldEmail, sdk.OpCo, ".*"),
		P(sdk.FieldEmail),
		C(sdk.FieldExternalID, sdk.OpEq, "a-1"),
		C(sdk.FieldExternalID, sdk.OpEq, ""),
		C(sdk.FieldExternalID, sdk.OpNe, ""),
		C(sdk.FieldExternalID, sdk.OpSw, "b-"),
		C(sdk.FieldExternalID, sdk.OpGt, "B-2"),
		C(sdk.FieldExternalID, sdk.OpLt, "B"),
		P(sdk.FieldExternalID),
		C(sdk.FieldGivenName, sdk.OpEq, "erin"),
		C(sdk.FieldGivenName, sdk.OpEq, "DAN"),
		C(sdk.FieldFamilyName, sdk.OpEq, "ÿoung"),
		C(sdk.FieldFamilyName, sdk.OpEq, ""),
		P(sdk.FieldFamilyName),
		C(sdk.FieldDisplayName, sdk.OpEq, "dan.*"),
		C(sdk.FieldDisplayName, sdk.OpCo, "."),
		C(sdk.FieldDisplayName, sdk.OpCo, "ØL"),
		C(sdk.FieldDisplayName, sdk.OpNe, "erin"),
		C(sdk.FieldTitle, sdk.OpCo, "(SR.)"),
		C(sdk.FieldTitle, sdk.OpCo, "c++"),
		C(sdk.FieldTitle, sdk.OpEq, "LEAD"),
		C(sdk.FieldTitle, sdk.OpEw, "d"),
		C(sdk.FieldTitle, sdk.OpSw, "^"),
		C(sdk.FieldDepartment, sdk.OpEq, "r&d"),
		C(sdk.FieldDepartment, sdk.OpEq, ""),
		C(sdk.FieldDepartment, sdk.OpNe, "sales"),
		C(sdk.FieldManagerID, sdk.OpEq, "mgr1"),
		C(sdk.FieldManagerID, sdk.OpGe, "mgr2"),
		C(sdk.FieldRole, sdk.OpEq, "admin"),
		C(sdk.FieldStatus, sdk.OpEq, "invited"),
		C(sdk.FieldStatus, sdk.OpNe, "active"),
		C(sdk.FieldActive, sdk.OpEq, "true"),
		C(sdk.FieldActive, sdk.OpEq, "false"),
		C(sdk.FieldActive, sdk.OpNe, "true"),
		P(sdk.FieldActive),
		C(sdk.FieldID, sdk.OpEq, members[2].ID),
		C(sdk.FieldID, sdk.OpGt, members[2].ID),
		C(sdk.FieldID, sdk.OpLe, members[1].ID),
		T(sdk.FieldCreated, sdk.OpEq, at(time.Hour)),
		T(sdk.FieldCreated, sdk.OpEq, at(3*time.Hour+500*time.Millisecond)),
		T(sdk.FieldCreated, sdk.OpGt, at(3*time.Hour)),
		T(sdk.FieldCreated, sdk.OpGe, at(3*time.Hour)),
		T(sdk.FieldCreated, sdk.OpLt, at(3*time.Hour)),
		T(sdk.FieldCreated, sdk.OpLe, at(3*time.Hour)),
		T(sdk.FieldCreated, sdk.OpNe, at(2*time.Hour)),
		T(sdk.FieldUpdated, sdk.OpGt, at(2*time.Hour+30*time.Second)),
		P(sdk.FieldUpdated),
		sdk.And(C(sdk.FieldRole, sdk.OpEq, "standard"), C(sdk.FieldActive, sdk.OpEq, "true")),
		sdk.Or(C(sdk.FieldEmail, sdk.OpEq, "bob@example.com"), C(sdk.FieldEmail, sdk.OpEq, "ERIN@example.com")),
		sdk.Not(sdk.Or(C(sdk.FieldDepartment, sdk.OpEq, "sales"), P(sdk.FieldManagerID))),
		sdk.And(
			sdk.Or(C(sdk.FieldTitle, sdk.OpEq, "lead"), C(sdk.FieldDepartment, sdk.OpEq, "R&D")),
			sdk.Not(C(sdk.FieldStatus, sdk.OpEq, "invited")),
			T(sdk.FieldCreated, sdk.OpLt, at(4*time.Hour)),
		),
		sdk.Not(sdk.Not(C(sdk.FieldGivenName, sdk.OpSw, "a"))),
		sdk.MatchNone(),
	}
	for _, c := range conds {
		if err := c.Validate(false); err != nil {
			t.Fatalf("test condition %v is invalid: %v", c, err)
		}
		var want []string
		for _, m := range all {
			if c.Match(m) {
				want = append(want, m.ID)
			}
		}
		got, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Filter: sdk.MemberFilter{Where: c}, Limit: 1000})
		if err != nil {
			t.Errorf("ListMembers(%v): %v", c, err)
			continue
		}
		if ids := memberIDs(got); !slices.Equal(ids, want) {
			t.Errorf("ListMembers(%v) = %v, want %v", c, emailsOf(got), emailsOf(pick(all, want)))
		}
		if n, err := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{Where: c}); err != nil || n != len(want) {
			t.Errorf("CountMembers(%v) = %d, %v; want %d", c, n, err, len(want))
		}
	}
	// Where combines with the other filter fields, and pages by id.
	where := sdk.Compare(sdk.FieldEmail, sdk.OpCo, "example")
	got, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Filter: sdk.MemberFilter{Where: where, Role: "standard"}, Limit: 1000})
	if err != nil || len(got) != 3 {
		t.Fatalf("Where and Role = %v, %v; want 3 members", emailsOf(got), err)
	}
	var paged []string
	after := ""
	for {
		page, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Filter: sdk.MemberFilter{Where: where}, After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, memberIDs(page)...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(paged) != 5 || !slices.IsSorted(paged) {
		t.Fatalf("paging a filtered list returned %d ids, sorted %v", len(paged), slices.IsSorted(paged))
	}
}

func pick(all []*sdk.Member, ids []string) []*sdk.Member {
	var out []*sdk.Member
	for _, m := range all {
		if slices.Contains(ids, m.ID) {
			out = append(out, m)
		}
	}
	return out
}

func emailsOf(ms []*sdk.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.EmailKey
	}
	return out
}
