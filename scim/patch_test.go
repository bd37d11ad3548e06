package scim

import (
	"bytes"
	"encoding/json"
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

func TestUserPatch(t *testing.T) {
	base := &sdk.Member{ID: "M1", Email: "ann@x.test", EmailKey: "ann@x.test", GivenName: "Ann", FamilyName: "Lee",
		DisplayName: "Ann Lee", Title: "Dev", Department: "R&D", ManagerID: "M0", ExternalID: "e1", Status: sdk.StatusActive}
	type want struct {
		email, given, family, display, title, dept, mgr, ext string
		active                                               bool
		password                                             string
	}
	def := want{"ann@x.test", "Ann", "Lee", "Ann Lee", "Dev", "R&D", "M0", "e1", true, ""}
	with := func(f func(*want)) want { w := def; f(&w); return w }
	cases := []struct {
		name string
		ops  string
		want want
		err  string // scimType when the patch is refused
	}{
		{"replace active false", `[{"op":"replace","path":"active","value":false}]`, with(func(w *want) { w.active = false }), ""},
		{"string boolean", `[{"op":"Replace","path":"active","value":"False"}]`, with(func(w *want) { w.active = false }), ""},
		{"okta path-less active", `[{"op":"replace","value":{"active":false}}]`, with(func(w *want) { w.active = false }), ""},
		{"path-less dotted", `[{"op":"replace","value":{"name.givenName":"Bo","name.familyName":"Bay"}}]`,
			with(func(w *want) { w.given, w.family = "Bo", "Bay" }), ""},
		{"path-less urn keys", `[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Ops","urn:ietf:params:scim:schemas:core:2.0:User:title":"Lead"}}]`,
			with(func(w *want) { w.dept, w.title = "Ops", "Lead" }), ""},
		{"path-less extension object", `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops","manager":{"value":"M9"}}}}]`,
			with(func(w *want) { w.dept, w.mgr = "Ops", "M9" }), ""},
		{"name merge", `[{"op":"replace","path":"name","value":{"givenName":"Bo"}}]`, with(func(w *want) { w.given = "Bo" }), ""},
		{"name remove", `[{"op":"remove","path":"name"}]`, with(func(w *want) { w.given, w.family = "", "" }), ""},
		{"remove title", `[{"op":"remove","path":"title"}]`, with(func(w *want) { w.title = "" }), ""},
		{"manager bare id", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"M5"}]`,
			with(func(w *want) { w.mgr = "M5" }), ""},
		{"manager value path", `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"M6"}]`,
			with(func(w *want) { w.mgr = "M6" }), ""},
		{"manager remove", `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
			with(func(w *want) { w.mgr = "" }), ""},
		{"whole extension", `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"X"}}]`,
			with(func(w *want) { w.dept = "X" }), ""},
		{"userName", `[{"op":"replace","path":"userName","value":"bo@x.test"}]`, with(func(w *want) { w.email = "bo@x.test" }), ""},
		{"work email value", `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@x.test"}]`,
			with(func(w *want) { w.email = "new@x.test" }), ""},
		{"work email created when missing", `[{"op":"remove","path":"emails"},{"op":"add","path":"emails[type eq \"work\"].value","value":"made@x.test"}]`,
			with(func(w *want) { w.email = "made@x.test" }), ""},
		{"home email does not replace work", `[{"op":"add","path":"emails[type eq \"home\"].value","value":"home@x.test"}]`, def, ""},
		{"primary moves", `[{"op":"add","path":"emails","value":[{"value":"p@x.test","type":"other","primary":"true"}]}]`,
			with(func(w *want) { w.email = "p@x.test" }), ""},
		{"emails replace", `[{"op":"replace","path":"emails","value":[{"value":"r@x.test","type":"work"}]}]`,
			with(func(w *want) { w.email = "r@x.test" }), ""},
		{"userName wins over emails", `[{"op":"replace","path":"emails","value":[{"value":"r@x.test","primary":true}]},{"op":"replace","path":"userName","value":"u@x.test"}]`,
			with(func(w *want) { w.email = "u@x.test" }), ""},
		{"emails with or filter removes", `[{"op":"remove","path":"emails[type eq \"work\" or type eq \"home\"]"}]`, def, ""},
		{"password", `[{"op":"replace","path":"password","value":"s3cret-Pass"}]`, with(func(w *want) { w.password = "s3cret-Pass" }), ""},
		{"ignored attributes", `[{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1"},{"op":"replace","path":"locale","value":"en"},{"op":"add","value":{"nickName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"}}]`, def, ""},
		{"readOnly ignored", `[{"op":"replace","value":{"id":"other","meta":{"version":"x"},"groups":[]}}]`, def, ""},
		{"ops apply in order", `[{"op":"replace","path":"title","value":"A"},{"op":"remove","path":"title"},{"op":"add","path":"title","value":"B"}]`,
			with(func(w *want) { w.title = "B" }), ""},
		// Refused.
		{"unknown op", `[{"op":"merge","path":"title","value":"x"}]`, def, "invalidSyntax"},
		{"remove userName", `[{"op":"remove","path":"userName"}]`, def, "mutability"},
		{"remove without path", `[{"op":"remove"}]`, def, "noTarget"},
		{"path-less scalar", `[{"op":"replace","value":"x"}]`, def, "invalidValue"},
		{"unknown attribute", `[{"op":"replace","path":"shoeSize","value":"42"}]`, def, "invalidPath"},
		{"unknown schema", `[{"op":"replace","path":"urn:example:x:User:a","value":"42"}]`, def, "invalidPath"},
		{"filter on non-email", `[{"op":"replace","path":"name[givenName eq \"x\"].familyName","value":"y"}]`, def, "invalidPath"},
		{"wrong type", `[{"op":"replace","path":"title","value":42}]`, def, "invalidValue"},
		{"active not boolean", `[{"op":"replace","path":"active","value":"maybe"}]`, def, "invalidValue"},
		{"uncreatable filter", `[{"op":"replace","path":"emails[type ne \"work\"].value","value":"x@y"}]`, def, "noTarget"},
		{"bad email filter attribute", `[{"op":"replace","path":"emails[foo eq \"x\"].value","value":"x@y"}]`, def, "invalidFilter"},
		{"manager wrong type", `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":42}]`, def, "invalidValue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			names, paths, values, err := decodeOps(t, c.ops)
			if err != nil {
				t.Fatal(err)
			}
			d := docFromMember(base)
			for i := range names {
				if err = d.apply(names[i], paths[i], values[i]); err != nil {
					break
				}
			}
			if err == nil {
				err = d.check()
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
			pw := ""
			if d.password != nil {
				pw = *d.password
			}
			got := want{d.email(base), d.givenName, d.familyName, d.displayName, d.title, d.department, d.managerID, d.externalID, d.active, pw}
			if got != c.want {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
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

func TestNormalizeBody(t *testing.T) {
	cases := []struct{ path, method, in, want string }{
		{"/Users/1", "PATCH", `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, `{"Operations":[{"op":"Replace","path":"active","value":false}]}`},
		{"/Users/1", "PATCH", `{"Operations":[{"op":"add","path":"manager","value":"m1"}]}`,
			`{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m1"}}]}`},
		{"/Users/1", "PATCH", `{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"m1","emails[type eq \"work\"].primary":"TRUE"}}]}`,
			`{"Operations":[{"op":"add","value":{"emails[type eq \"work\"].primary":true,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":{"value":"m1"}}}]}`},
		{"/Users", "POST", `{"active":"true","emails":[{"value":"a@b","primary":"True"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m1"}}`,
			`{"active":true,"emails":[{"primary":true,"value":"a@b"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`},
		{"/Users", "POST", `{"displayName":"True"}`, `{"displayName":"True"}`},
		{"/Users", "POST", `{"userName":"a"}`, `{"userName":"a"}`},
		{"/Groups", "POST", `{"displayName":"false"}`, `{"displayName":"false"}`},
		{"/Users", "POST", `not json "true"`, `not json "true"`},
	}
	for _, c := range cases {
		got, err := normalizeBody(c.path, c.method, []byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(got, []byte(c.want)) {
			t.Errorf("normalize(%s) = %s; want %s", c.in, got, c.want)
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}
