package scim_test

import (
	"net/url"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// The request sequences below follow what Okta's "SCIM 2.0 reference"
// (developer.okta.com, "Okta and SCIM Version 2.0") and Microsoft's "Develop
// and plan provisioning for a SCIM endpoint in Microsoft Entra ID" document
// as the requests their provisioning clients send, including the forms
// that deviate from RFC 7644.

func q(filter string) string { return url.QueryEscape(filter) }

func TestOktaSequence(t *testing.T) {
	e := newEnv(t)

	// Test connection: Okta lists a couple of users and the groups.
	e.do("GET", "/Users?startIndex=1&count=2", nil).want(t, 200)
	e.do("GET", "/Groups?startIndex=1&count=100", nil).want(t, 200)

	// Create user: look the userName up first, then POST.
	r := e.do("GET", "/Users?filter="+q(`userName eq "test.user@okta.local"`)+"&startIndex=1&count=100", nil).want(t, 200)
	golden(t, "okta_user_lookup_empty", r)
	r = e.do("POST", "/Users", `{
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
	}`).want(t, 201)
	golden(t, "okta_user_create", r)
	id := r.str("id")
	if r.header.Get("Location") != r.str("meta.location") || r.header.Get("Etag") == "" {
		t.Fatalf("Location %q / ETag %q", r.header.Get("Location"), r.header.Get("Etag"))
	}
	if _, ok := r.body["password"]; ok {
		t.Fatal("password returned")
	}
	// Lookup again, case-insensitively: Okta then links instead of creating.
	r = e.do("GET", "/Users?filter="+q(`userName eq "Test.User@OKTA.local"`)+"&startIndex=1&count=100", nil).want(t, 200)
	if r.body["totalResults"] != 1.0 || r.str("Resources.0.id") != id {
		t.Fatalf("case-insensitive lookup: %s", r.raw)
	}
	e.do("GET", "/Users/"+id, nil).want(t, 200)

	// Update user with PUT: the whole user, including id, groups and password.
	r = e.do("PUT", "/Users/"+id, `{
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
	}`).want(t, 200)
	golden(t, "okta_user_put", r)

	// Update with PATCH: Okta sends operations without a path.
	r = e.do("PATCH", "/Users/"+id, `{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"name.givenName": "Patched", "displayName": "Patched User"}}]
	}`).want(t, 200)
	if r.str("name.givenName") != "Patched" || r.str("displayName") != "Patched User" {
		t.Fatalf("path-less patch: %s", r.raw)
	}

	// Deactivate, then reactivate.
	m := e.member(id)
	r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, 200)
	golden(t, "okta_user_deactivate", r)
	if got := e.member(id); got.Status != sdk.StatusDeactivated || got.SessionEpoch == m.SessionEpoch {
		t.Fatalf("deactivation did not log out: %+v", got)
	}
	r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, 200)
	if r.body["active"] != true {
		t.Fatalf("reactivate: %s", r.raw)
	}

	// Push groups: create, find by name, rename (Okta sends the id in the
	// value), change membership, delete.
	other := e.createUser("second@okta.local")
	r = e.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}`).want(t, 201)
	golden(t, "okta_group_create", r)
	gid := r.str("id")
	r = e.do("GET", "/Groups?filter="+q(`displayName eq "Test SCIMv2"`)+"&startIndex=1&count=100", nil).want(t, 200)
	if r.body["totalResults"] != 1.0 {
		t.Fatalf("group lookup: %s", r.raw)
	}
	e.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"id":"`+gid+`","displayName":"Test SCIMv2 renamed"}}]}`).want(t, 204)
	e.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`","display":"test.user@okta.local"},{"value":"`+other+`","display":"second@okta.local"}]}]}`).want(t, 204)
	e.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"remove","path":"members[value eq \"`+other+`\"]"}]}`).want(t, 204)
	r = e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	golden(t, "okta_group_get", r)
	if ms, _ := r.body["members"].([]any); len(ms) != 1 || dig(ms, "0.value") != id {
		t.Fatalf("members: %s", r.raw)
	}
	// Okta imports groups with their members.
	r = e.do("GET", "/Groups?startIndex=1&count=100", nil).want(t, 200)
	golden(t, "okta_groups_list", r)
	e.do("DELETE", "/Groups/"+gid, nil).want(t, 204)
	e.do("GET", "/Groups/"+gid, nil).want(t, 404)
}

func TestEntraSequence(t *testing.T) {
	e := newEnv(t)
	// Create user (Entra sends the enterprise schema, meta and empty roles).
	r := e.do("POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName": "Test_User_ab6490ee@testuser.com",
		"active": true,
		"emails": [{"primary": true, "type": "work", "value": "Test_User_ab6490ee@testuser.com"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles": [],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "employeeNumber": "42"}
	}`).want(t, 201)
	golden(t, "entra_user_create", r)
	id := r.str("id")

	e.do("GET", "/Users/"+id, nil).want(t, 200)
	r = e.do("GET", "/Users?filter="+q(`userName eq "Test_User_ab6490ee@testuser.com"`), nil).want(t, 200)
	golden(t, "entra_user_query", r)
	r = e.do("GET", "/Users?filter="+q(`userName eq "non-existent user"`), nil).want(t, 200)
	golden(t, "entra_user_query_empty", r)
	// Entra's matching on the work email, a form outside the RFC grammar.
	r = e.do("GET", "/Users?filter="+q(`emails[type eq "work"].value eq "test_user_ab6490ee@testuser.com"`), nil).want(t, 200)
	if r.body["totalResults"] != 1.0 {
		t.Fatalf("emails[type eq work].value eq: %s", r.raw)
	}
	r = e.do("GET", "/Users?filter="+q(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), nil).want(t, 200)
	if r.body["totalResults"] != 1.0 {
		t.Fatalf("externalId eq: %s", r.raw)
	}

	// Update multi-valued and single-valued attributes, op in any case.
	r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
		{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}`).want(t, 200)
	if r.str("userName") != "updatedEmail@microsoft.com" || r.str("name.familyName") != "updatedFamilyName" {
		t.Fatalf("multi-valued update: %s", r.raw)
	}
	r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"userName","value":"5b50642d@testuser.com"}]}`).want(t, 200)
	if r.str("userName") != "5b50642d@testuser.com" || r.str("emails.0.value") != "5b50642d@testuser.com" {
		t.Fatalf("userName update: %s", r.raw)
	}
	// Path-less add with URN-prefixed and dotted keys.
	r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Marketing","name.givenName":"Grace","title":"Lead"}}]}`).want(t, 200)
	if r.ext("department") != "Marketing" ||
		r.str("name.givenName") != "Grace" || r.str("title") != "Lead" {
		t.Fatalf("path-less URN/dotted add: %s", r.raw)
	}

	// Manager: Entra sends the bare id, sometimes without the URN.
	mgr := e.createUser("manager@testuser.com")
	r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+mgr+`"}]}`).want(t, 200)
	golden(t, "entra_user_manager", r)
	if r.ext("manager.value") != mgr {
		t.Fatalf("manager: %s", r.raw)
	}
	r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Remove","path":"manager"}]}`).want(t, 200)
	if e.member(id).ManagerID != "" {
		t.Fatalf("manager not removed: %s", r.raw)
	}
	e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"manager","value":[{"$ref":"../Users/`+mgr+`","value":"`+mgr+`"}]}]}`).want(t, 200)
	if e.member(id).ManagerID != mgr {
		t.Fatal("manager as a list of one object was not set")
	}

	// Disable with a string boolean, then enable.
	r = e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"False"}]}`).want(t, 200)
	if r.body["active"] != false || e.member(id).Status != sdk.StatusDeactivated {
		t.Fatalf("disable: %s", r.raw)
	}
	e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","value":{"active":"True"}}]}`).want(t, 200)
	if e.member(id).Status != sdk.StatusActive {
		t.Fatal("enable with a string boolean failed")
	}

	// Groups.
	r = e.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}`).want(t, 201)
	golden(t, "entra_group_create", r)
	gid := r.str("id")
	r = e.do("GET", "/Groups/"+gid+"?excludedAttributes=members", nil).want(t, 200)
	if _, ok := r.body["members"]; ok {
		t.Fatalf("excludedAttributes=members: %s", r.raw)
	}
	r = e.do("GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "displayName"`), nil).want(t, 200)
	golden(t, "entra_group_query", r)
	e.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"displayName","value":"1879db59updatedDisplayName"}]}`).want(t, 204)
	e.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"},{"$ref":null,"value":"`+mgr+`"}]}]}`).want(t, 204)
	e.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+mgr+`"}]}]}`).want(t, 204)
	if ids := e.groupMembers(gid); len(ids) != 1 || ids[0] != id {
		t.Fatalf("members after add/remove = %v", ids)
	}
	// One request that adds and removes the same member leaves it out.
	e.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+mgr+`"}]},
		{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+mgr+`"}]}]}`).want(t, 204)
	if ids := e.groupMembers(gid); len(ids) != 1 {
		t.Fatalf("members after add+remove in one request = %v", ids)
	}
	r = e.do("GET", "/Users/"+id, nil).want(t, 200)
	if dig(r.body, "groups.0.value") != gid {
		t.Fatalf("user's groups: %s", r.raw)
	}

	// Delete the user: 204, gone, and out of its groups.
	e.do("DELETE", "/Users/"+id, nil).want(t, 204)
	e.do("GET", "/Users/"+id, nil).want(t, 404)
	if ids := e.groupMembers(gid); len(ids) != 0 {
		t.Fatalf("deleted user still in group: %v", ids)
	}
	e.do("DELETE", "/Groups/"+gid, nil).want(t, 204)
}

func (e *env) member(id string) *sdk.Member {
	e.t.Helper()
	m, err := e.client.Member(e.t.Context(), e.tenant.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) groupMembers(gid string) []string {
	e.t.Helper()
	p, err := e.client.GroupMembers(e.t.Context(), e.tenant.ID, gid, sdk.ListOptions{PageSize: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Items
}
