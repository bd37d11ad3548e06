package storetest

import (
	"fmt"
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
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
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
	checkWhere(t, s, tn.ID, all, conds, false)
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

// checkWhere checks that ListMembers and CountMembers select, for each
// condition, exactly the members of all that Cond.Match accepts, in id
// order; with paging, also page by page (two members a page).
func checkWhere(t *testing.T, s sdk.Store, tenantID string, all []*sdk.Member, conds []*sdk.Cond, paging bool) {
	t.Helper()
	ctx := t.Context()
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
		got, err := s.ListMembers(ctx, tenantID, sdk.MemberQuery{Filter: sdk.MemberFilter{Where: c}, Limit: 1000})
		if err != nil {
			t.Errorf("ListMembers(%v): %v", c, err)
			continue
		}
		if ids := memberIDs(got); !slices.Equal(ids, want) {
			t.Errorf("ListMembers(%v) = %v, want %v", c, emailsOf(got), emailsOf(pick(all, want)))
		}
		if n, err := s.CountMembers(ctx, tenantID, sdk.MemberFilter{Where: c}); err != nil || n != len(want) {
			t.Errorf("CountMembers(%v) = %d, %v; want %d", c, n, err, len(want))
		}
		if !paging {
			continue
		}
		var paged []string
		after := ""
		for {
			page, err := s.ListMembers(ctx, tenantID, sdk.MemberQuery{Filter: sdk.MemberFilter{Where: c}, After: after, Limit: 2})
			if err != nil {
				t.Fatalf("ListMembers(%v, after %q): %v", c, after, err)
			}
			if len(page) > 2 {
				t.Fatalf("ListMembers(%v) returned a page of %d, limit 2", c, len(page))
			}
			paged = append(paged, memberIDs(page)...)
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].ID
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paging ListMembers(%v) by 2 = %v, want %v", c, emailsOf(pick(all, paged)), emailsOf(pick(all, want)))
		}
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

// testWhereProfile checks sdk.Cond on the whole profile against the
// reference semantics: userName, every scalar field (case folding, absent
// values), each sub-attribute of the multi-valued attributes ("some item"
// semantics, ne as the negation of eq, members without items), OpSome
// (one and the same item: an item whose type matches while another item
// has the value must not match), pr on the lists, and custom attributes.
// It then pages filtered lists in which few of many candidates match.
func testWhereProfile(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 100)
	type E = sdk.Email
	type P = sdk.PhoneNumber
	type A = sdk.Address
	profiles := []sdk.Profile{
		{
			UserName:     "Ann.UPN@Corp.example",
			Emails:       []E{{Value: "Ann.Work@Example.com", Type: "work", Display: "Ann W", Primary: true}, {Value: "ann@home.test", Type: "home"}},
			PhoneNumbers: []P{{Value: "+1 555 0100", Type: "mobile"}},
			Addresses: []A{{Formatted: "Straße 1, Berlin", StreetAddress: "Straße 1", Locality: "Berlin", Region: "BE", PostalCode: "10115",
				Country: "DE", Type: "work"}},
			FormattedName: "Ann Smith", MiddleName: "Marie", HonorificPrefix: "Ms.", NickName: "Annie", ProfileURL: "https://x.test/ann",
			UserType: "Employee", PreferredLanguage: "en-US", Locale: "en_US", Timezone: "Europe/Berlin", EmployeeNumber: "E-001",
			CostCenter: "CC-1", Organization: "Acme", Division: "R&D", Custom: map[string]string{"badge": "B-1", "level": "3"},
		},
		{
			UserName:     "bob@example.com",
			Emails:       []E{{Value: "X@example.com", Type: "home"}, {Value: "bob@example.com", Type: "work", Primary: true}},
			PhoneNumbers: []P{{Value: "+1 555 0199", Type: "work", Display: "Desk", Primary: true}, {Value: "+1 555 0100", Type: "mobile"}},
			NickName:     "bobby", UserType: "Contractor", Locale: "EN_us", EmployeeNumber: "e-001", HonorificSuffix: "Jr.",
			Custom: map[string]string{"badge": "b-1"},
		},
		{
			UserName: "x@example.com",
			Emails:   []E{{Value: "x@example.com", Type: "work"}},
			Addresses: []A{{Locality: "Zürich", Country: "CH", Type: "home", Primary: true},
				{Locality: "Berlin", Country: "de", Type: "work"}},
			Timezone: "Europe/Zurich", Division: "Sales",
		},
		{
			UserName:   "dana@example.org",
			Addresses:  []A{{Formatted: "PO Box 7"}},
			ProfileURL: "HTTPS://X.TEST/DANA", Custom: map[string]string{"level": "10"},
		},
		{
			UserName:     "erin",
			Emails:       []E{{Value: "erin@example.com", Display: "E.", Primary: true}, {Value: "Erin@Example.COM", Type: "work"}},
			PhoneNumbers: []P{{Value: "555"}},
			Division:     "r&d", Organization: "ACME", CostCenter: "cc-1", FormattedName: "Erin Zed",
		},
	}
	for _, p := range profiles {
		m := newMember(tn.ID, "unused@x.test")
		m.Profile = p
		derive(m)
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	C, Pr, Some := sdk.Compare, sdk.Present, func(f sdk.Field, c *sdk.Cond) *sdk.Cond {
		return &sdk.Cond{Op: sdk.OpSome, Field: f, Args: []*sdk.Cond{c}}
	}
	badge, level := sdk.CustomField("badge"), sdk.CustomField("level")
	conds := []*sdk.Cond{
		C(sdk.FieldUserName, sdk.OpEq, "ANN.upn@corp.EXAMPLE"),
		C(sdk.FieldUserName, sdk.OpEq, " erin "),
		C(sdk.FieldUserName, sdk.OpNe, "bob@example.com"),
		C(sdk.FieldUserName, sdk.OpSw, "ANN"),
		C(sdk.FieldUserName, sdk.OpCo, "@EXAMPLE"),
		C(sdk.FieldUserName, sdk.OpEw, ".ORG"),
		C(sdk.FieldUserName, sdk.OpGt, "c"),
		C(sdk.FieldUserName, sdk.OpLe, "dana@example.org"),
		Pr(sdk.FieldUserName),

		C(sdk.FieldEmailValue, sdk.OpEq, "X@EXAMPLE.COM"),
		C(sdk.FieldEmailValue, sdk.OpEq, "bob@example.com"),
		C(sdk.FieldEmailValue, sdk.OpEq, "erin@example.com"),
		C(sdk.FieldEmailValue, sdk.OpEq, ""),
		C(sdk.FieldEmailValue, sdk.OpNe, "x@example.com"),
		C(sdk.FieldEmailValue, sdk.OpNe, ""),
		C(sdk.FieldEmailValue, sdk.OpCo, "HOME"),
		C(sdk.FieldEmailValue, sdk.OpCo, ".*"),
		C(sdk.FieldEmailValue, sdk.OpSw, "erin"),
		C(sdk.FieldEmailValue, sdk.OpEw, ".COM"),
		Pr(sdk.FieldEmailValue),
		C(sdk.FieldEmailType, sdk.OpEq, "WORK"),
		C(sdk.FieldEmailType, sdk.OpEq, "home"),
		C(sdk.FieldEmailType, sdk.OpNe, "work"),
		C(sdk.FieldEmailType, sdk.OpEq, ""),
		C(sdk.FieldEmailType, sdk.OpCo, "OR"),
		Pr(sdk.FieldEmailType),
		C(sdk.FieldEmailDisplay, sdk.OpEq, "e."),
		C(sdk.FieldEmailDisplay, sdk.OpCo, "w"),
		Pr(sdk.FieldEmailDisplay),
		C(sdk.FieldEmailPrimary, sdk.OpEq, "true"),
		C(sdk.FieldEmailPrimary, sdk.OpEq, "false"),
		C(sdk.FieldEmailPrimary, sdk.OpNe, "true"),
		C(sdk.FieldEmailPrimary, sdk.OpNe, "false"),
		Pr(sdk.FieldEmailPrimary),

		C(sdk.FieldPhoneValue, sdk.OpEq, "+1 555 0100"),
		C(sdk.FieldPhoneValue, sdk.OpCo, "0199"),
		C(sdk.FieldPhoneValue, sdk.OpNe, "555"),
		Pr(sdk.FieldPhoneValue),
		C(sdk.FieldPhoneType, sdk.OpEq, "MOBILE"),
		C(sdk.FieldPhoneType, sdk.OpNe, "mobile"),
		C(sdk.FieldPhoneType, sdk.OpEq, ""),
		Pr(sdk.FieldPhoneDisplay),
		C(sdk.FieldPhonePrimary, sdk.OpEq, "true"),
		C(sdk.FieldPhonePrimary, sdk.OpNe, "true"),

		C(sdk.FieldAddressFormatted, sdk.OpCo, "po box"),
		C(sdk.FieldAddressStreet, sdk.OpEq, "STRAßE 1"),
		C(sdk.FieldAddressLocality, sdk.OpEq, "BERLIN"),
		C(sdk.FieldAddressLocality, sdk.OpEq, "zürich"),
		C(sdk.FieldAddressLocality, sdk.OpNe, "berlin"),
		C(sdk.FieldAddressLocality, sdk.OpSw, "Z"),
		C(sdk.FieldAddressLocality, sdk.OpEq, ""),
		C(sdk.FieldAddressRegion, sdk.OpEq, "be"),
		C(sdk.FieldAddressPostalCode, sdk.OpEq, "10115"),
		C(sdk.FieldAddressCountry, sdk.OpEq, "DE"),
		C(sdk.FieldAddressType, sdk.OpEq, "home"),
		C(sdk.FieldAddressType, sdk.OpEq, ""),
		C(sdk.FieldAddressPrimary, sdk.OpEq, "true"),
		C(sdk.FieldAddressPrimary, sdk.OpEq, "false"),
		Pr(sdk.FieldAddressPrimary),

		Some(sdk.FieldEmails, sdk.And(C(sdk.FieldEmailType, sdk.OpEq, "work"), C(sdk.FieldEmailValue, sdk.OpEq, "X@example.com"))),
		Some(sdk.FieldEmails, sdk.And(C(sdk.FieldEmailType, sdk.OpEq, "work"), C(sdk.FieldEmailPrimary, sdk.OpEq, "true"))),
		Some(sdk.FieldEmails, sdk.Or(C(sdk.FieldEmailType, sdk.OpEq, "home"), Pr(sdk.FieldEmailDisplay))),
		Some(sdk.FieldEmails, sdk.Not(C(sdk.FieldEmailType, sdk.OpEq, "work"))),
		Some(sdk.FieldEmails, sdk.And(C(sdk.FieldEmailValue, sdk.OpNe, "x@example.com"), C(sdk.FieldEmailType, sdk.OpEq, "work"))),
		Some(sdk.FieldEmails, C(sdk.FieldEmailValue, sdk.OpEq, "erin@EXAMPLE.com")),
		Some(sdk.FieldPhoneNumbers, sdk.And(C(sdk.FieldPhoneType, sdk.OpEq, "mobile"), C(sdk.FieldPhonePrimary, sdk.OpEq, "true"))),
		Some(sdk.FieldPhoneNumbers, sdk.And(C(sdk.FieldPhoneValue, sdk.OpEq, "+1 555 0100"), C(sdk.FieldPhoneType, sdk.OpEq, "mobile"))),
		Some(sdk.FieldAddresses, sdk.And(C(sdk.FieldAddressLocality, sdk.OpEq, "berlin"), C(sdk.FieldAddressCountry, sdk.OpEq, "de"))),
		Some(sdk.FieldAddresses, sdk.And(C(sdk.FieldAddressLocality, sdk.OpEq, "zürich"), C(sdk.FieldAddressType, sdk.OpEq, "work"))),
		Some(sdk.FieldAddresses, Pr(sdk.FieldAddressLocality)),
		sdk.Not(Some(sdk.FieldEmails, C(sdk.FieldEmailType, sdk.OpEq, "work"))),

		Pr(sdk.FieldEmails),
		Pr(sdk.FieldPhoneNumbers),
		Pr(sdk.FieldAddresses),
		sdk.Not(Pr(sdk.FieldEmails)),

		C(badge, sdk.OpEq, "B-1"),
		C(badge, sdk.OpEq, "b-1"),
		C(badge, sdk.OpNe, "B-1"),
		C(badge, sdk.OpSw, "B"),
		C(badge, sdk.OpCo, "-"),
		C(badge, sdk.OpGt, "A"),
		C(badge, sdk.OpLt, "b"),
		C(badge, sdk.OpEq, ""),
		Pr(badge),
		C(level, sdk.OpGt, "2"),
		C(level, sdk.OpLe, "10"),
		C(sdk.CustomField("nope"), sdk.OpEq, ""),
		C(sdk.CustomField("nope"), sdk.OpEq, "x"),

		sdk.And(Some(sdk.FieldEmails, C(sdk.FieldEmailType, sdk.OpEq, "work")), sdk.Not(Pr(badge))),
		sdk.Or(C(sdk.FieldEmailValue, sdk.OpEq, "ann@home.test"), C(sdk.FieldUserName, sdk.OpEq, "erin")),
		sdk.And(C(sdk.FieldEmployeeNumber, sdk.OpEq, "E-001"), C(sdk.FieldActive, sdk.OpEq, "true")),
		sdk.Not(sdk.And(C(sdk.FieldNickName, sdk.OpEq, "ANNIE"), Pr(sdk.FieldEmails))),
		sdk.Or(C(sdk.FieldNickName, sdk.OpEq, "annie"), C(sdk.FieldEmployeeNumber, sdk.OpEq, "e-001")),
		sdk.Not(sdk.Or(C(sdk.FieldLocale, sdk.OpEq, "en_us"), C(sdk.FieldAddressLocality, sdk.OpEq, "berlin"))),
	}
	// Every single-valued text field: case folding, absence, each operator.
	scalars := []struct {
		f sdk.Field
		v string // a value some member has, in another case
	}{
		{sdk.FieldFormattedName, "ANN SMITH"}, {sdk.FieldGivenName, "x"}, {sdk.FieldFamilyName, "x"},
		{sdk.FieldMiddleName, "marie"}, {sdk.FieldHonorificPrefix, "MS."}, {sdk.FieldHonorificSuffix, "jr."},
		{sdk.FieldDisplayName, "x"}, {sdk.FieldNickName, "BOBBY"}, {sdk.FieldProfileURL, "https://x.test/dana"},
		{sdk.FieldTitle, "x"}, {sdk.FieldUserType, "employee"}, {sdk.FieldPreferredLanguage, "EN-us"},
		{sdk.FieldLocale, "en_us"}, {sdk.FieldTimezone, "europe/zurich"}, {sdk.FieldEmployeeNumber, "e-001"},
		{sdk.FieldCostCenter, "CC-1"}, {sdk.FieldOrganization, "acme"}, {sdk.FieldDivision, "R&D"},
		{sdk.FieldDepartment, "x"}, {sdk.FieldExternalID, "x"}, {sdk.FieldManagerID, "x"},
	}
	for _, sc := range scalars {
		v := sc.v
		conds = append(conds,
			C(sc.f, sdk.OpEq, v), C(sc.f, sdk.OpNe, v), Pr(sc.f), C(sc.f, sdk.OpEq, ""), C(sc.f, sdk.OpNe, ""),
			C(sc.f, sdk.OpSw, v[:1]), C(sc.f, sdk.OpEw, v[len(v)-1:]), C(sc.f, sdk.OpCo, v[len(v)/2:]),
			sdk.Not(C(sc.f, sdk.OpCo, v[len(v)/2:])),
		)
	}
	checkWhere(t, s, tn.ID, all, conds, true)

	// Filters answered partly outside a store's indexes page correctly
	// when few of many candidates match: three targets among fillers.
	many, _ := fixture(t, s, "many", 1000)
	var ws []sdk.MemberWrite
	for i := range 150 {
		m := newMember(many.ID, fmt.Sprintf("f%03d@x.test", i))
		m.NickName = "filler"
		switch i {
		case 20, 90, 149:
			setEmail(m, fmt.Sprintf("Target%03d@x.test", i))
			m.NickName = []string{"Zed", "ZED", "zed"}[i%3]
			m.Emails = append([]sdk.Email{{Value: "home@x.test", Type: "home"}}, m.Emails...)
		case 50:
			m.Emails = append(m.Emails, sdk.Email{Value: "target-home@x.test", Type: "home"})
		}
		derive(m)
		ws = append(ws, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake})
	}
	writeMembers(t, s, ws)
	all, err = s.ListMembers(ctx, many.ID, sdk.MemberQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	checkWhere(t, s, many.ID, all, []*sdk.Cond{
		C(sdk.FieldNickName, sdk.OpEq, "zed"),
		sdk.Not(C(sdk.FieldNickName, sdk.OpEq, "FILLER")),
		Some(sdk.FieldEmails, sdk.And(C(sdk.FieldEmailType, sdk.OpEq, "work"), C(sdk.FieldEmailValue, sdk.OpSw, "target"))),
		Some(sdk.FieldEmails, sdk.And(C(sdk.FieldEmailType, sdk.OpEq, "home"), C(sdk.FieldEmailValue, sdk.OpEq, "TARGET-home@x.test"))),
		C(sdk.FieldEmailType, sdk.OpEq, "HOME"),
	}, true)
}
