package scim

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/sdk"
)

// decodeOps reads PATCH operations the way elimity hands them over: op
// lower-cased, path parsed.
func decodeOps(t testing.TB, raw string) ([]string, []*filter.Path, []any, error) {
	var ops []struct {
		Op    string
		Path  string
		Value any
	}
	d := json.NewDecoder(strings.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&ops); err != nil {
		return nil, nil, nil, err
	}
	var names []string
	var paths []*filter.Path
	var values []any
	for _, o := range ops {
		var p *filter.Path
		if o.Path != "" {
			pp, err := parsePath(o.Path)
			if err != nil {
				return nil, nil, nil, err
			}
			p = &pp
		}
		names = append(names, strings.ToLower(o.Op))
		paths = append(paths, p)
		values = append(values, o.Value)
	}
	return names, paths, values, nil
}

// TestUserPatch applies PATCH operations in every shape Okta and Entra ID
// send to a member through the attribute table and checks the profile,
// status, password and field mask the edit leaves, or the refusal.
func TestUserPatch(t *testing.T) {
	base := sdk.Profile{UserName: "ann@x.test", GivenName: "Ann", FamilyName: "Lee", DisplayName: "Ann Lee", Title: "Dev",
		Department: "R&D", ManagerID: "M0", ExternalID: "e1",
		Emails:       []sdk.Email{{Value: "ann@x.test", Type: "work", Primary: true}},
		PhoneNumbers: []sdk.PhoneNumber{{Value: "+33 1", Type: "work"}, {Value: "+33 6", Type: "mobile"}},
		Addresses:    []sdk.Address{{Locality: "Paris", Country: "FR", Type: "work"}},
		Custom:       map[string]string{"badge": "B-1"},
	}
	type result struct {
		p        sdk.Profile
		active   *bool
		password string
		mask     []sdk.Field
	}
	f, tr := false, true
	with := func(fn func(p *sdk.Profile), mask ...sdk.Field) result {
		p := base.Clone()
		if fn != nil {
			fn(&p)
		}
		return result{p: p, mask: mask}
	}
	withActive := func(b *bool) result { r := with(nil); r.active = b; return r }
	cases := []struct {
		name string
		ops  string
		want result
		err  string // scimType when the patch is refused
	}{
		{"replace active false", `[{"op":"replace","path":"active","value":false}]`, withActive(&f), ""},
		{"string boolean", `[{"op":"Replace","path":"active","value":"False"}]`, withActive(&f), ""},
		{"okta path-less active", `[{"op":"replace","value":{"active":true}}]`, withActive(&tr), ""},
		{"path-less dotted", `[{"op":"replace","value":{"name.givenName":"Bo","name.familyName":"Bay"}}]`,
			with(func(p *sdk.Profile) { p.GivenName, p.FamilyName = "Bo", "Bay" }, sdk.FieldFamilyName, sdk.FieldGivenName), ""},
		{"path-less urn keys", `[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Ops","urn:ietf:params:scim:schemas:core:2.0:User:title":"Lead"}}]`,
			with(func(p *sdk.Profile) { p.Department, p.Title = "Ops", "Lead" }, sdk.FieldTitle, sdk.FieldDepartment), ""},
		{"path-less extension object", `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops","manager":{"value":"M9"}}}}]`,
			with(func(p *sdk.Profile) { p.Department, p.ManagerID = "Ops", "M9" }, sdk.FieldDepartment, sdk.FieldManagerID), ""},
		{"path-less filtered key", `[{"op":"add","value":{"emails[type eq \"home\"].value":"h@x.test"}}]`,
			with(func(p *sdk.Profile) { p.Emails = append(p.Emails, sdk.Email{Value: "h@x.test", Type: "home"}) }, sdk.FieldEmails), ""},
		{"name merge", `[{"op":"replace","path":"name","value":{"givenName":"Bo","middleName":"Q"}}]`,
			with(func(p *sdk.Profile) { p.GivenName, p.MiddleName = "Bo", "Q" }, sdk.FieldGivenName, sdk.FieldMiddleName), ""},
		{"name remove", `[{"op":"remove","path":"name"}]`, with(func(p *sdk.Profile) { p.GivenName, p.FamilyName = "", "" },
			sdk.FieldFormattedName, sdk.FieldFamilyName, sdk.FieldGivenName, sdk.FieldMiddleName, sdk.FieldHonorificPrefix, sdk.FieldHonorificSuffix), ""},
		{"remove title", `[{"op":"remove","path":"title"}]`, with(func(p *sdk.Profile) { p.Title = "" }, sdk.FieldTitle), ""},
		{"manager bare id", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"M5"}]`,
			with(func(p *sdk.Profile) { p.ManagerID = "M5" }, sdk.FieldManagerID), ""},
		{"manager without urn, list of one", `[{"op":"Add","path":"manager","value":[{"$ref":"../Users/M7","value":"M7"}]}]`,
			with(func(p *sdk.Profile) { p.ManagerID = "M7" }, sdk.FieldManagerID), ""},
		{"manager value path", `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"M6"}]`,
			with(func(p *sdk.Profile) { p.ManagerID = "M6" }, sdk.FieldManagerID), ""},
		{"manager remove", `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
			with(func(p *sdk.Profile) { p.ManagerID = "" }, sdk.FieldManagerID), ""},
		{"enterprise employeeNumber", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"0042"}]`,
			with(func(p *sdk.Profile) { p.EmployeeNumber = "0042" }, sdk.FieldEmployeeNumber), ""},
		{"whole extension", `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"X","costCenter":"CC"}}]`,
			with(func(p *sdk.Profile) { p.Department, p.CostCenter = "X", "CC" }, sdk.FieldCostCenter, sdk.FieldDepartment), ""},
		{"userName keeps the email", `[{"op":"replace","path":"userName","value":"Ann.Lee@corp.onmicrosoft.com"}]`,
			with(func(p *sdk.Profile) { p.UserName = "Ann.Lee@corp.onmicrosoft.com" }, sdk.FieldUserName), ""},
		{"work email value", `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@x.test"}]`,
			with(func(p *sdk.Profile) { p.Emails[0].Value = "new@x.test" }, sdk.FieldEmails), ""},
		{"work email created when missing", `[{"op":"remove","path":"emails"},{"op":"Add","path":"emails[type eq \"work\"].value","value":"made@x.test"}]`,
			with(func(p *sdk.Profile) { p.Emails = []sdk.Email{{Value: "made@x.test", Type: "work"}} }, sdk.FieldEmails), ""},
		{"mobile phone replaced", `[{"op":"replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+33 7"}]`,
			with(func(p *sdk.Profile) { p.PhoneNumbers[1].Value = "+33 7" }, sdk.FieldPhoneNumbers), ""},
		{"fax phone created", `[{"op":"add","path":"phoneNumbers[type eq \"fax\"].value","value":"+33 9"}]`,
			with(func(p *sdk.Profile) {
				p.PhoneNumbers = append(p.PhoneNumbers, sdk.PhoneNumber{Value: "+33 9", Type: "fax"})
			}, sdk.FieldPhoneNumbers), ""},
		{"work address locality", `[{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Lyon"}]`,
			with(func(p *sdk.Profile) { p.Addresses[0].Locality = "Lyon" }, sdk.FieldAddresses), ""},
		{"home address created", `[{"op":"add","path":"addresses[type eq \"home\"].streetAddress","value":"1 rue X"}]`,
			with(func(p *sdk.Profile) {
				p.Addresses = append(p.Addresses, sdk.Address{StreetAddress: "1 rue X", Type: "home"})
			}, sdk.FieldAddresses), ""},
		{"remove with a filter removes only matches", `[{"op":"remove","path":"phoneNumbers[type eq \"mobile\"]"}]`,
			with(func(p *sdk.Profile) { p.PhoneNumbers = p.PhoneNumbers[:1] }, sdk.FieldPhoneNumbers), ""},
		{"remove a sub-attribute", `[{"op":"remove","path":"addresses[type eq \"work\"].country"}]`,
			with(func(p *sdk.Profile) { p.Addresses[0].Country = "" }, sdk.FieldAddresses), ""},
		{"remove the last address part removes the address", `[{"op":"remove","path":"addresses[type eq \"work\"].country"},{"op":"remove","path":"addresses[type eq \"work\"].locality"}]`,
			with(func(p *sdk.Profile) { p.Addresses = []sdk.Address{} }, sdk.FieldAddresses), ""},
		{"remove emails by value", `[{"op":"remove","path":"emails","value":[{"value":"ANN@x.test"}]}]`,
			with(func(p *sdk.Profile) { p.Emails = []sdk.Email{} }, sdk.FieldEmails), ""},
		{"add keeps order", `[{"op":"add","path":"emails","value":[{"value":"b@x.test","type":"other"},{"value":"a@x.test","type":"home"}]}]`,
			with(func(p *sdk.Profile) {
				p.Emails = append(p.Emails, sdk.Email{Value: "b@x.test", Type: "other"}, sdk.Email{Value: "a@x.test", Type: "home"})
			}, sdk.FieldEmails), ""},
		{"add an existing value changes it", `[{"op":"add","path":"emails","value":[{"value":"ANN@x.test","display":"Ann"}]}]`,
			with(func(p *sdk.Profile) { p.Emails[0].Value, p.Emails[0].Display = "ANN@x.test", "Ann" }, sdk.FieldEmails), ""},
		{"primary moves", `[{"op":"add","path":"emails","value":[{"value":"p@x.test","type":"other","primary":"true"}]}]`,
			with(func(p *sdk.Profile) {
				p.Emails[0].Primary = false
				p.Emails = append(p.Emails, sdk.Email{Value: "p@x.test", Type: "other", Primary: true})
			}, sdk.FieldEmails), ""},
		{"emails replace", `[{"op":"replace","path":"emails","value":[{"value":"r@x.test","type":"work"}]}]`,
			with(func(p *sdk.Profile) { p.Emails = []sdk.Email{{Value: "r@x.test", Type: "work"}} }, sdk.FieldEmails), ""},
		{"unicode kept", `[{"op":"replace","path":"displayName","value":"Zoë Ångström 李"}]`,
			with(func(p *sdk.Profile) { p.DisplayName = "Zoë Ångström 李" }, sdk.FieldDisplayName), ""},
		{"custom attribute by urn", `[{"op":"add","path":"urn:roster:params:scim:schemas:extension:acme:2.0:User:level","value":7}]`,
			with(func(p *sdk.Profile) { p.Custom["level"] = "7" }, sdk.CustomField("level")), ""},
		{"custom extension object", `[{"op":"replace","value":{"urn:roster:params:scim:schemas:extension:acme:2.0:User":{"remote":"True","badge":"B-2"}}}]`,
			with(func(p *sdk.Profile) { p.Custom["remote"], p.Custom["badge"] = "True", "B-2" }, sdk.CustomField("badge"), sdk.CustomField("remote")), ""},
		{"custom remove", `[{"op":"remove","path":"urn:roster:params:scim:schemas:extension:acme:2.0:User:badge"}]`,
			with(func(p *sdk.Profile) { delete(p.Custom, "badge") }, sdk.CustomField("badge")), ""},
		{"password", `[{"op":"replace","path":"password","value":"s3cret-Pass"}]`, result{p: base, password: "s3cret-Pass"}, ""},
		{"roles repeating the current role", `[{"op":"replace","path":"roles","value":[{"value":"standard","primary":true}]}]`, with(nil), ""},
		{"readOnly ignored", `[{"op":"replace","value":{"id":"other","meta":{"version":"x"},"groups":[],"schemas":[]}}]`, with(nil), ""},
		{"ops apply in order", `[{"op":"replace","path":"title","value":"A"},{"op":"remove","path":"title"},{"op":"add","path":"title","value":"B"}]`,
			with(func(p *sdk.Profile) { p.Title = "B" }, sdk.FieldTitle), ""},
		// Refused.
		{"unknown op", `[{"op":"merge","path":"title","value":"x"}]`, result{}, "invalidSyntax"},
		{"remove userName", `[{"op":"remove","path":"userName"}]`, result{}, "mutability"},
		{"remove active", `[{"op":"remove","path":"active"}]`, result{}, "mutability"},
		{"remove without path", `[{"op":"remove"}]`, result{}, "noTarget"},
		{"path-less scalar", `[{"op":"replace","value":"x"}]`, result{}, "invalidValue"},
		{"unknown attribute", `[{"op":"replace","path":"shoeSize","value":"42"}]`, result{}, "invalidPath"},
		{"attribute not stored", `[{"op":"add","path":"ims","value":[{"value":"x"}]}]`, result{}, "invalidPath"},
		{"unknown schema", `[{"op":"replace","path":"urn:example:x:User:a","value":"42"}]`, result{}, "invalidPath"},
		{"unknown sub-attribute", `[{"op":"add","path":"emails","value":[{"value":"a@x.test","label":"x"}]}]`, result{}, "invalidPath"},
		{"unknown name part", `[{"op":"replace","path":"name.nickname","value":"x"}]`, result{}, "invalidPath"},
		{"filter on single-valued", `[{"op":"replace","path":"name[givenName eq \"x\"].familyName","value":"y"}]`, result{}, "invalidPath"},
		{"wrong type", `[{"op":"replace","path":"title","value":42}]`, result{}, "invalidValue"},
		{"wrong type in an item", `[{"op":"add","path":"emails","value":[{"value":7}]}]`, result{}, "invalidValue"},
		{"active not boolean", `[{"op":"replace","path":"active","value":"maybe"}]`, result{}, "invalidValue"},
		{"custom wrong type", `[{"op":"add","path":"urn:roster:params:scim:schemas:extension:acme:2.0:User:level","value":true}]`, result{}, "invalidValue"},
		{"uncreatable filter", `[{"op":"replace","path":"emails[type ne \"work\"].value","value":"x@y"}]`, result{}, "noTarget"},
		{"bad item filter attribute", `[{"op":"replace","path":"emails[foo eq \"x\"].value","value":"x@y"}]`, result{}, "invalidFilter"},
		{"manager wrong type", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":42}]`, result{}, "invalidValue"},
		{"roles another role", `[{"op":"add","path":"roles","value":[{"value":"admin"}]}]`, result{}, "mutability"},
		{"roles remove", `[{"op":"remove","path":"roles"}]`, result{}, "mutability"},
		{"same attribute twice", `[{"op":"replace","value":{"title":"a","TITLE":"b"}}]`, result{}, "invalidSyntax"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			names, paths, values, err := decodeOps(t, c.ops)
			if err != nil {
				if c.err != "" {
					return // refused by the reader, as readPatch would
				}
				t.Fatal(err)
			}
			e := &edit{s: testSchema(), p: base.Clone(), patch: true}
			for i := range names {
				if err = e.apply(names[i], paths[i], values[i]); err != nil {
					break
				}
			}
			if err == nil {
				err = e.checkRoles("standard")
			}
			if c.err != "" {
				if err == nil || string(errorFor(err).ScimType) != c.err || errorFor(err).Status != 400 {
					t.Fatalf("err = %v; want 400 %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normal(e.p), normal(c.want.p)) {
				t.Fatalf("profile\n got %+v\nwant %+v", e.p, c.want.p)
			}
			if !reflect.DeepEqual(e.active, c.want.active) {
				t.Fatalf("active = %v; want %v", e.active, c.want.active)
			}
			if pw := deref(e.password); pw != c.want.password {
				t.Fatalf("password %q; want %q", pw, c.want.password)
			}
			if c.want.mask != nil && !slices.Equal(sortedFields(e.mask), sortedFields(c.want.mask)) {
				t.Fatalf("mask %v; want %v", e.mask, c.want.mask)
			}
		})
	}
}

// normal makes empty and nil lists equal.
func normal(p sdk.Profile) sdk.Profile {
	if len(p.Emails) == 0 {
		p.Emails = nil
	}
	if len(p.PhoneNumbers) == 0 {
		p.PhoneNumbers = nil
	}
	if len(p.Addresses) == 0 {
		p.Addresses = nil
	}
	if len(p.Custom) == 0 {
		p.Custom = nil
	}
	return p
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func sortedFields(fs []sdk.Field) []sdk.Field {
	out := slices.Clone(fs)
	slices.Sort(out)
	return out
}

func TestGroupPatch(t *testing.T) {
	cases := []struct {
		name                     string
		ops                      string
		display, ext             string
		replace, add, remove     []string
		replaceAll, replaceEmpty bool
		err                      string
	}{
		{name: "okta rename with id", ops: `[{"op":"replace","value":{"id":"G1","displayName":"New"}}]`, display: "New"},
		{name: "entra rename", ops: `[{"op":"Replace","path":"displayName","value":"New"}]`, display: "New"},
		{name: "add members", ops: `[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u2","display":"x"}]}]`, add: []string{"u1", "u2"}},
		{name: "okta remove by filter", ops: `[{"op":"remove","path":"members[value eq \"u1\"]"}]`, remove: []string{"u1"}},
		{name: "remove by filter with or", ops: `[{"op":"remove","path":"members[value eq \"u1\" or value eq \"u2\"]"}]`, remove: []string{"u1", "u2"}},
		{name: "entra remove by list", ops: `[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}]`, remove: []string{"u1"}},
		{name: "add then remove cancels", ops: `[{"op":"add","path":"members","value":[{"value":"u1"}]},{"op":"remove","path":"members","value":[{"value":"u1"}]}]`, remove: []string{"u1"}},
		{name: "replace members", ops: `[{"op":"replace","path":"members","value":[{"value":"u3"}]},{"op":"add","path":"members","value":[{"value":"u4"}]}]`,
			replace: []string{"u3"}, add: []string{"u4"}, replaceAll: true},
		{name: "path-less members replace", ops: `[{"op":"replace","value":{"members":[{"value":"u3"}],"externalId":"e"}}]`,
			replace: []string{"u3"}, ext: "e", replaceAll: true},
		{name: "remove all", ops: `[{"op":"remove","path":"members"}]`, replaceAll: true, replaceEmpty: true},
		{name: "externalId remove", ops: `[{"op":"remove","path":"externalId"}]`, ext: "<empty>"},
		{name: "remove displayName", ops: `[{"op":"remove","path":"displayName"}]`, err: "mutability"},
		{name: "member filter other than value eq", ops: `[{"op":"remove","path":"members[display eq \"x\"]"}]`, err: "invalidFilter"},
		{name: "add to filtered path", ops: `[{"op":"add","path":"members[value eq \"u1\"]","value":{"value":"u1"}}]`, err: "invalidPath"},
		{name: "nested group", ops: `[{"op":"add","path":"members","value":[{"value":"g2","type":"Group"}]}]`, err: "invalidValue"},
		{name: "member without value", ops: `[{"op":"add","path":"members","value":[{"display":"x"}]}]`, err: "invalidValue"},
		{name: "unknown attribute", ops: `[{"op":"add","path":"owner","value":"x"}]`, err: "invalidPath"},
		{name: "sub-attribute of members", ops: `[{"op":"replace","path":"members.display","value":"x"}]`, err: "invalidPath"},
		{name: "displayName wrong type", ops: `[{"op":"replace","path":"displayName","value":7}]`, err: "invalidValue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			names, paths, values, err := decodeOps(t, c.ops)
			if err != nil {
				t.Fatal(err)
			}
			g := &groupChange{add: map[string]bool{}, remove: map[string]bool{}}
			for i := range names {
				if err = g.apply(names[i], paths[i], values[i]); err != nil {
					break
				}
			}
			if c.err != "" {
				if err == nil || string(errorFor(err).ScimType) != c.err {
					t.Fatalf("err = %v; want %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.display != "" && (g.displayName == nil || *g.displayName != c.display) {
				t.Fatalf("displayName = %v", g.displayName)
			}
			if c.ext == "<empty>" && (g.externalID == nil || *g.externalID != "") || c.ext != "" && c.ext != "<empty>" && *g.externalID != c.ext {
				t.Fatalf("externalId = %v", g.externalID)
			}
			if (g.replace != nil) != c.replaceAll || !slices.Equal(g.replace, c.replace) && !(c.replaceEmpty && len(g.replace) == 0) {
				t.Fatalf("replace = %v (nil %v)", g.replace, g.replace == nil)
			}
			if !slices.Equal(mapKeys(g.add), sorted(c.add)) || !slices.Equal(mapKeys(g.remove), sorted(c.remove)) {
				t.Fatalf("add %v remove %v; want %v %v", mapKeys(g.add), mapKeys(g.remove), c.add, c.remove)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return out
}
