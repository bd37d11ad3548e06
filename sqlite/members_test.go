package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// TestOtherEmails follows a member's second addresses through member
// writes: member_emails holds exactly the addresses that are not its
// EmailKey, and emails.value finds the member by any of them.
func TestOtherEmails(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	tn := newTenant(t, s, "acme", 10, false)
	m := member(tn.ID, "ann@acme.test")
	m.Emails = append(m.Emails, sdk.Email{Value: "Ann@Home.test", Type: "home"}, sdk.Email{Value: "ann@home.TEST", Type: "other"})
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	rows := func() int {
		var n int
		if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM member_emails").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	find := func(addr string) int {
		n, err := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{Where: sdk.Compare(sdk.FieldEmailValue, sdk.OpEq, addr)})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := rows(); n != 1 {
		t.Errorf("%d rows in member_emails, want 1 (two items, one value, besides the member email)", n)
	}
	if find("ann@home.test") != 1 || find("ann@acme.test") != 1 || find("bob@home.test") != 0 {
		t.Error("emails.value eq does not find the member by each of its addresses alone")
	}
	// A member whose EmailKey comes from its userName has no item for it.
	u := member(tn.ID, "uma@acme.test")
	u.Emails = []sdk.Email{{Value: "uma@elsewhere.test", Type: "home"}}
	u.Email = u.MemberEmail()
	u.EmailKey = sdk.NormalizeEmail(u.Email)
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: u}); err != nil {
		t.Fatal(err)
	}
	if find("uma@acme.test") != 0 || find("uma@elsewhere.test") != 1 {
		t.Error("emails.value matched the userName, or missed the item")
	}

	m2 := m.Clone()
	m2.Emails = m2.Emails[:1]
	m2.Emails = append(m2.Emails, sdk.Email{Value: "ann@work.test"})
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m2, ExpectedVersion: m.Version}); err != nil {
		t.Fatal(err)
	}
	if find("ann@home.test") != 0 || find("ann@work.test") != 1 {
		t.Error("an update did not move the member's second address")
	}
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m.ID, ExpectedVersion: m2.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: u.ID, ExpectedVersion: u.Version}); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 0 {
		t.Errorf("%d rows left in member_emails after the members' deletion", n)
	}
}

// TestWhereExact checks which conditions SQL answers exactly, as doc.go
// promises: those filters never decode a member they do not return.
func TestWhereExact(t *testing.T) {
	C := sdk.Compare
	for _, c := range []struct {
		cond  *sdk.Cond
		exact bool
	}{
		{C(sdk.FieldUserName, sdk.OpEq, "ann"), true},
		{C(sdk.FieldEmail, sdk.OpSw, "ann"), true},
		{C(sdk.FieldEmailValue, sdk.OpEq, "ann@x.test"), true},
		{sdk.Not(C(sdk.FieldEmailValue, sdk.OpEq, "ann@x.test")), true},
		{sdk.And(C(sdk.FieldActive, sdk.OpEq, "true"), C(sdk.FieldEmployeeNumber, sdk.OpEq, "7")), true},
		{sdk.Or(C(sdk.FieldDisplayName, sdk.OpCo, "an"), C(sdk.FieldExternalID, sdk.OpEq, "E1")), true},
		{C(sdk.CustomField("badge"), sdk.OpEq, "B-1"), true},
		{sdk.CompareTime(sdk.FieldCreated, sdk.OpGt, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), true},
		{C(sdk.FieldTitle, sdk.OpEq, "staff"), false},
		{C(sdk.FieldEmailValue, sdk.OpCo, "ann"), false},
		{sdk.Not(C(sdk.FieldDepartment, sdk.OpEq, "eng")), false},
		{sdk.Or(C(sdk.FieldUserName, sdk.OpEq, "ann"), C(sdk.FieldTitle, sdk.OpEq, "staff")), false},
	} {
		if got := memberWhere("t", c.cond); got.exact != c.exact {
			t.Errorf("%s: exact = %v, want %v (sql %q)", c.cond, got.exact, c.exact, got.sql)
		}
	}
}

// TestContextErrors checks that a cancelled context's error comes back as
// it is, never as a store error.
func TestContextErrors(t *testing.T) {
	s := openTest(t)
	tn := newTenant(t, s, "acme", 10, false)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.GetTenant(ctx, tn.ID)
	if !errors.Is(err, context.Canceled) || sdk.CodeOf(err) != sdk.CodeUnknown {
		t.Errorf("GetTenant(cancelled) = %v", err)
	}
	var se *sdk.Error
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: member(tn.ID, "x@acme.test")}); !errors.Is(err, context.Canceled) || errors.As(err, &se) {
		t.Errorf("CreateMember(cancelled) = %v", err)
	}
	if _, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{}); !errors.Is(err, context.Canceled) || errors.As(err, &se) {
		t.Errorf("ListMembers(cancelled) = %v", err)
	}
}

// TestDatabaseErrors checks that a failure of the database is CodeUnknown
// and names the file.
func TestDatabaseErrors(t *testing.T) {
	path := t.TempDir() + "/roster.db"
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	tn := newTenant(t, s, "acme", 10, false)
	s.Close()
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	for name, err := range map[string]error{
		"GetTenant":    func() error { _, err := s.GetTenant(t.Context(), tn.ID); return err }(),
		"CreateMember": s.CreateMember(t.Context(), sdk.MemberWrite{Member: member(tn.ID, "x@acme.test")}),
		"ListMembers":  func() error { _, err := s.ListMembers(t.Context(), tn.ID, sdk.MemberQuery{}); return err }(),
	} {
		var se *sdk.Error
		if !errors.As(err, &se) || se.Code != sdk.CodeUnknown || !strings.Contains(err.Error(), path) {
			t.Errorf("%s on a closed store = %v, want CodeUnknown naming %s", name, err, path)
		}
	}
}

// TestDiskFull fills the database (SQLite's page limit stands in for the
// disk) and checks that the write that does not fit fails with
// CodeUnknown naming the file and the cause, writes nothing, and leaves
// the seat counter exact.
func TestDiskFull(t *testing.T) {
	path := t.TempDir() + "/roster.db"
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tn := newTenant(t, s, "acme", 1_000_000, false)
	var pages int
	if err := s.w.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The write connection is the only one that writes: the limit holds
	// for every write of the store.
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages+20)); err != nil {
		t.Fatal(err)
	}
	var full error
	var last *sdk.Member
	for i := 0; i < 100_000 && full == nil; i++ {
		last = member(tn.ID, fmt.Sprintf("m%06d-%s@acme.test", i, strings.Repeat("x", 200)))
		full = s.CreateMember(t.Context(), sdk.MemberWrite{Member: last, Seat: sdk.SeatTake})
	}
	var se *sdk.Error
	if !errors.As(full, &se) || se.Code != sdk.CodeUnknown || !strings.Contains(se.Message, path) || !strings.Contains(se.Message, "the disk is full") {
		t.Fatalf("the write that does not fit = %v, want CodeUnknown naming %s and the full disk", full, path)
	}
	if _, err := s.GetMember(t.Context(), tn.ID, last.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("the refused member is stored: %v", err)
	}
	got, err := s.GetTenant(t.Context(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.CountMembers(t.Context(), tn.ID, sdk.MemberFilter{})
	if err != nil || got.SeatsUsed != n {
		t.Errorf("seat counter %d, members %d (%v)", got.SeatsUsed, n, err)
	}
}
