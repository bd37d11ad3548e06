package sdk_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func TestCondValidate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	deep := sdk.Compare(sdk.FieldEmail, sdk.OpEq, "a@b")
	for range sdk.MaxCondDepth {
		deep = sdk.Not(deep)
	}
	var wide []*sdk.Cond
	for i := range sdk.MaxCondNodes {
		wide = append(wide, sdk.Compare(sdk.FieldEmail, sdk.OpEq, fmt.Sprint(i)))
	}
	cases := []struct {
		name   string
		c      *sdk.Cond
		groups bool
		ok     bool
	}{
		{"nil", nil, false, true},
		{"email eq", sdk.Compare(sdk.FieldEmail, sdk.OpEq, "a@b.c"), false, true},
		{"email gt", sdk.Compare(sdk.FieldEmail, sdk.OpGt, "a"), false, true},
		{"title gt is not orderable", sdk.Compare(sdk.FieldTitle, sdk.OpGt, "a"), false, false},
		{"active eq true", sdk.Compare(sdk.FieldActive, sdk.OpEq, "true"), false, true},
		{"active eq yes", sdk.Compare(sdk.FieldActive, sdk.OpEq, "yes"), false, false},
		{"active co", sdk.Compare(sdk.FieldActive, sdk.OpCo, "t"), false, false},
		{"active gt", sdk.Compare(sdk.FieldActive, sdk.OpGt, "true"), false, false},
		{"co empty", sdk.Compare(sdk.FieldTitle, sdk.OpCo, ""), false, false},
		{"eq empty", sdk.Compare(sdk.FieldTitle, sdk.OpEq, ""), false, true},
		{"time", sdk.CompareTime(sdk.FieldCreated, sdk.OpGe, now), false, true},
		{"time zero", sdk.CompareTime(sdk.FieldCreated, sdk.OpGe, time.Time{}), false, false},
		{"time co", sdk.CompareTime(sdk.FieldCreated, sdk.OpCo, now), false, false},
		{"unknown field", sdk.Compare("shoeSize", sdk.OpEq, "x"), false, false},
		{"unknown op", sdk.Compare(sdk.FieldEmail, "like", "x"), false, false},
		{"member field on groups", sdk.Compare(sdk.FieldEmail, sdk.OpEq, "x"), true, false},
		{"group field", sdk.Compare(sdk.FieldDisplayName, sdk.OpEq, "x"), true, true},
		{"and of one", &sdk.Cond{Op: sdk.OpAnd, Args: []*sdk.Cond{sdk.Present(sdk.FieldID)}}, false, false},
		{"not of two", &sdk.Cond{Op: sdk.OpNot, Args: []*sdk.Cond{sdk.Present(sdk.FieldID), sdk.Present(sdk.FieldID)}}, false, false},
		{"nil operand", &sdk.Cond{Op: sdk.OpOr, Args: []*sdk.Cond{sdk.Present(sdk.FieldID), nil}}, false, false},
		{"comparison with args", &sdk.Cond{Op: sdk.OpEq, Field: sdk.FieldID, Args: []*sdk.Cond{nil}}, false, false},
		{"long operand", sdk.Compare(sdk.FieldEmail, sdk.OpEq, strings.Repeat("a", sdk.MaxCondValue+1)), false, false},
		{"invalid utf8", sdk.Compare(sdk.FieldTitle, sdk.OpEq, "\xff"), false, false},
		{"too deep", deep, false, false},
		{"too wide", &sdk.Cond{Op: sdk.OpOr, Args: wide}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.c.Validate(c.groups)
			if (err == nil) != c.ok {
				t.Fatalf("Validate(%v) = %v, want ok=%v", c.c, err, c.ok)
			}
			if err != nil && (sdk.CodeOf(err) != sdk.CodeInvalidArgument || sdk.FieldOf(err) != "Where") {
				t.Fatalf("err = %v; want invalid argument on Where", err)
			}
		})
	}
}

func TestCondConstructors(t *testing.T) {
	a := sdk.Compare(sdk.FieldEmail, sdk.OpEq, "a@x")
	b := sdk.Present(sdk.FieldTitle)
	if got := sdk.And(nil, a); got != a {
		t.Fatalf("And(nil, a) = %v, want a", got)
	}
	if got := sdk.And(sdk.And(a, b), a); len(got.Args) != 3 {
		t.Fatalf("And did not flatten: %v", got)
	}
	if got := sdk.Or(a, nil); got != nil {
		t.Fatalf("Or(a, nil) = %v, want nil (everything)", got)
	}
	m := &sdk.Member{ID: "1", EmailKey: "a@x", Status: sdk.StatusActive}
	if sdk.MatchNone().Match(m) || !(*sdk.Cond)(nil).Match(m) {
		t.Fatal("MatchNone matched, or nil did not")
	}
	if got := sdk.And(a, sdk.Not(b)).String(); got != `(email eq "a@x" and not (title pr))` {
		t.Fatalf("String = %s", got)
	}
}

func TestSearchMembers(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{IncludedSeats: 20})
	ctx := t.Context()
	x, err := w.c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "Xavier@Acme.test", Profile: sdk.Profile{ExternalID: "ext-x", Title: "Lead"}})
	if err != nil {
		t.Fatal(err)
	}
	search := func(where *sdk.Cond, opts sdk.ListOptions) ([]string, int) {
		t.Helper()
		p, total, err := w.c.SearchMembers(ctx, w.t.ID, sdk.MemberSearch{Where: where, ListOptions: opts, Total: true})
		if err != nil {
			t.Fatalf("SearchMembers(%v): %v", where, err)
		}
		var out []string
		for _, m := range p.Items {
			out = append(out, m.Email)
		}
		return out, total
	}
	// A pinned unique key is one lookup; the rest of a conjunction still applies.
	if got, n := search(sdk.Compare(sdk.FieldEmail, sdk.OpEq, "XAVIER@acme.test"), sdk.ListOptions{}); n != 1 || len(got) != 1 {
		t.Fatalf("email eq = %v, %d", got, n)
	}
	if got, n := search(sdk.And(sdk.Compare(sdk.FieldExternalID, sdk.OpEq, "ext-x"), sdk.Compare(sdk.FieldTitle, sdk.OpEq, "other")), sdk.ListOptions{}); n != 0 || len(got) != 0 {
		t.Fatalf("externalId eq and title = %v, %d; want none", got, n)
	}
	if got, n := search(sdk.Compare(sdk.FieldID, sdk.OpEq, x.ID), sdk.ListOptions{}); n != 1 || got[0] != "Xavier@Acme.test" {
		t.Fatalf("id eq = %v, %d", got, n)
	}
	if got, n := search(sdk.Compare(sdk.FieldEmail, sdk.OpEq, "nobody@acme.test"), sdk.ListOptions{}); n != 0 || got != nil {
		t.Fatalf("unknown email = %v, %d", got, n)
	}
	// General filters page and count.
	where := sdk.Compare(sdk.FieldEmail, sdk.OpEw, "@acme.test")
	first, n := search(where, sdk.ListOptions{PageSize: 4})
	if n != 6 || len(first) != 4 {
		t.Fatalf("first page = %v, total %d; want 4 of 6", first, n)
	}
	p, _, _ := w.c.SearchMembers(ctx, w.t.ID, sdk.MemberSearch{Where: where, ListOptions: sdk.ListOptions{PageSize: 4}})
	rest, _ := search(where, sdk.ListOptions{PageSize: 4, Cursor: p.NextCursor})
	if len(rest) != 2 {
		t.Fatalf("second page = %v", rest)
	}
	if _, total, _ := w.c.SearchMembers(ctx, w.t.ID, sdk.MemberSearch{Where: where}); total != -1 {
		t.Fatalf("total without Total = %d, want -1", total)
	}
	_, _, err = w.c.SearchMembers(ctx, w.t.ID, sdk.MemberSearch{Where: sdk.Compare(sdk.FieldTitle, sdk.OpLt, "x")})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
}
