package scim_test

import "testing"

func TestSmoke(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("Bob@Example.com", map[string]any{"externalId": "ext1", "emails": []any{map[string]any{"value": "bob@example.com", "type": "work", "primary": "True"}}})
	r := e.do("GET", "/Users/"+id, nil).want(t, 200)
	t.Logf("%s", r.raw)
	r = e.do("GET", `/Users?filter=userName+eq+"bob@EXAMPLE.com"`, nil).want(t, 200)
	t.Logf("%s", r.raw)
	r = e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Replace", "path": "active", "value": "False"})).want(t, 200)
	t.Logf("%s", r.raw)
	g := e.createGroup("Eng", id)
	r = e.do("GET", "/Groups/"+g, nil).want(t, 200)
	t.Logf("%s", r.raw)
	r = e.do("GET", "/Groups", nil).want(t, 200)
	t.Logf("%s", r.raw)
	r = e.do("PATCH", "/Groups/"+g, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`})).want(t, 204)
	r = e.do("GET", "/ServiceProviderConfig", nil).want(t, 200)
	r = e.do("GET", "/Schemas", nil).want(t, 200)
	r = e.do("PUT", "/Users", nil).want(t, 405)
	t.Logf("%s %v", r.raw, r.header)
	r = e.doAs("bad", "GET", "/Users", nil).want(t, 401)
	t.Logf("%s", e.logs)
}
