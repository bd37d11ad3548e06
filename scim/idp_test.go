package scim_test

import (
	"net/url"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// The request sequences below are the ones Okta's "SCIM 2.0 reference"
// (developer.okta.com, "Okta and SCIM Version 2.0") and Microsoft's
// "Tutorial: Develop and plan provisioning for a SCIM endpoint in
// Microsoft Entra ID" (learn.microsoft.com, "User operations" and "Group
// operations") document as what their provisioning clients send,
// including the forms that deviate from RFC 7644, in their order. Each
// response is compared with a golden file (go test -update rewrites them).

func q(filter string) string { return url.QueryEscape(filter) }

const patchSchema = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

func TestOktaSequence(t *testing.T) {
	e := newEnv(t)

	// Test connection: Okta lists a couple of users and the groups.
	e.do("GET", "/Users?startIndex=1&count=2", nil).want(t, 200)
	e.do("GET", "/Groups?startIndex=1&count=100", nil).want(t, 200)

	// Create user: look the userName up first, then POST, with Okta's
	// sample password of 8 characters.
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
		"password": "1mz050nq",
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
	if _, err := e.client.VerifyPassword(t.Context(), e.tenant.ID, "test.user@okta.local", "1mz050nq"); err != nil {
		t.Fatalf("Okta's 8-character password was not set: %v", err)
	}
	// Lookup again, case-insensitively: Okta then links instead of creating.
	r = e.do("GET", "/Users?filter="+q(`userName eq "Test.User@OKTA.local"`)+"&startIndex=1&count=100", nil).want(t, 200)
	if r.body["totalResults"] != 1.0 || r.str("Resources.0.id") != id {
		t.Fatalf("case-insensitive lookup: %s", r.raw)
	}
	r = e.do("GET", "/Users/"+id, nil).want(t, 200)
	golden(t, "okta_user_get", r)

	// Update user with PUT: the whole user, including id, groups, meta and
	// the password Okta's reference shows (11 characters).
	epoch := e.member(id).SessionEpoch
	put := `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"id": "` + id + `",
		"userName": "test.user@okta.local",
		"name": {"givenName": "Another", "familyName": "User"},
		"emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
		"displayName": "Another User",
		"locale": "en-US",
		"externalId": "00ujl29u0le5T6Aj10h7",
		"groups": [{"value": "ignored", "display": "read-only"}],
		"password": "Secr3t!pass",
		"active": true,
		"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"}
	}`
	r = e.do("PUT", "/Users/"+id, put).want(t, 200)
	golden(t, "okta_user_put", r)
	if _, err := e.client.VerifyPassword(t.Context(), e.tenant.ID, "test.user@okta.local", "Secr3t!pass"); err != nil {
		t.Fatalf("PUT password not set: %v", err)
	}
	m := e.member(id)
	if m.SessionEpoch == epoch {
		t.Fatal("a new password did not end the member's sessions")
	}
	// Okta re-sends the password with every PUT: the same one changes nothing.
	e.do("PUT", "/Users/"+id, put).want(t, 200)
	if again := e.member(id); again.SessionEpoch != m.SessionEpoch || again.Version != m.Version {
		t.Fatalf("repeating the password bumped epoch %d→%d, version %d→%d", m.SessionEpoch, again.SessionEpoch, m.Version, again.Version)
	}

	// Update with PATCH: Okta sends operations without a path.
	r = e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,
		"Operations": [{"op": "replace", "value": {"name.givenName": "Patched", "displayName": "Patched User"}}]}`).want(t, 200)
	if r.str("name.givenName") != "Patched" || r.str("displayName") != "Patched User" || r.str("locale") != "en-US" {
		t.Fatalf("path-less patch: %s", r.raw)
	}

	// Deactivate, then reactivate.
	m = e.member(id)
	r = e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, 200)
	golden(t, "okta_user_deactivate", r)
	if got := e.member(id); got.Status != sdk.StatusDeactivated || got.SessionEpoch == m.SessionEpoch {
		t.Fatalf("deactivation did not log out: %+v", got)
	}
	r = e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,"Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, 200)
	if r.body["active"] != true {
		t.Fatalf("reactivate: %s", r.raw)
	}

	// Push groups: create, find by name, rename (Okta sends the id in the
	// value), change membership, replace with PUT, delete.
	other := e.createUser("second@okta.local")
	r = e.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}`).want(t, 201)
	golden(t, "okta_group_create", r)
	gid := r.str("id")
	r = e.do("GET", "/Groups?filter="+q(`displayName eq "Test SCIMv2"`)+"&startIndex=1&count=100", nil).want(t, 200)
	if r.body["totalResults"] != 1.0 {
		t.Fatalf("group lookup: %s", r.raw)
	}
	e.do("PATCH", "/Groups/"+gid, `{`+patchSchema+`,
		"Operations":[{"op":"replace","value":{"id":"`+gid+`","displayName":"Test SCIMv2 renamed"}}]}`).want(t, 204)
	e.do("PATCH", "/Groups/"+gid, `{`+patchSchema+`,
		"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`","display":"test.user@okta.local"},{"value":"`+other+`","display":"second@okta.local"}]}]}`).want(t, 204)
	e.do("PATCH", "/Groups/"+gid, `{`+patchSchema+`,
		"Operations":[{"op":"remove","path":"members[value eq \"`+other+`\"]"}]}`).want(t, 204)
	r = e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	golden(t, "okta_group_get", r)
	if ms, _ := r.body["members"].([]any); len(ms) != 1 || dig(ms, "0.value") != id {
		t.Fatalf("members: %s", r.raw)
	}
	r = e.do("PUT", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"`+gid+`",
		"displayName":"Test SCIMv2","members":[{"value":"`+other+`","display":"second@okta.local"}]}`).want(t, 200)
	golden(t, "okta_group_put", r)
	// Okta imports groups with their members.
	r = e.do("GET", "/Groups?startIndex=1&count=100", nil).want(t, 200)
	golden(t, "okta_groups_list", r)
	e.do("DELETE", "/Groups/"+gid, nil).want(t, 204)
	e.do("GET", "/Groups/"+gid, nil).want(t, 404)
}

// TestEntraSequence follows Microsoft's documented requests, where
// userName (the UPN) is not an email address and the work email is another
// value.
func TestEntraSequence(t *testing.T) {
	e := newEnv(t)
	// Create User.
	r := e.do("POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
		"active": true,
		"emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles": []
	}`).want(t, 201)
	golden(t, "entra_user_create", r)
	id := r.str("id")
	if m := e.member(id); m.UserName != "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1" ||
		m.Email != "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com" {
		t.Fatalf("userName %q, email %q", m.UserName, m.Email)
	}

	// Get User, Get User by query, Get User by query - Zero results.
	r = e.do("GET", "/Users/"+id, nil).want(t, 200)
	golden(t, "entra_user_get", r)
	r = e.do("GET", "/Users?filter="+q(`userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"`), nil).want(t, 200)
	golden(t, "entra_user_query", r)
	r = e.do("GET", "/Users?filter="+q(`userName eq "non-existent user"`), nil).want(t, 200)
	golden(t, "entra_user_query_empty", r)
	// Matching on the work email, in the form outside the RFC grammar.
	r = e.do("GET", "/Users?filter="+q(`emails[type eq "work"].value eq "test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"`), nil).want(t, 200)
	if r.body["totalResults"] != 1.0 {
		t.Fatalf("emails[type eq work].value eq: %s", r.raw)
	}
	r = e.do("GET", "/Users?filter="+q(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), nil).want(t, 200)
	if r.body["totalResults"] != 1.0 {
		t.Fatalf("externalId eq: %s", r.raw)
	}

	// Update User [Multi-valued properties].
	r = e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,"Operations":[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
		{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}`).want(t, 200)
	golden(t, "entra_user_update_multi", r)
	if r.str("userName") != "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1" || r.str("emails.0.value") != "updatedEmail@microsoft.com" {
		t.Fatalf("the work email replaced userName or was lost: %s", r.raw)
	}
	// Update User [Single-valued properties].
	r = e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,"Operations":[
		{"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]}`).want(t, 200)
	golden(t, "entra_user_update_single", r)
	if r.str("userName") != "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" || r.str("emails.0.value") != "updatedEmail@microsoft.com" {
		t.Fatalf("userName update: %s", r.raw)
	}
	// Disable User.
	r = e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,"Operations":[{"op":"Replace","path":"active","value":false}]}`).want(t, 200)
	golden(t, "entra_user_disable", r)
	if e.member(id).Status != sdk.StatusDeactivated {
		t.Fatal("not deactivated")
	}

	// Create Group, with Entra's own schema URN.
	r = e.do("POST", "/Groups", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
		"displayName": "displayName",
		"meta": {"resourceType": "Group"}
	}`).want(t, 201)
	golden(t, "entra_group_create", r)
	gid := r.str("id")
	// Get Group, Get Group by displayName.
	r = e.do("GET", "/Groups/"+gid+"?excludedAttributes=members", nil).want(t, 200)
	if _, ok := r.body["members"]; ok {
		t.Fatalf("excludedAttributes=members: %s", r.raw)
	}
	r = e.do("GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "displayName"`), nil).want(t, 200)
	golden(t, "entra_group_query", r)
	e.do("PUT", "/Groups/"+gid, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName", "members": []}`).want(t, 200)
	// Update Group [Non-member attributes], [Add Members], [Remove Members].
	e.do("PATCH", "/Groups/"+gid, `{`+patchSchema+`,"Operations":[
		{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}`).want(t, 204)
	mgr := e.createUser("manager@testuser.com")
	e.do("PATCH", "/Groups/"+gid, `{`+patchSchema+`,"Operations":[
		{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"},{"$ref":null,"value":"`+mgr+`"}]}]}`).want(t, 204)
	e.do("PATCH", "/Groups/"+gid, `{`+patchSchema+`,"Operations":[
		{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+mgr+`"}]}]}`).want(t, 204)
	if ids := e.groupMembers(gid); len(ids) != 1 || ids[0] != id {
		t.Fatalf("members after add/remove = %v", ids)
	}
	r = e.do("GET", "/Users/"+id, nil).want(t, 200)
	if dig(r.body, "groups.0.value") != gid {
		t.Fatalf("user's groups: %s", r.raw)
	}
	// Delete User, Delete Group.
	e.do("DELETE", "/Users/"+id, nil).want(t, 204)
	e.do("GET", "/Users/"+id, nil).want(t, 404)
	if ids := e.groupMembers(gid); len(ids) != 0 {
		t.Fatalf("deleted user still in group: %v", ids)
	}
	e.do("DELETE", "/Groups/"+gid, nil).want(t, 204)
	// Unknown schemas are still refused.
	e.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","urn:example:other"],"displayName":"x"}`).want(t, 400)
}

// TestEntraDefaultMappings sends what Entra ID's default attribute
// mappings produce for a user with every mapped attribute — userName the
// UPN, the mail as the work email, phones, the work address, the
// enterprise attributes and the manager — then changes each with the PATCH
// shapes Entra uses, reading every value back exactly.
func TestEntraDefaultMappings(t *testing.T) {
	e := newEnv(t)
	mgr := e.createUser("boss@contoso.com")
	r := e.do("POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "jdoe",
		"userName": "JDoe@contoso.onmicrosoft.com",
		"active": true,
		"displayName": "Jane Doe",
		"title": "Ingénieure",
		"preferredLanguage": "fr-FR",
		"emails": [{"primary": true, "type": "work", "value": "Jane.Doe@Contoso.com"}],
		"name": {"familyName": "Doe", "givenName": "Jane"},
		"phoneNumbers": [
			{"type": "work", "value": "+33 1 23 45 67 89"},
			{"type": "mobile", "value": "+33 6 12 34 56 78"},
			{"type": "fax", "value": "+33 1 23 45 67 00"}],
		"addresses": [{"type": "work", "formatted": "Bureau 12", "streetAddress": "1 rue de Rivoli", "locality": "Paris",
			"region": "Île-de-France", "postalCode": "75001", "country": "FR", "primary": true}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"employeeNumber": "E-0042", "department": "R&D", "costCenter": "CC-7", "organization": "Contoso", "division": "Cloud",
			"manager": {"value": "`+mgr+`"}},
		"roles": []
	}`).want(t, 201)
	golden(t, "entra_default_mappings_create", r)
	id := r.str("id")
	if m := e.member(id); m.Email != "Jane.Doe@Contoso.com" || m.UserName != "JDoe@contoso.onmicrosoft.com" {
		t.Fatalf("email %q userName %q", m.Email, m.UserName)
	}
	for _, f := range []string{
		`userName eq "jdoe@CONTOSO.onmicrosoft.com"`,
		`emails[type eq "work"].value eq "jane.doe@contoso.com"`,
		`emails.value eq "Jane.Doe@Contoso.com"`,
		`externalId eq "jdoe"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-0042"`,
		`phoneNumbers[type eq "mobile"].value eq "+33 6 12 34 56 78"`,
		`addresses[type eq "work"].locality eq "paris"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "` + mgr + `"`,
	} {
		r := e.do("GET", "/Users?filter="+q(f), nil).want(t, 200)
		if r.body["totalResults"] != 1.0 || r.str("Resources.0.id") != id {
			t.Errorf("filter %s: %s", f, r.raw)
		}
	}
	// Entra's updates, one attribute per operation, op capitalised.
	r = e.do("PATCH", "/Users/"+id, `{`+patchSchema+`,"Operations":[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"jane@contoso.com"},
		{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+33 7 00 00 00 00"},
		{"op":"Add","path":"phoneNumbers[type eq \"pager\"].value","value":"555"},
		{"op":"Replace","path":"addresses[type eq \"work\"].locality","value":"Lyon"},
		{"op":"Remove","path":"addresses[type eq \"work\"].formatted"},
		{"op":"Remove","path":"phoneNumbers[type eq \"fax\"]"},
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"E-0043"},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+mgr+`"},
		{"op":"Replace","path":"name.middleName","value":"Q."},
		{"op":"Add","value":{"nickName":"JJ","timezone":"Europe/Paris","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization":"Contoso SA"}},
		{"op":"Replace","path":"active","value":"False"}]}`).want(t, 200)
	golden(t, "entra_default_mappings_patch", r)
	m := e.member(id)
	if m.Email != "jane@contoso.com" || m.UserName != "JDoe@contoso.onmicrosoft.com" || m.Status != sdk.StatusDeactivated ||
		len(m.PhoneNumbers) != 3 || m.PhoneNumbers[2].Type != "pager" || m.Addresses[0].Formatted != "" || m.Addresses[0].Locality != "Lyon" {
		t.Fatalf("after PATCH: %+v", m)
	}
	// The audit log has one event for the whole PATCH.
	p, err := e.client.AuditLog(t.Context(), sdk.SystemActor(), e.tenant.ID, sdk.AuditListOptions{TargetID: id})
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("audit events for create + one PATCH: %d (%v)", len(p.Items), err)
	}
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
