package scim_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// attrRow is one stored attribute, with values to write and a filter
// that finds the user holding value.
type attrRow struct {
	path   string // as a PATCH path: "name.givenName", "urn:…:employeeNumber"
	value  any    // written by POST and PATCH add; read back exactly
	other  any    // written by PATCH replace
	filter string // finds the user after the POST
	// required attributes cannot be removed; the PATCH remove step is
	// skipped for them.
	required bool
}

// attrRows has one row per attribute Roster stores (TestSchemasCoverAttrRows
// checks that /Schemas lists no other). Values carry case, Unicode and
// several items, which must come back exactly as sent.
func attrRows(mgr, mgr2 string) []attrRow {
	ent := enterpriseURN + ":"
	cus := customURN + ":"
	return []attrRow{
		{path: "userName", value: "Zoë.Ünal@Example.COM", other: "zoe@example.com", filter: `userName eq "zoë.ünal@example.com"`, required: true},
		{path: "externalId", value: "Ext-ÅB-1", other: "ext-2", filter: `externalId eq "Ext-ÅB-1"`},
		{path: "name.formatted", value: "Dr. Zoë Ünal III", other: "Zoë Ünal", filter: `name.formatted eq "dr. zoë ünal iii"`},
		{path: "name.familyName", value: "Ünal", other: "Unal", filter: `name.familyName eq "ÜNAL"`},
		{path: "name.givenName", value: "Zoë", other: "Zoe", filter: `name.givenName eq "zoë"`},
		{path: "name.middleName", value: "Marie-Ève", other: "M", filter: `name.middleName co "ève"`},
		{path: "name.honorificPrefix", value: "Dr.", other: "Ms.", filter: `name.honorificPrefix eq "dr."`},
		{path: "name.honorificSuffix", value: "III", other: "Jr.", filter: `name.honorificSuffix eq "iii"`},
		{path: "displayName", value: "Zoë Ünal (李)", other: "Zoe", filter: `displayName ew "(李)"`},
		{path: "nickName", value: "Zo", other: "Z", filter: `nickName eq "zo"`},
		{path: "profileUrl", value: "https://example.com/~Zoe", other: "https://example.com/z", filter: `profileUrl eq "https://example.com/~Zoe"`},
		{path: "title", value: "Ingénieure Principale", other: "Lead", filter: `title eq "ingénieure principale"`},
		{path: "userType", value: "Employee", other: "Contractor", filter: `userType eq "employee"`},
		{path: "preferredLanguage", value: "fr-CA, fr;q=0.9", other: "en", filter: `preferredLanguage sw "fr"`},
		{path: "locale", value: "fr-CA", other: "en-US", filter: `locale eq "fr-ca"`},
		{path: "timezone", value: "America/Montreal", other: "Europe/Paris", filter: `timezone eq "America/Montreal"`},
		{path: "emails",
			value:  []any{map[string]any{"value": "Zoe.Emails@Example.com", "type": "work", "primary": true}, map[string]any{"value": "zoe@home.example", "type": "home", "display": "Home"}},
			other:  []any{map[string]any{"value": "z@example.com", "type": "Work"}},
			filter: `emails[type eq "home" and display eq "home"].value eq "ZOE@home.example"`},
		{path: "phoneNumbers",
			value:  []any{map[string]any{"value": "+1 (514) 555-0100", "type": "mobile"}, map[string]any{"value": "+1 514 555 0101", "type": "work", "primary": true, "display": "Desk"}},
			other:  []any{map[string]any{"value": "555", "type": "pager"}},
			filter: `phoneNumbers[type eq "work"].value eq "+1 514 555 0101"`},
		{path: "addresses",
			value: []any{map[string]any{"type": "work", "formatted": "1 Rue Ste-Catherine\nMontréal", "streetAddress": "1 Rue Ste-Catherine",
				"locality": "Montréal", "region": "QC", "postalCode": "H2X 1Z4", "country": "CA", "primary": true},
				map[string]any{"type": "home", "locality": "Laval"}},
			other:  []any{map[string]any{"type": "other", "country": "FR"}},
			filter: `addresses[type eq "work" and postalCode eq "h2x 1z4"]`},
		{path: ent + "employeeNumber", value: "E-00042", other: "7", filter: ent + `employeeNumber eq "e-00042"`},
		{path: ent + "costCenter", value: "CC-Ω", other: "CC-2", filter: ent + `costCenter eq "CC-Ω"`},
		{path: ent + "organization", value: "Contoso Ltée", other: "Contoso", filter: ent + `organization sw "contoso l"`},
		{path: ent + "division", value: "Cloud & AI", other: "Cloud", filter: ent + `division eq "Cloud & AI"`},
		{path: ent + "department", value: "R&D", other: "Sales", filter: ent + `department eq "r&d"`},
		{path: ent + "manager", value: map[string]any{"value": mgr}, other: map[string]any{"value": mgr2}, filter: ent + `manager.value eq "` + mgr + `"`},
		{path: cus + "badge", value: "B-Ø1", other: "B-2", filter: cus + `badge eq "B-Ø1"`},
		{path: cus + "level", value: json.Number("42"), other: json.Number("-3"), filter: cus + `level eq 42`},
		{path: cus + "remote", value: true, other: false, filter: cus + `remote eq true`},
		{path: cus + "score", value: json.Number("2.5"), other: json.Number("10"), filter: cus + `score eq 2.50`},
		{path: cus + "startDate", value: "2026-01-02T03:04:05Z", other: "2025-12-31T23:59:59.5Z", filter: cus + `startDate eq "2026-01-02T04:04:05+01:00"`},
	}
}

// at reads the attribute path p from a User resource.
func at(body map[string]any, p string) any {
	var v any = body
	if i := strings.LastIndex(p, ":"); i >= 0 {
		v, p = body[p[:i]], p[i+1:]
	}
	return dig(v, p)
}

// set writes the attribute path p into a User resource.
func set(body map[string]any, p string, value any) {
	m := body
	if i := strings.LastIndex(p, ":"); i >= 0 {
		ext, _ := body[p[:i]].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			body[p[:i]] = ext
		}
		m, p = ext, p[i+1:]
	}
	if a, sub, ok := strings.Cut(p, "."); ok {
		n, _ := m[a].(map[string]any)
		if n == nil {
			n = map[string]any{}
			m[a] = n
		}
		m, p = n, sub
	}
	m[p] = value
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestEveryAttributeRoundTrips: for each stored attribute, POST → GET
// returns it exactly as sent, a filter finds the user by it, and PATCH
// replace, remove and add change exactly it.
func TestEveryAttributeRoundTrips(t *testing.T) {
	e := newEnv(t, withCustom)
	mgr, mgr2 := e.createUser("boss@acme.test"), e.createUser("boss2@acme.test")
	for i, row := range attrRows(mgr, mgr2) {
		t.Run(row.path, func(t *testing.T) {
			body := map[string]any{
				"schemas":  []any{"urn:ietf:params:scim:schemas:core:2.0:User", enterpriseURN, customURN},
				"userName": fmt.Sprintf("user%d@acme.test", i),
			}
			set(body, row.path, row.value)
			r := e.do("POST", "/Users", body).want(t, 201)
			id := r.str("id")
			check := func(what string, r resp, want any) {
				t.Helper()
				got := at(r.body, row.path)
				if strings.HasSuffix(row.path, ":manager") && want != nil {
					// manager.$ref is derived from its value.
					got, want = dig(got, "value"), dig(want, "value")
				}
				if jsonOf(got) != jsonOf(want) {
					t.Fatalf("%s: %s = %s, want %s\n%s", what, row.path, jsonOf(got), jsonOf(want), r.raw)
				}
			}
			check("POST response", r, row.value)
			check("GET", e.do("GET", "/Users/"+id, nil).want(t, 200), row.value)
			f := e.do("GET", "/Users?filter="+q(row.filter), nil).want(t, 200)
			if f.body["totalResults"] != 1.0 || f.str("Resources.0.id") != id {
				t.Fatalf("filter %s: %s", row.filter, f.raw)
			}
			r = e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": row.path, "value": row.other})).want(t, 200)
			check("PATCH replace", r, row.other)
			check("GET after replace", e.do("GET", "/Users/"+id, nil).want(t, 200), row.other)
			if f := e.do("GET", "/Users?filter="+q(row.filter), nil).want(t, 200); f.body["totalResults"] != 0.0 {
				t.Fatalf("filter %s still finds the user after replace: %s", row.filter, f.raw)
			}
			if row.required {
				e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "remove", "path": row.path})).want(t, 400)
				return
			}
			r = e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "remove", "path": row.path})).want(t, 200)
			check("PATCH remove", r, nil)
			r = e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Add", "path": row.path, "value": row.value})).want(t, 200)
			check("PATCH add", r, row.value)
			// The same through a path-less value keyed by the path.
			r = e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "value": map[string]any{row.path: row.other}})).want(t, 200)
			check("path-less PATCH", r, row.other)
			// And a PUT of what GET returned changes nothing.
			g := e.do("GET", "/Users/"+id, nil).want(t, 200)
			v := g.str("meta.version")
			delete(g.body, "meta")
			r = e.do("PUT", "/Users/"+id, g.body).want(t, 200)
			if r.str("meta.version") != v {
				t.Fatalf("PUT of the GET changed the version %s → %s", v, r.str("meta.version"))
			}
		})
	}
}

// TestSchemasCoverAttrRows: every writable attribute /Schemas lists has a
// row in attrRows, so that a new attribute is tested when it is added.
func TestSchemasCoverAttrRows(t *testing.T) {
	e := newEnv(t, withCustom)
	rows := attrRows("m1", "m2")
	covered := func(p string) bool {
		return slices.ContainsFunc(rows, func(r attrRow) bool { return strings.EqualFold(r.path, p) })
	}
	r := e.do("GET", "/Schemas", nil).want(t, 200)
	res, _ := r.body["Resources"].([]any)
	n := 0
	for _, s := range res {
		id := dig(s, "id").(string)
		if id == "urn:ietf:params:scim:schemas:core:2.0:Group" {
			continue
		}
		prefix := ""
		if id != "urn:ietf:params:scim:schemas:core:2.0:User" {
			prefix = id + ":"
		}
		attrs, _ := dig(s, "attributes").([]any)
		for _, a := range attrs {
			name := dig(a, "name").(string)
			if dig(a, "mutability") != "readWrite" || name == "active" || name == "roles" {
				continue // read-only, write-only, or tested on their own
			}
			subs, _ := dig(a, "subAttributes").([]any)
			if dig(a, "type") == "complex" && dig(a, "multiValued") == false && name != "manager" {
				for _, sa := range subs {
					p := prefix + name + "." + dig(sa, "name").(string)
					if !covered(p) {
						t.Errorf("%s is listed in /Schemas but has no row in attrRows", p)
					}
					n++
				}
				continue
			}
			if !covered(prefix + name) {
				t.Errorf("%s is listed in /Schemas but has no row in attrRows", prefix+name)
			}
			n++
		}
	}
	if n+1 != len(rows) { // externalId is a common attribute, not listed (RFC 7643 §3.1)
		t.Errorf("/Schemas lists %d writable attributes, attrRows has %d rows besides externalId", n, len(rows)-1)
	}
}
