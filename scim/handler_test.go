package scim_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	other, _, err := e.client.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "other", OwnerEmail: "o@other.test", IncludedSeats: 5})
	if err != nil {
		t.Fatal(err)
	}
	otherTok, _, err := e.client.CreateToken(t.Context(), sdk.SystemActor(), other.ID, "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, path string
	}{
		{"no token", "", "/Users"},
		{"wrong token", "rst_wrong", "/Users"},
		{"another tenant's token", otherTok, "/Users"},
		{"unknown tenant", e.token, e.srv.URL + "/scim/v2/nope/Users"},
		{"invalid slug", e.token, e.srv.URL + "/scim/v2/NOT_A_SLUG/Users"},
		{"discovery needs a token too", "", "/ServiceProviderConfig"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.doAs(c.token, "GET", c.path, nil).want(t, 401)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	r := e.doAs(e.token, "GET", "/Users", nil, "Authorization", "Basic "+e.token).want(t, 401)
	_ = r
	e.doAs("", "GET", "/Users", nil, "Authorization", "bearer "+e.token).want(t, 200) // scheme is case-insensitive
	e.doAs(otherTok, "GET", e.srv.URL+"/scim/v2/other/Users", nil).want(t, 200)
}

func TestRevokedTokenStopsWorkingAfterCacheTTL(t *testing.T) {
	e := newEnv(t)
	toks, _ := e.client.ListTokens(t.Context(), sdk.SystemActor(), e.tenant.ID)
	e.do("GET", "/Users", nil).want(t, 200)
	if err := e.client.RevokeToken(t.Context(), sdk.SystemActor(), e.tenant.ID, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/Users", nil).want(t, 200) // cached for up to 10 s
	e.clock.Advance(11 * time.Second)
	e.do("GET", "/Users", nil).want(t, 401)
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(o *envOpt) { o.handler = []scim.Option{scim.WithRateLimit(2, 3)} })
	for range 3 {
		e.do("GET", "/Users", nil).want(t, 200)
	}
	r := e.do("GET", "/Users", nil).want(t, 429)
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	e.clock.Advance(500 * time.Millisecond)
	e.do("GET", "/Users", nil).want(t, 200)
	e.do("GET", "/Users", nil).want(t, 429)
}

func TestBodyCap(t *testing.T) {
	e := newEnv(t, func(o *envOpt) { o.handler = []scim.Option{scim.WithMaxBodyBytes(1024)} })
	big := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@b.test","displayName":"` + strings.Repeat("x", 2000) + `"}`
	e.do("POST", "/Users", big).want(t, 413)
	e.do("PATCH", "/Users/x", big).want(t, 413)
	if n := e.memberCount(); n != 1 {
		t.Fatalf("%d members after refused requests", n)
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t)
	r := e.do("DELETE", "/Users", nil).want(t, 405)
	if r.header.Get("Allow") != "GET, POST" {
		t.Fatalf("Allow = %q", r.header.Get("Allow"))
	}
	e.do("POST", "/Users/abc", "{}").want(t, 405)
	e.do("GET", "/Users/.search", nil).want(t, 405)
	e.do("GET", "/Nothing", nil).want(t, 404)
	e.do("GET", "/Users/nope", nil).want(t, 404)
	e.do("GET", "/Groups/nope", nil).want(t, 404)
	e.do("PATCH", "/Groups/nope", patchOp(map[string]any{"op": "add", "path": "members", "value": []any{}})).want(t, 404)
	e.do("DELETE", "/Users/nope", nil).want(t, 404)
	e.do("POST", "/Bulk", `{}`).want(t, 501)
	e.do("GET", "/Me", nil).want(t, 501)
	e.doAs("", "GET", e.srv.URL+"/scim/v2", nil).want(t, 404)
	r = e.do("GET", "/ServiceProviderConfig", nil).want(t, 200)
	golden(t, "service_provider_config", r)
	e.do("GET", "/ResourceTypes", nil).want(t, 200)
	e.do("GET", "/ResourceTypes/User", nil).want(t, 200)
	e.do("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", nil).want(t, 200)
	e.do("GET", "/Schemas/urn:nope", nil).want(t, 404)
}

func (e *env) memberCount() int {
	e.t.Helper()
	n, err := e.client.CountMembers(e.t.Context(), e.tenant.ID, sdk.ListMembersOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) auditCount() int {
	e.t.Helper()
	p, err := e.client.AuditLog(e.t.Context(), sdk.SystemActor(), e.tenant.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 1000}})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(p.Items)
}

// TestBadInputIsA400 sends malformed requests of every kind: each gets a 400
// with a SCIM error body, and nothing changes.
func TestBadInputIsA400(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("ann@acme.test")
	gid := e.createGroup("Eng", uid)
	long := strings.Repeat("x", 5000)
	cases := []struct {
		name, method, path, body string
	}{
		{"malformed json", "POST", "/Users", `{"schemas":`},
		{"json array", "POST", "/Users", `[1,2]`},
		{"empty body", "POST", "/Users", ``},
		{"invalid utf-8", "POST", "/Users", "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"\xff@acme.test\"}"},
		{"missing schemas", "POST", "/Users", `{"userName":"x@acme.test"}`},
		{"unknown schema", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:example:evil"],"userName":"x@acme.test"}`},
		{"group schema on a user", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"x@acme.test"}`},
		{"wrong type userName", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":42}`},
		{"wrong type active", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@acme.test","active":"perhaps"}`},
		{"wrong type name", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@acme.test","name":"Ann"}`},
		{"missing userName", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}`},
		{"userName not an email", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jdoe"}`},
		{"huge userName", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + long + `@acme.test"}`},
		{"huge displayName", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@acme.test","displayName":"` + long + `"}`},
		{"duplicate attribute", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@acme.test","USERNAME":"y@acme.test"}`},
		{"weak password", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@acme.test","password":"a"}`},
		{"put wrong type", "PUT", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":["a"]}`},
		{"patch not PatchOp", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`},
		{"patch no operations", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`},
		{"patch bad op", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"delete","path":"title"}]}`},
		{"patch bad path syntax", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title[[","value":"x"}]}`},
		{"patch unknown path", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"shoeSize","value":"x"}]}`},
		{"patch wrong value type", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":{"a":1}}]}`},
		{"patch remove userName", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"userName"}]}`},
		{"patch second op bad", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"changed"},{"op":"replace","path":"nope","value":"x"}]}`},
		{"patch huge value", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"` + long + `"}]}`},
		{"patch long path", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"` + strings.Repeat("a.", 400) + `","value":"x"}]}`},
		{"patch long key", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"` + strings.Repeat("a", 600) + `":"x"}}]}`},
		{"patch too many ops", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Repeat(`{"op":"replace","path":"title","value":"x"},`, 1000) + `{"op":"replace","path":"title","value":"x"}]}`},
		{"filter deeply nested", "GET", "/Users?filter=" + q(strings.Repeat("(", 40)+"userName pr"+strings.Repeat(")", 40)), ""},
		{"unknown manager", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"x@acme.test","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"ghost"}}}`},
		{"patch unknown manager", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"ghost"}}]}`},
		{"patch self manager", "PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + uid + `"}]}`},
		{"group unknown member", "PATCH", "/Groups/" + gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"ghost"}]}]}`},
		{"group rename with unknown member", "PATCH", "/Groups/" + gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Renamed"},{"op":"add","path":"members","value":[{"value":"ghost"}]}]}`},
		{"group replace with unknown member", "PUT", "/Groups/" + gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[{"value":"ghost"}]}`},
		{"group create with unknown member", "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"New","members":[{"value":"ghost"}]}`},
		{"group huge member id", "PATCH", "/Groups/" + gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + long + `"}]}]}`},
		{"group members not a list", "PATCH", "/Groups/" + gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":"u1"}]}`},
		{"group missing displayName", "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}`},
		{"search bad schema", "POST", "/Users/.search", `{"schemas":["urn:nope"],"filter":"userName pr"}`},
		{"search bad json", "POST", "/Users/.search", `{"schemas":`},
		{"search count not a number", "POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":"many"}`},
		{"search bad filter", "POST", "/Groups/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"displayName eq"}`},
		{"filter syntax", "GET", "/Users?filter=" + q(`userName eq`), ""},
		{"filter unknown attribute", "GET", "/Users?filter=" + q(`shoeSize eq "9"`), ""},
		{"filter bad operator", "GET", "/Users?filter=" + q(`userName like "a"`), ""},
		{"filter invalid utf-8", "GET", "/Users?filter=userName%20eq%20%22%FF%22", ""},
		{"filter too long", "GET", "/Users?filter=" + q(`userName eq "`+strings.Repeat("a", 9000)+`"`), ""},
		{"startIndex not a number", "GET", "/Users?startIndex=x", ""},
		{"count not a number", "GET", "/Groups?count=1e3", ""},
		{"too many attributes", "GET", "/Users?attributes=" + strings.Repeat("a,", 200), ""},
	}
	before := e.auditCount()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" || c.method != "GET" {
				body = []byte(c.body)
			}
			r := e.do(c.method, c.path, body)
			if r.status != 400 {
				t.Fatalf("status %d, want 400: %s", r.status, r.raw)
			}
			checkErrorBody(t, r)
		})
	}
	if after := e.auditCount(); after != before {
		t.Fatalf("bad requests wrote %d audit events", after-before)
	}
	if m := e.member(uid); m.Title != "" || m.Version != 1 {
		t.Fatalf("member changed: %+v", m)
	}
	if ids := e.groupMembers(gid); len(ids) != 1 {
		t.Fatalf("group changed: %v", ids)
	}
	if g, _ := e.client.Group(t.Context(), e.tenant.ID, gid); g.DisplayName != "Eng" {
		t.Fatalf("group renamed: %+v", g)
	}
	if e.memberCount() != 2 {
		t.Fatalf("%d members", e.memberCount())
	}
	if strings.Contains(e.logs.String(), "level=ERROR") {
		t.Fatalf("bad input logged errors:\n%s", e.logs)
	}
}

func TestUserNameIsUniqueCaseInsensitively(t *testing.T) {
	e := newEnv(t)
	e.createUser("ann@acme.test")
	r := e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ANN@Acme.TEST"}`).want(t, 409)
	if r.str("scimType") != "uniqueness" {
		t.Fatalf("%s", r.raw)
	}
	id := e.createUser("bob@acme.test")
	e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "userName", "value": "Ann@acme.test"})).want(t, 409)
	e.createUser("ann+sales@acme.test") // a different address
}

func TestOwnerAndSeatLimitThroughSCIM(t *testing.T) {
	e := newEnv(t, func(o *envOpt) { o.seats = 2 })
	owner := e.owner.ID
	for _, c := range []struct {
		method string
		body   any
	}{
		{"PATCH", patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": false}})},
		{"PATCH", patchOp(map[string]any{"op": "replace", "path": "title", "value": "CEO"})},
		{"PUT", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"owner@acme.test","active":false}`},
		{"DELETE", nil},
	} {
		r := e.do(c.method, "/Users/"+owner, c.body).want(t, 403)
		if !strings.Contains(r.str("detail"), "transfer ownership") {
			t.Fatalf("%s owner: %s", c.method, r.raw)
		}
	}
	if m := e.member(owner); m.Status != sdk.StatusActive {
		t.Fatal("owner changed")
	}
	// A no-op PUT of the owner is fine (Okta re-pushes profiles).
	r := e.do("GET", "/Users/"+owner, nil).want(t, 200)
	delete(r.body, "meta")
	e.do("PUT", "/Users/"+owner, r.body).want(t, 200)
	if m := e.member(owner); m.Version != e.owner.Version {
		t.Fatalf("a PUT of what GET returned changed the owner: version %d", m.Version)
	}

	e.createUser("second@acme.test")
	r = e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"third@acme.test"}`).want(t, 403)
	golden(t, "seat_limit", r)
	if !strings.Contains(r.str("detail"), "seat limit is reached") {
		t.Fatalf("%s", r.raw)
	}
}

func TestETags(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("ann@acme.test")
	r := e.do("GET", "/Users/"+id, nil).want(t, 200)
	tag := r.header.Get("ETag")
	if tag != `W/"1"` || r.str("meta.version") != tag {
		t.Fatalf("ETag %q meta.version %q", tag, r.str("meta.version"))
	}
	e.do("GET", "/Users/"+id, nil, "If-None-Match", tag).want(t, 304)
	title := patchOp(map[string]any{"op": "replace", "path": "title", "value": "Dev"})
	r = e.do("PATCH", "/Users/"+id, title, "If-Match", tag).want(t, 200)
	newTag := r.header.Get("Etag")
	if newTag != `W/"2"` {
		t.Fatalf("ETag after patch %q", newTag)
	}
	e.do("PATCH", "/Users/"+id, title, "If-Match", tag).want(t, 412)
	e.do("PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@acme.test"}`, "If-Match", tag).want(t, 412)
	e.do("DELETE", "/Users/"+id, nil, "If-Match", tag).want(t, 412)
	e.do("PATCH", "/Users/"+id, title, "If-Match", `"2"`).want(t, 200) // strong form of the same version
	e.do("PATCH", "/Users/"+id, title, "If-Match", "*").want(t, 200)

	gid := e.createGroup("Eng")
	r = e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	gtag := r.header.Get("ETag")
	e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}), "If-Match", gtag).want(t, 204)
	// Membership changes move the group's version.
	e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "X"}), "If-Match", gtag).want(t, 412)
	e.do("DELETE", "/Groups/"+gid, nil, "If-Match", gtag).want(t, 412)
	r = e.do("GET", "/Groups/"+gid, nil, "If-None-Match", gtag).want(t, 200)
	e.do("DELETE", "/Groups/"+gid, nil, "If-Match", r.header.Get("ETag")).want(t, 204)
	e.do("DELETE", "/Users/"+id, nil, "If-Match", `W/"2"`).want(t, 204)

	// Deleting a member moves the version of every group it was in: an
	// identity provider holding the group's ETag sees it changed.
	uid := e.createUser("bo@acme.test", nil)
	gid = e.createGroup("Ops", uid)
	r = e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	before, beforeVersion := r.header.Get("ETag"), r.str("meta.version")
	e.do("DELETE", "/Users/"+uid, nil).want(t, 204)
	r = e.do("GET", "/Groups/"+gid, nil, "If-None-Match", before).want(t, 200)
	if r.header.Get("ETag") == before || r.str("meta.version") == beforeVersion {
		t.Fatalf("group version after its member was deleted: %s → %s", before, r.header.Get("ETag"))
	}
	if ms, _ := r.body["members"].([]any); len(ms) != 0 {
		t.Fatalf("deleted member still listed: %v", ms)
	}
}

func TestProjection(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("ann@acme.test", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"displayName": "Ann", "title": "Dev", "emails": []any{map[string]any{"value": "ann@acme.test", "type": "work", "primary": true}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "R&D"},
	})
	gid := e.createGroup("Eng", id)
	keys := func(r resp) []string {
		var k []string
		for key := range r.body {
			k = append(k, key)
		}
		slices.Sort(k)
		return k
	}
	r := e.do("GET", "/Users/"+id+"?attributes=userName,name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", nil).want(t, 200)
	if got := keys(r); !slices.Equal(got, []string{"id", "name", "schemas", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "userName"}) {
		t.Fatalf("attributes: %v", got)
	}
	if r.str("name.givenName") != "Given" || dig(r.body, "name.familyName") != nil || r.ext("department") != "R&D" {
		t.Fatalf("attributes: %s", r.raw)
	}
	r = e.do("GET", "/Users/"+id+"?excludedAttributes=emails,meta,groups,name.familyName,id", nil).want(t, 200)
	if r.body["emails"] != nil || r.body["meta"] != nil || r.body["groups"] != nil || r.str("id") != id || r.str("name.givenName") != "Given" || dig(r.body, "name.familyName") != nil {
		t.Fatalf("excludedAttributes: %s", r.raw)
	}
	r = e.do("GET", "/Users?filter="+q(`userName eq "ann@acme.test"`)+"&attributes=emails.value", nil).want(t, 200)
	if dig(r.body, "Resources.0.emails.0.value") != "ann@acme.test" || dig(r.body, "Resources.0.emails.0.type") != nil || dig(r.body, "Resources.0.userName") != nil {
		t.Fatalf("list attributes: %s", r.raw)
	}
	r = e.do("POST", "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"filter": `userName eq "ann@acme.test"`, "excludedAttributes": []string{"roles", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}}).want(t, 200)
	if dig(r.body, "Resources.0.roles") != nil || dig(r.body, "Resources.0.urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") != nil || r.body["totalResults"] != 1.0 {
		t.Fatalf(".search excludedAttributes: %s", r.raw)
	}
	r = e.do("PATCH", "/Users/"+id+"?attributes=title", patchOp(map[string]any{"op": "replace", "path": "title", "value": "Lead"})).want(t, 200)
	if r.str("title") != "Lead" || r.body["userName"] != nil {
		t.Fatalf("write response attributes: %s", r.raw)
	}
	r = e.do("GET", "/Groups/"+gid+"?attributes=displayName", nil).want(t, 200)
	if r.body["members"] != nil || r.str("displayName") != "Eng" {
		t.Fatalf("group attributes: %s", r.raw)
	}
	r = e.do("GET", "/Groups?attributes=members.value", nil).want(t, 200)
	if dig(r.body, "Resources.0.members.0.value") != id || dig(r.body, "Resources.0.displayName") != nil {
		t.Fatalf("group list attributes: %s", r.raw)
	}
}

// TestPaging walks a list the way identity providers do, checks
// totalResults and order, then jumps, and deletes between pages.
func TestPaging(t *testing.T) {
	e := newEnv(t, func(o *envOpt) { o.seats = 400 })
	var ids []string
	for i := range 250 {
		m, err := e.client.AddMember(t.Context(), sdk.SystemActor(), sdk.AddMemberRequest{TenantID: e.tenant.ID, Email: fmt.Sprintf("u%03d@acme.test", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	filter := "&filter=" + q(`userName sw "u"`)
	var got []string
	for start := 1; ; start += 30 {
		r := e.do("GET", fmt.Sprintf("/Users?startIndex=%d&count=30", start)+filter, nil).want(t, 200)
		if r.body["totalResults"] != 250.0 || r.body["startIndex"] != float64(start) {
			t.Fatalf("page at %d: total %v start %v", start, r.body["totalResults"], r.body["startIndex"])
		}
		res, _ := r.body["Resources"].([]any)
		if r.body["itemsPerPage"] != float64(len(res)) {
			t.Fatalf("itemsPerPage %v for %d resources", r.body["itemsPerPage"], len(res))
		}
		for _, x := range res {
			got = append(got, dig(x, "id").(string))
		}
		if len(res) < 30 {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("walked %d ids; want the 250 in creation order", len(got))
	}
	// A jump lands on the same item; past the end is empty.
	r := e.do("GET", "/Users?startIndex=201&count=2"+filter, nil).want(t, 200)
	if dig(r.body, "Resources.0.id") != ids[200] {
		t.Fatalf("jump to 201: %v", dig(r.body, "Resources.0.id"))
	}
	r = e.do("GET", "/Users?startIndex=1001&count=10"+filter, nil).want(t, 200)
	if res, ok := r.body["Resources"].([]any); !ok || len(res) != 0 || r.body["totalResults"] != 250.0 {
		t.Fatalf("past the end: %s", r.raw)
	}
	r = e.do("GET", "/Users?count=0"+filter, nil).want(t, 200)
	if res, _ := r.body["Resources"].([]any); len(res) != 0 || r.body["totalResults"] != 250.0 {
		t.Fatalf("count=0: %s", r.raw)
	}
	r = e.do("GET", "/Users?startIndex=-5&count=5000", nil).want(t, 200)
	if r.body["startIndex"] != 1.0 || r.body["itemsPerPage"] != 200.0 {
		t.Fatalf("clamping: start %v items %v", r.body["startIndex"], r.body["itemsPerPage"])
	}
	// Pages are by position (RFC 7644 §3.4.2.4): deleting a member before
	// the next page's position shifts that page by one.
	r = e.do("GET", "/Users?startIndex=1&count=100"+filter, nil).want(t, 200)
	e.do("DELETE", "/Users/"+ids[0], nil).want(t, 204)
	r = e.do("GET", "/Users?startIndex=101&count=100"+filter, nil).want(t, 200)
	if dig(r.body, "Resources.0.id") != ids[101] || r.body["totalResults"] != 249.0 {
		t.Fatalf("page after a delete starts at %v (total %v), want %s", dig(r.body, "Resources.0.id"), r.body["totalResults"], ids[101])
	}
	// Groups page the same way.
	for i := range 7 {
		e.createGroup(fmt.Sprintf("g%d", i))
	}
	r = e.do("GET", "/Groups?startIndex=4&count=3&excludedAttributes=members", nil).want(t, 200)
	if r.body["totalResults"] != 7.0 || dig(r.body, "Resources.0.displayName") != "g3" || r.body["itemsPerPage"] != 3.0 {
		t.Fatalf("groups page: %s", r.raw)
	}
}

// TestConcurrentCreates: 20 concurrent creates of one userName → one 201
// and nineteen 409.
func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t)
	var created, conflict atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			name := "Same@Acme.test"
			if i%2 == 1 {
				name = "same@ACME.test"
			}
			r := e.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`"}`)
			switch r.status {
			case 201:
				created.Add(1)
			case 409:
				conflict.Add(1)
			default:
				t.Errorf("status %d: %s", r.status, r.raw)
			}
		})
	}
	wg.Wait()
	if created.Load() != 1 || conflict.Load() != 19 {
		t.Fatalf("%d created, %d conflicts; want 1 and 19", created.Load(), conflict.Load())
	}
}

// TestConcurrentGroupAdds: 30 concurrent single-member adds to one group
// → 30 members.
func TestConcurrentGroupAdds(t *testing.T) {
	e := newEnv(t)
	gid := e.createGroup("Busy")
	var ids []string
	for i := range 30 {
		ids = append(ids, e.createUser(fmt.Sprintf("m%d@acme.test", i)))
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			r := e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}))
			if r.status != http.StatusNoContent {
				t.Errorf("status %d: %s", r.status, r.raw)
			}
		})
	}
	wg.Wait()
	if got := e.groupMembers(gid); len(got) != 30 {
		t.Fatalf("%d members after 30 concurrent adds", len(got))
	}
}

func TestGroupReplaceAndStreamedMembers(t *testing.T) {
	e := newEnv(t, func(o *envOpt) { o.seats = 3000 })
	var ids []string
	for i := range 2100 {
		m, err := e.client.AddMember(t.Context(), sdk.SystemActor(), sdk.AddMemberRequest{TenantID: e.tenant.ID, Email: fmt.Sprintf("u%04d@acme.test", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	members := func(list []string) []any {
		out := make([]any, len(list))
		for i, id := range list {
			out[i] = map[string]any{"value": id}
		}
		return out
	}
	r := e.do("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "All", "members": members(ids[:1500])}).want(t, 201)
	gid := r.str("id")
	// Full replacement through PUT and through PATCH replace.
	e.do("PUT", "/Groups/"+gid, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "All", "members": members(ids[600:])}).want(t, 200)
	if got := e.groupMembers(gid); len(got) != 1000 {
		t.Fatalf("%d members in the first page after PUT", len(got))
	}
	r = e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	if ms, _ := r.body["members"].([]any); len(ms) != 1500 {
		t.Fatalf("GET streamed %d members, want 1500", len(ms))
	}
	e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "replace", "path": "members", "value": members(ids[:10])})).want(t, 204)
	r = e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	if ms, _ := r.body["members"].([]any); len(ms) != 10 {
		t.Fatalf("after PATCH replace: %d members", len(ms))
	}
	e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": "members"})).want(t, 204)
	if got := e.groupMembers(gid); len(got) != 0 {
		t.Fatalf("remove all left %d", len(got))
	}
}

func TestGroupRoleMappingThroughSCIM(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("ann@acme.test")
	gid := e.createGroup("Admins")
	if _, err := e.client.SetGroupRole(t.Context(), sdk.MemberActor(e.owner.ID), e.tenant.ID, gid, "admin"); err != nil {
		t.Fatal(err)
	}
	e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}})).want(t, 204)
	r := e.do("GET", "/Users/"+id, nil).want(t, 200)
	if dig(r.body, "roles.0.value") != "admin" {
		t.Fatalf("role after joining a mapped group: %s", r.raw)
	}
	e.do("PATCH", "/Groups/"+gid, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`})).want(t, 204)
	if e.member(id).Role != "standard" {
		t.Fatal("role not recomputed on leaving")
	}
}

func TestAuditChannelIsSCIM(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("ann@acme.test")
	p, err := e.client.AuditLog(t.Context(), sdk.SystemActor(), e.tenant.ID, sdk.AuditListOptions{TargetID: id})
	if err != nil || len(p.Items) == 0 {
		t.Fatalf("audit: %v %v", p, err)
	}
	toks, _ := e.client.ListTokens(t.Context(), sdk.SystemActor(), e.tenant.ID)
	if ev := p.Items[0]; ev.Channel != "scim" || ev.ActorKind != sdk.ActorToken || ev.ActorID != toks[0].ID {
		t.Fatalf("event %+v", ev)
	}
}

func TestPasswordThroughSCIM(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("ann@acme.test", map[string]any{"password": "first-Secret-123"})
	if _, err := e.client.VerifyPassword(t.Context(), e.tenant.ID, "ann@acme.test", "first-Secret-123"); err != nil {
		t.Fatalf("password not set on create: %v", err)
	}
	epoch := e.member(id).SessionEpoch
	put := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@acme.test","password":"%s"}`
	r := e.do("PUT", "/Users/"+id, fmt.Sprintf(put, "first-Secret-123")).want(t, 200)
	if _, ok := r.body["password"]; ok || e.member(id).SessionEpoch != epoch {
		t.Fatalf("re-sending the same password logged the member out or returned it: %s", r.raw)
	}
	e.do("PUT", "/Users/"+id, fmt.Sprintf(put, "second-Secret-456")).want(t, 200)
	if _, err := e.client.VerifyPassword(t.Context(), e.tenant.ID, "ann@acme.test", "second-Secret-456"); err != nil {
		t.Fatalf("password not changed by PUT: %v", err)
	}
	if e.member(id).SessionEpoch == epoch {
		t.Fatal("a new password did not end the member's sessions")
	}
	e.do("PATCH", "/Users/"+id, patchOp(map[string]any{"op": "replace", "path": "password", "value": "short"})).want(t, 400)
}
