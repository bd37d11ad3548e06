package scim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

const userSchemas = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","` + customURN + `"]`

// TestBadProfileInput: a value of the wrong type, a multi-valued item
// without a value, two primaries, an unknown sub-attribute, an over-long
// value, an attribute Roster does not store — each is a 400 whose detail
// names the attribute, on POST, PUT and PATCH, and nothing is written.
func TestBadProfileInput(t *testing.T) {
	e := newEnv(t, withCustom)
	id := e.createUser("ann@acme.test")
	long := strings.Repeat("x", 5000)
	cases := []struct {
		name  string
		attrs string // attributes of a POST/PUT body, after userName
		patch string // the same as PATCH operations
		names string // what the detail must name
	}{
		{"wrong type", `"title":42`, `{"op":"replace","path":"title","value":42}`, "title"},
		{"wrong type of a sub-attribute", `"name":{"givenName":true}`, `{"op":"replace","path":"name.givenName","value":true}`, "name.givenName"},
		{"wrong type in an item", `"emails":[{"value":7}]`, `{"op":"add","path":"emails","value":[{"value":7}]}`, "emails.value"},
		{"primary not a boolean", `"emails":[{"value":"a@acme.test","primary":"sometimes"}]`,
			`{"op":"add","path":"emails","value":[{"value":"a@acme.test","primary":"sometimes"}]}`, "emails.primary"},
		{"item without a value", `"phoneNumbers":[{"type":"mobile"}]`, `{"op":"add","path":"phoneNumbers","value":[{"type":"mobile"}]}`, "phoneNumbers (item 1)"},
		{"address without a part", `"addresses":[{"type":"work"}]`, `{"op":"add","path":"addresses","value":[{"type":"work"}]}`, "addresses (item 1)"},
		{"two primaries", `"emails":[{"value":"a@acme.test","primary":true},{"value":"b@acme.test","primary":true}]`,
			`{"op":"replace","path":"emails","value":[{"value":"a@acme.test","primary":true},{"value":"b@acme.test","primary":true}]}`, "emails"},
		{"unknown sub-attribute", `"emails":[{"value":"a@acme.test","label":"x"}]`, `{"op":"add","path":"emails","value":[{"value":"a@acme.test","label":"x"}]}`, `"label" is not a sub-attribute of emails`},
		{"unknown name part", `"name":{"nick":"x"}`, `{"op":"replace","path":"name","value":{"nick":"x"}}`, `"nick" is not a sub-attribute of name`},
		{"over-long value", `"displayName":"` + long + `"`, `{"op":"replace","path":"displayName","value":"` + long + `"}`, "displayName"},
		{"over-long sub-attribute", `"addresses":[{"locality":"` + long + `"}]`, `{"op":"add","path":"addresses[type eq \"work\"].locality","value":"` + long + `"}`, "addresses.locality (item 1)"},
		{"over-long enterprise value", `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"` + long + `"}`,
			`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"` + long + `"}`,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"},
		{"over-long custom value", `"` + customURN + `":{"badge":"` + long + `"}`, `{"op":"add","path":"` + customURN + `:badge","value":"` + long + `"}`, customURN + ":badge"},
		{"custom value of the wrong type", `"` + customURN + `":{"level":"high"}`, `{"op":"add","path":"` + customURN + `:level","value":"high"}`, customURN + ":level"},
		{"custom attribute not declared", `"` + customURN + `":{"shoeSize":"9"}`, `{"op":"add","path":"` + customURN + `:shoeSize","value":"9"}`, "shoeSize"},
		{"not an email", `"emails":[{"value":"not-an-address","type":"work"}]`, `{"op":"replace","path":"emails[type eq \"work\"].value","value":"not-an-address"}`, "emails.value (item 1)"},
		{"ims not stored", `"ims":[{"value":"ann","type":"xmpp"}]`, `{"op":"add","path":"ims","value":[{"value":"ann","type":"xmpp"}]}`, "ims is not stored by Roster"},
		{"photos not stored", `"photos":[{"value":"https://x/p.png"}]`, `{"op":"add","value":{"photos":[{"value":"https://x/p.png"}]}}`, "photos is not stored by Roster"},
		{"entitlements not stored", `"entitlements":[{"value":"x"}]`, `{"op":"add","path":"entitlements","value":[{"value":"x"}]}`, "entitlements is not stored by Roster"},
		{"x509Certificates not stored", `"x509Certificates":[{"value":"MIIB"}]`, `{"op":"add","path":"x509Certificates","value":[{"value":"MIIB"}]}`, "x509Certificates is not stored by Roster"},
		{"unknown attribute", `"shoeSize":"9"`, `{"op":"add","path":"shoeSize","value":"9"}`, "shoeSize"},
		{"unknown enterprise attribute", `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"badge":"9"}`,
			`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge","value":"9"}`, "badge"},
		{"roles another role", `"roles":[{"value":"admin","primary":true}]`, `{"op":"replace","path":"roles","value":[{"value":"admin"}]}`, "group-to-role mappings"},
		{"unknown extension schema", `"urn:ietf:params:scim:schemas:extension:custom:2.0:User":{"worksiteId":"180"}`,
			`{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:custom:2.0:User":{"worksiteId":"180"}}}`,
			`"urn:ietf:params:scim:schemas:extension:custom:2.0:User" is not a schema`},
		{"manager not an id", `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":42}`,
			`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":42}`, "manager"},
	}
	before := e.auditCount()
	members := e.memberCount()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, req := range []struct{ method, path, body string }{
				{"POST", "/Users", `{` + userSchemas + `,"userName":"new@acme.test",` + c.attrs + `}`},
				{"PUT", "/Users/" + id, `{` + userSchemas + `,"userName":"ann@acme.test",` + c.attrs + `}`},
				{"PATCH", "/Users/" + id, `{` + patchSchema + `,"Operations":[{"op":"replace","path":"title","value":"changed"},` + c.patch + `]}`},
			} {
				r := e.do(req.method, req.path, req.body).want(t, 400)
				if !strings.Contains(r.str("detail"), c.names) {
					t.Errorf("%s: detail %q does not name %q", req.method, r.str("detail"), c.names)
				}
			}
		})
	}
	if after := e.auditCount(); after != before {
		t.Fatalf("bad requests wrote %d audit events", after-before)
	}
	if m := e.member(id); m.Title != "" || m.Version != 1 {
		t.Fatalf("member changed: %+v", m)
	}
	if n := e.memberCount(); n != members {
		t.Fatalf("%d members, want %d", n, members)
	}
}

// TestUserWithoutEmail: a user with no email, no work email and a userName
// that is not an address is a 400 saying what to send.
func TestUserWithoutEmail(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jdoe",
		"emails":[{"value":"j@home.test","type":"home"}]}`).want(t, 400)
	if d := r.str("detail"); !strings.HasPrefix(d, "emails:") || !strings.Contains(d, "primary") {
		t.Fatalf("detail %q", d)
	}
	// The work email is the member's address when none is primary.
	r = e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jdoe",
		"emails":[{"value":"j@home.test","type":"home"},{"value":"J.Doe@Work.test","type":"work"}]}`).want(t, 201)
	if m := e.member(r.str("id")); m.Email != "J.Doe@Work.test" || m.UserName != "jdoe" {
		t.Fatalf("email %q userName %q", m.Email, m.UserName)
	}
}

// TestReactivateWithTakenUserName: one PATCH that reactivates a member and
// sets a userName another member holds is refused as a whole (409) and
// leaves the member as it was, deactivated.
func TestReactivateWithTakenUserName(t *testing.T) {
	e := newEnv(t)
	e.createUser("taken@acme.test")
	id := e.createUser("bob@acme.test", map[string]any{"active": false})
	m := e.member(id)
	if m.Status != sdk.StatusDeactivated {
		t.Fatalf("created %s", m.Status)
	}
	r := e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,"Operations":[
		{"op":"replace","path":"active","value":true},
		{"op":"replace","path":"userName","value":"TAKEN@acme.test"}]}`).want(t, 409)
	if r.str("scimType") != "uniqueness" || !strings.Contains(r.str("detail"), "userName") {
		t.Fatalf("%s", r.raw)
	}
	got := e.member(id)
	if got.Status != sdk.StatusDeactivated || got.Version != m.Version || got.UserName != "bob@acme.test" {
		t.Fatalf("member changed by a refused PATCH: %s v%d %q", got.Status, got.Version, got.UserName)
	}
	// The same through PUT.
	e.do("PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"taken@ACME.test","active":true}`).want(t, 409)
	if got := e.member(id); got.Status != sdk.StatusDeactivated || got.Version != m.Version {
		t.Fatalf("member changed by a refused PUT: %s v%d", got.Status, got.Version)
	}
}

// TestPasswordFromOkta: Okta's PUT carries its sample password of 11
// characters; it is set, and a PUT repeating it changes nothing (no new
// session epoch, no write).
func TestPasswordFromOkta(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("ann@acme.test")
	put := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@acme.test",
		"name":{"givenName":"Given","familyName":"Family"},"active":true,"password":"Secr3t!pass"}`
	e.do("PUT", "/Users/"+id, put).want(t, 200)
	if _, err := e.client.VerifyPassword(t.Context(), e.tenant.ID, "ann@acme.test", "Secr3t!pass"); err != nil {
		t.Fatalf("password not set: %v", err)
	}
	m := e.member(id)
	events := e.auditCount()
	r := e.do("PUT", "/Users/"+id, put).want(t, 200)
	if got := e.member(id); got.SessionEpoch != m.SessionEpoch || got.Version != m.Version || e.auditCount() != events {
		t.Fatalf("repeating the password: epoch %d→%d, version %d→%d", m.SessionEpoch, got.SessionEpoch, m.Version, got.Version)
	}
	if _, ok := r.body["password"]; ok {
		t.Fatal("password returned")
	}
	// Shorter than 8 characters is refused, naming the attribute.
	r = e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "password", "value": "short"})).want(t, 400)
	if !strings.HasPrefix(r.str("detail"), "password:") {
		t.Fatalf("detail %q", r.str("detail"))
	}
}

// TestReadOnlyAttributesIgnored: id, meta and groups in a request are
// ignored (RFC 7643 §2.2); roles are accepted when they repeat the role.
func TestReadOnlyAttributesIgnored(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@acme.test",
		"id":"chosen-by-client","meta":{"resourceType":"User","version":"W/\"99\""},"groups":[{"value":"g1"}],
		"roles":[{"value":"standard","primary":true}]}`).want(t, 201)
	id := r.str("id")
	if id == "chosen-by-client" || r.str("meta.version") != `W/"1"` || r.body["groups"] != nil {
		t.Fatalf("read-only attributes were taken: %s", r.raw)
	}
	e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,"Operations":[{"op":"add","path":"groups","value":[{"value":"g1"}]},
		{"op":"replace","path":"meta.version","value":"x"},{"op":"replace","path":"id","value":"y"}]}`).want(t, 200)
	if m := e.member(id); m.Version != 1 {
		t.Fatalf("read-only PATCH wrote version %d", m.Version)
	}
}

// TestCustomExtension: a tenant's custom attributes are served under its
// extension schema, typed as declared, listed in /Schemas and
// /ResourceTypes, and absent from tenants that declare none.
func TestCustomExtension(t *testing.T) {
	e := newEnv(t, withCustom)
	r := e.do("POST", "/Users", `{`+userSchemas+`,"userName":"ann@acme.test",
		"`+customURN+`":{"badge":"B-7","level":12,"remote":"True","score":0.50,"startDate":"2026-01-02T04:04:05+01:00"}}`).want(t, 201)
	golden(t, "custom_extension_create", r)
	m := e.member(r.str("id"))
	if fmt.Sprint(m.Custom) != "map[badge:B-7 level:12 remote:true score:0.5 startDate:2026-01-02T03:04:05Z]" {
		t.Fatalf("custom values %v", m.Custom)
	}
	r = e.do("GET", "/Users/"+m.ID+"?attributes="+customURN+":level,userName", nil).want(t, 200)
	if len(r.body) != 4 || dig(r.body[customURN], "level") != 12.0 {
		t.Fatalf("projection of a custom attribute: %s", r.raw)
	}
	r = e.do("GET", "/Users/"+m.ID+"?excludedAttributes="+customURN, nil).want(t, 200)
	if r.body[customURN] != nil {
		t.Fatalf("excluding the extension: %s", r.raw)
	}
	r = e.do("GET", "/Schemas", nil).want(t, 200)
	golden(t, "schemas_with_custom", r)
	e.do("GET", "/Schemas/"+customURN, nil).want(t, 200)
	r = e.do("GET", "/ResourceTypes/User", nil).want(t, 200)
	golden(t, "resource_type_user_with_custom", r)

	plain := newEnv(t)
	r = plain.do("GET", "/Schemas", nil).want(t, 200)
	if r.body["totalResults"] != 3.0 {
		t.Fatalf("a tenant without custom attributes lists %v schemas", r.body["totalResults"])
	}
	plain.do("GET", "/Schemas/"+customURN, nil).want(t, 404)
	plain.do("POST", "/Users", `{`+userSchemas+`,"userName":"ann@acme.test"}`).want(t, 400)
	r = plain.do("GET", "/ResourceTypes", nil).want(t, 200)
	golden(t, "resource_types", r)
}
