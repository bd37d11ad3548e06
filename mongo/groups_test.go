package mongo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
)

// TestGroupCommandCounts pins the round trips of the group and token
// operations, and checks that adding a member costs the same in a small
// and in a large group.
func TestGroupCommandCounts(t *testing.T) {
	var cc CommandCounter
	s := openStore(t, WithCommandMonitor(cc.Monitor()))
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 100000)
	count := func(name string, want int64, f func() error) {
		t.Helper()
		cc.Reset()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := cc.Count()
		t.Logf("%-40s %d command(s) %v", name, got, cc.ByName())
		if got != want {
			t.Errorf("%s: %d commands, want %d", name, got, want)
		}
	}
	small := &sdk.Group{ID: sdk.NewID(), TenantID: tn.ID, DisplayName: "Small", NameKey: "small", Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
	big := &sdk.Group{ID: sdk.NewID(), TenantID: tn.ID, DisplayName: "Big", NameKey: "big", Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
	count("CreateGroup", 1, func() error { return s.CreateGroup(ctx, small) })
	if err := s.CreateGroup(ctx, big); err != nil {
		t.Fatal(err)
	}
	// The big group's edges need no member records.
	const bigSize = 20000
	for b := 0; b < bigSize; b += 5000 {
		ids := make([]string, 5000)
		for i := range ids {
			ids[i] = fmt.Sprintf("m%06d", b+i)
		}
		if _, _, err := s.AddGroupMembers(ctx, tn.ID, big.ID, ids, epoch); err != nil {
			t.Fatal(err)
		}
	}
	m := newMember(tn.ID, "new@x.test")
	if err := s.CreateMember(ctx, m, true, 0); err != nil {
		t.Fatal(err)
	}
	count("AddGroupMembers (1, small group)", 2, func() error {
		_, _, err := s.AddGroupMembers(ctx, tn.ID, small.ID, []string{m.ID}, epoch)
		return err
	})
	count("AddGroupMembers (1, 20k group)", 2, func() error {
		_, _, err := s.AddGroupMembers(ctx, tn.ID, big.ID, []string{m.ID}, epoch)
		return err
	})
	count("AddGroupMembers (again: no-op)", 2, func() error {
		_, n, err := s.AddGroupMembers(ctx, tn.ID, big.ID, []string{m.ID}, epoch)
		if n != 0 {
			return fmt.Errorf("re-adding created %d edges", n)
		}
		return err
	})
	count("RemoveGroupMembers (1, 20k group)", 2, func() error {
		_, _, err := s.RemoveGroupMembers(ctx, tn.ID, big.ID, []string{m.ID}, epoch)
		return err
	})
	count("ListGroupMembers page 1", 1, func() error { _, err := s.ListGroupMembers(ctx, tn.ID, big.ID, "", 1001); return err })
	count("ListGroupMembers deep page", 1, func() error {
		_, err := s.ListGroupMembers(ctx, tn.ID, big.ID, "m019000", 1001)
		return err
	})
	count("ListMemberGroups", 1, func() error { _, err := s.ListMemberGroups(ctx, tn.ID, []string{m.ID, "m000001"}); return err })
	count("MissingMembers", 1, func() error { _, err := s.MissingMembers(ctx, tn.ID, []string{m.ID, "ghost"}); return err })
	count("GetGroup", 1, func() error { _, err := s.GetGroup(ctx, tn.ID, big.ID); return err })
	count("ListGroups (displayName eq)", 1, func() error {
		_, err := s.ListGroups(ctx, tn.ID, sdk.GroupQuery{Where: sdk.Compare(sdk.FieldDisplayName, sdk.OpEq, "BIG"), Limit: 51})
		return err
	})
	count("CountGroups", 1, func() error { _, err := s.CountGroups(ctx, tn.ID, nil); return err })

	// Through the SDK with a SCIM token as the actor: check the member,
	// bump the group, insert the edge, append the audit event.
	c := sdk.New(s)
	count("sdk AddGroupMembers (1, 20k group)", 4, func() error {
		_, err := c.AddGroupMembers(ctx, sdk.TokenActor("tok"), tn.ID, big.ID, []string{m.ID})
		return err
	})

	tok := &sdk.Token{ID: sdk.NewID(), TenantID: tn.ID, Name: "x", Hash: sdk.HashToken("s"), Hint: "s", CreatedAt: epoch}
	count("CreateToken", 1, func() error { return s.CreateToken(ctx, tok) })
	count("GetTokenByHash", 1, func() error { _, err := s.GetTokenByHash(ctx, tn.ID, tok.Hash); return err })
	count("TouchToken", 1, func() error { return s.TouchToken(ctx, tn.ID, tok.ID, epoch.Add(60e9)) })
}

// TestSCIMCommandCounts counts the database commands of SCIM requests
// served by the scim package on this store, once the token and tenant are
// cached (the steady state of a provisioning run).
func TestSCIMCommandCounts(t *testing.T) {
	var cc CommandCounter
	s := openStore(t, WithCommandMonitor(cc.Monitor()))
	ctx := t.Context()
	c := sdk.New(s)
	tn, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "o@acme.test", IncludedSeats: 100000})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := c.CreateToken(ctx, sdk.SystemActor(), tn.ID, "okta")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(scim.NewHandler(c, scim.WithRateLimit(0, 0), scim.WithAuthCacheTTL(time.Hour)))
	defer srv.Close()
	do := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/scim/v2/acme"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	do("GET", "/ServiceProviderConfig", "") // warms the tenant and token caches
	var ids []string
	for i := range 300 {
		m, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("u%03d@acme.test", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	g, err := c.CreateGroup(ctx, sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Big", Members: ids[:250]})
	if err != nil {
		t.Fatal(err)
	}
	count := func(name string, status int, max int64, method, path, body string) {
		t.Helper()
		cc.Reset()
		if got := do(method, path, body); got != status {
			t.Fatalf("%s: status %d, want %d", name, got, status)
		}
		n := cc.Count()
		t.Logf("%-44s %d command(s) %v", name, n, cc.ByName())
		if max > 0 && n > max {
			t.Errorf("%s: %d commands, want at most %d", name, n, max)
		}
	}
	filter := url.QueryEscape(`userName eq "U007@acme.test"`)
	count("GET /Users?filter=userName eq", 200, 2, "GET", "/Users?filter="+filter, "")
	count("POST /Users", 201, 3, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new@acme.test"}`)
	count("PATCH /Groups (add 1 member)", 204, 0, "PATCH", "/Groups/"+g.ID,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+ids[299]+`"}]}]}`)
	count("PATCH /Users (deactivate)", 200, 0, "PATCH", "/Users/"+ids[1],
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	count("GET /Users page 1 (count=100)", 200, 0, "GET", "/Users?startIndex=1&count=100", "")
	count("GET /Users page 2 (next page)", 200, 0, "GET", "/Users?startIndex=101&count=100", "")
	count("GET /Users page 3 (next page)", 200, 0, "GET", "/Users?startIndex=201&count=100", "")
}
