package integration

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
)

// The SCIM tests replay, through a 'roster serve' process on the database
// under test, the request sequences Okta's and Microsoft Entra ID's
// provisioning clients send (the scim package replays the same ones
// in-process on the in-memory store, with golden responses), and check
// the result both over SCIM and in the database.

func q(filter string) string { return url.QueryEscape(filter) }

// scimEnv is a tenant served by one roster serve process.
type scimEnv struct {
	db     database
	srv    *server
	c      *scimClient
	client *sdk.Client
	store  *mongo.Store
	tenant *sdk.Tenant
}

func newSCIMEnv(t *testing.T, slug string, seats int) *scimEnv {
	t.Helper()
	d := newDatabase(t)
	d.createTenant(t, slug, "owner@"+slug+".test", seats)
	tok := d.createToken(t, slug)
	srv := d.startServer(t)
	client, store := d.open(t)
	tn, err := client.TenantBySlug(t.Context(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return &scimEnv{db: d, srv: srv, c: newSCIMClient(srv, slug, tok), client: client, store: store, tenant: tn}
}

func (e *scimEnv) member(t *testing.T, id string) *sdk.Member {
	t.Helper()
	m, err := e.client.Member(t.Context(), e.tenant.ID, id)
	if err != nil {
		t.Fatalf("Member(%s): %v", id, err)
	}
	return m
}

func TestSCIMOktaSequence(t *testing.T) {
	e := newSCIMEnv(t, "okta", 10)
	c := e.c

	// Test connection.
	c.must(t, 200, "GET", "/Users?startIndex=1&count=2", "")
	r := c.must(t, 200, "GET", "/Groups?startIndex=1&count=100", "")
	if rs, ok := r.Body["Resources"].([]any); !ok || len(rs) != 0 {
		t.Fatalf("empty group list: Resources must be [], got %s", r.Raw)
	}

	// Create user: look the userName up, then POST.
	r = c.must(t, 200, "GET", "/Users?filter="+q(`userName eq "test.user@okta.local"`)+"&startIndex=1&count=100", "")
	if r.num("totalResults") != 0 {
		t.Fatalf("lookup before create: %s", r.Raw)
	}
	r = c.must(t, 201, "POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "test.user@okta.local",
		"name": {"givenName": "Test", "familyName": "User"},
		"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
		"displayName": "Test User",
		"locale": "en-US",
		"externalId": "00ujl29u0le5T6Aj10h7",
		"groups": [],
		"password": "1mz050nq-Secret!",
		"active": true
	}`)
	id := r.str("id")
	if id == "" || r.Header.Get("Location") != r.str("meta.location") || r.Header.Get("ETag") == "" {
		t.Fatalf("create: id %q Location %q ETag %q: %s", id, r.Header.Get("Location"), r.Header.Get("ETag"), r.Raw)
	}
	if _, ok := r.Body["password"]; ok {
		t.Fatal("password returned")
	}
	if m := e.member(t, id); m.Email != "test.user@okta.local" || m.ExternalID != "00ujl29u0le5T6Aj10h7" || m.Status != sdk.StatusActive {
		t.Fatalf("stored member: %+v", m)
	}
	// Case-insensitive lookup links instead of creating; a second create
	// of the same userName is refused.
	r = c.must(t, 200, "GET", "/Users?filter="+q(`userName eq "Test.User@OKTA.local"`)+"&startIndex=1&count=100", "")
	if r.num("totalResults") != 1 || r.str("Resources.0.id") != id {
		t.Fatalf("case-insensitive lookup: %s", r.Raw)
	}
	r = c.must(t, 409, "POST", "/Users", userJSON("TEST.USER@okta.local"))
	if r.str("scimType") != "uniqueness" {
		t.Fatalf("duplicate userName: %s", r.Raw)
	}

	// Full PUT, with id, groups and password.
	r = c.must(t, 200, "PUT", "/Users/"+id, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"id": "`+id+`",
		"userName": "test.user@okta.local",
		"name": {"givenName": "Another", "familyName": "User"},
		"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
		"displayName": "Another User",
		"externalId": "00ujl29u0le5T6Aj10h7",
		"groups": [{"value": "ignored"}],
		"password": "another-Secret-42",
		"active": true
	}`)
	if r.str("name.givenName") != "Another" {
		t.Fatalf("PUT: %s", r.Raw)
	}
	// Path-less PATCH.
	r = c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],
		"Operations": [{"op": "replace", "value": {"name.givenName": "Patched", "displayName": "Patched User"}}]}`)
	if r.str("name.givenName") != "Patched" || r.str("displayName") != "Patched User" {
		t.Fatalf("path-less patch: %s", r.Raw)
	}
	if m := e.member(t, id); m.GivenName != "Patched" || m.DisplayName != "Patched User" {
		t.Fatalf("stored after patch: %+v", m)
	}

	// Deactivate (logs out), then reactivate.
	before := e.member(t, id)
	r = c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
	if r.Body["active"] != false {
		t.Fatalf("deactivate: %s", r.Raw)
	}
	if m := e.member(t, id); m.Status != sdk.StatusDeactivated || m.SessionEpoch == before.SessionEpoch {
		t.Fatalf("deactivation did not log out: %+v", m)
	}
	c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],"Operations":[{"op":"replace","value":{"active":true}}]}`)
	if m := e.member(t, id); m.Status != sdk.StatusActive {
		t.Fatalf("reactivate: %+v", m)
	}

	// Push groups: create, find by name, rename, change membership, delete.
	other := c.must(t, 201, "POST", "/Users", userJSON("second@okta.local")).str("id")
	r = c.must(t, 201, "POST", "/Groups", `{"schemas":["`+schemaGroup+`"],"displayName":"Test SCIMv2","members":[]}`)
	gid := r.str("id")
	r = c.must(t, 200, "GET", "/Groups?filter="+q(`displayName eq "Test SCIMv2"`)+"&startIndex=1&count=100", "")
	if r.num("totalResults") != 1 {
		t.Fatalf("group lookup: %s", r.Raw)
	}
	c.must(t, 204, "PATCH", "/Groups/"+gid, `{"schemas":["`+schemaPatchOp+`"],
		"Operations":[{"op":"replace","value":{"id":"`+gid+`","displayName":"Test SCIMv2 renamed"}}]}`)
	c.must(t, 204, "PATCH", "/Groups/"+gid, `{"schemas":["`+schemaPatchOp+`"],
		"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`","display":"test.user@okta.local"},{"value":"`+other+`","display":"second@okta.local"}]}]}`)
	c.must(t, 204, "PATCH", "/Groups/"+gid, `{"schemas":["`+schemaPatchOp+`"],
		"Operations":[{"op":"remove","path":"members[value eq \"`+other+`\"]"}]}`)
	r = c.must(t, 200, "GET", "/Groups/"+gid, "")
	if ms, _ := r.Body["members"].([]any); len(ms) != 1 || dig(ms, "0.value") != id || r.str("displayName") != "Test SCIMv2 renamed" {
		t.Fatalf("group after changes: %s", r.Raw)
	}
	if ids := groupMembers(t, e.client, e.tenant.ID, gid); len(ids) != 1 || ids[0] != id {
		t.Fatalf("stored group members %v, want [%s]", ids, id)
	}
	c.must(t, 204, "DELETE", "/Groups/"+gid, "")
	c.must(t, 404, "GET", "/Groups/"+gid, "")

	// Delete the user.
	c.must(t, 204, "DELETE", "/Users/"+id, "")
	c.must(t, 404, "GET", "/Users/"+id, "")
	readTenant(t, e.client, e.store, "okta").checkInvariants(t)
}

func TestSCIMEntraSequence(t *testing.T) {
	e := newSCIMEnv(t, "entra", 10)
	c := e.c

	r := c.must(t, 201, "POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName": "Test_User_ab6490ee@testuser.com",
		"active": true,
		"emails": [{"primary": true, "type": "work", "value": "Test_User_ab6490ee@testuser.com"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles": [],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "employeeNumber": "42"}
	}`)
	id := r.str("id")
	c.must(t, 200, "GET", "/Users/"+id, "")
	for _, f := range []string{
		`userName eq "Test_User_ab6490ee@testuser.com"`,
		`emails[type eq "work"].value eq "test_user_ab6490ee@testuser.com"`,
		`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`,
	} {
		r = c.must(t, 200, "GET", "/Users?filter="+q(f), "")
		if r.num("totalResults") != 1 || r.str("Resources.0.id") != id {
			t.Fatalf("filter %s: %s", f, r.Raw)
		}
	}
	r = c.must(t, 200, "GET", "/Users?filter="+q(`userName eq "non-existent user"`), "")
	if rs, ok := r.Body["Resources"].([]any); !ok || len(rs) != 0 || r.num("totalResults") != 0 {
		t.Fatalf("empty query: %s", r.Raw)
	}

	// Multi-valued and single-valued updates, op in any case.
	r = c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],"Operations":[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
		{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}`)
	// The userName (Entra's UPN) stays; the work email, and so the
	// member's email, changes.
	if r.str("userName") != "Test_User_ab6490ee@testuser.com" || r.str("name.familyName") != "updatedFamilyName" {
		t.Fatalf("multi-valued update: %s", r.Raw)
	}
	c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],"Operations":[
		{"op":"Add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Marketing","name.givenName":"Grace","title":"Lead"}}]}`)
	if m := e.member(t, id); m.Department != "Marketing" || m.GivenName != "Grace" || m.Title != "Lead" || m.Email != "updatedEmail@microsoft.com" {
		t.Fatalf("stored after patches: %+v", m)
	}

	// Manager as a bare id, then removed.
	mgr := c.must(t, 201, "POST", "/Users", userJSON("manager@testuser.com")).str("id")
	c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],"Operations":[
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+mgr+`"}]}`)
	if e.member(t, id).ManagerID != mgr {
		t.Fatal("manager not set")
	}
	c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],"Operations":[{"op":"Remove","path":"manager"}]}`)
	if e.member(t, id).ManagerID != "" {
		t.Fatal("manager not removed")
	}

	// String booleans.
	c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	if e.member(t, id).Status != sdk.StatusDeactivated {
		t.Fatal("disable with a string boolean failed")
	}
	c.must(t, 200, "PATCH", "/Users/"+id, `{"schemas":["`+schemaPatchOp+`"],"Operations":[{"op":"Replace","value":{"active":"True"}}]}`)
	if e.member(t, id).Status != sdk.StatusActive {
		t.Fatal("enable with a string boolean failed")
	}

	// Groups, with $ref: null and removal by value array.
	r = c.must(t, 201, "POST", "/Groups", `{"schemas":["`+schemaGroup+`"],
		"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}`)
	gid := r.str("id")
	r = c.must(t, 200, "GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "displayName"`), "")
	if r.num("totalResults") != 1 || dig(r.Body, "Resources.0.members") != nil {
		t.Fatalf("group query: %s", r.Raw)
	}
	c.must(t, 204, "PATCH", "/Groups/"+gid, `{"schemas":["`+schemaPatchOp+`"],"Operations":[
		{"op":"Replace","path":"displayName","value":"1879db59updatedDisplayName"}]}`)
	c.must(t, 204, "PATCH", "/Groups/"+gid, `{"schemas":["`+schemaPatchOp+`"],"Operations":[
		{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"},{"$ref":null,"value":"`+mgr+`"}]}]}`)
	c.must(t, 204, "PATCH", "/Groups/"+gid, `{"schemas":["`+schemaPatchOp+`"],"Operations":[
		{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+mgr+`"}]}]}`)
	if ids := groupMembers(t, e.client, e.tenant.ID, gid); len(ids) != 1 || ids[0] != id {
		t.Fatalf("members after add/remove = %v", ids)
	}
	r = c.must(t, 200, "GET", "/Users/"+id, "")
	if dig(r.Body, "groups.0.value") != gid {
		t.Fatalf("user's groups: %s", r.Raw)
	}

	// Delete the user: gone, and out of its groups.
	c.must(t, 204, "DELETE", "/Users/"+id, "")
	c.must(t, 404, "GET", "/Users/"+id, "")
	if ids := groupMembers(t, e.client, e.tenant.ID, gid); len(ids) != 0 {
		t.Fatalf("deleted user still in group: %v", ids)
	}
	c.must(t, 204, "DELETE", "/Groups/"+gid, "")
	readTenant(t, e.client, e.store, "entra").checkInvariants(t)
}

// TestSCIMRules checks the rules SCIM clients meet on the database under
// test: tokens are per tenant, the owner is protected, the seat limit
// holds, paging is exact, ETags guard writes.
func TestSCIMRules(t *testing.T) {
	e := newSCIMEnv(t, "rules", 4) // the owner and 3 more
	c := e.c

	// A token of another tenant gets 401 here, and this one there.
	e.db.createTenant(t, "other", "owner@other.test", 2)
	otherTok := e.db.createToken(t, "other")
	c.must(t, 200, "GET", "/ServiceProviderConfig", "")
	(&scimClient{base: c.base, token: otherTok, hc: c.hc}).must(t, 401, "GET", "/Users", "")
	(&scimClient{base: e.srv.URL + "/scim/v2/other", token: c.token, hc: c.hc}).must(t, 401, "GET", "/Users", "")
	(&scimClient{base: e.srv.URL + "/scim/v2/other", token: otherTok, hc: c.hc}).must(t, 200, "GET", "/Users", "")

	// The owner cannot be deactivated or deleted through SCIM.
	owner := e.tenant.OwnerID
	for _, req := range []struct{ method, body string }{
		{"PATCH", `{"schemas":["` + schemaPatchOp + `"],"Operations":[{"op":"replace","value":{"active":false}}]}`},
		{"DELETE", ""},
	} {
		r := c.must(t, 403, req.method, "/Users/"+owner, req.body)
		if !strings.Contains(r.str("detail"), "transfer ownership") {
			t.Fatalf("%s owner: %s", req.method, r.Raw)
		}
	}

	// The seat limit: 3 more members fit, the 4th is refused and says so.
	var ids []string
	for _, u := range []string{"a@rules.test", "b@rules.test", "c@rules.test"} {
		ids = append(ids, c.must(t, 201, "POST", "/Users", userJSON(u)).str("id"))
	}
	r := c.must(t, 403, "POST", "/Users", userJSON("d@rules.test"))
	if !strings.Contains(r.str("detail"), "seat limit") {
		t.Fatalf("seat limit: %s", r.Raw)
	}
	// Deleting frees the seat.
	c.must(t, 204, "DELETE", "/Users/"+ids[2], "")
	c.must(t, 201, "POST", "/Users", userJSON("d@rules.test"))

	// Paging: totalResults exact on every page, pages disjoint, all seen.
	seen := map[string]bool{}
	for start := 1; start <= 4; start += 2 {
		r := c.must(t, 200, "GET", "/Users?startIndex="+strconv.Itoa(start)+"&count=2", "")
		if r.num("totalResults") != 4 {
			t.Fatalf("page at %d: totalResults %d, want 4", start, r.num("totalResults"))
		}
		rs, _ := r.Body["Resources"].([]any)
		for i := range rs {
			id, _ := dig(rs, strconv.Itoa(i)+".id").(string)
			if seen[id] {
				t.Fatalf("member %s on two pages", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 4 {
		t.Fatalf("paging saw %d members, want 4", len(seen))
	}

	// ETags: a stale If-Match is refused with 412.
	r = c.must(t, 200, "GET", "/Users/"+ids[0], "")
	tag := r.Header.Get("ETag")
	title := `{"schemas":["` + schemaPatchOp + `"],"Operations":[{"op":"replace","path":"title","value":"Dev"}]}`
	c.must(t, 200, "PATCH", "/Users/"+ids[0], title, "If-Match", tag)
	c.must(t, 412, "PATCH", "/Users/"+ids[0], title, "If-Match", tag)

	st := readTenant(t, e.client, e.store, "rules")
	st.checkInvariants(t)
	if len(st.members) != 4 {
		t.Fatalf("%d members, want 4", len(st.members))
	}
}
