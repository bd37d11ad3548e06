package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (b *browser) do(method, path string, body any, out any) int {
	b.t.Helper()
	var rd bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&rd).Encode(body)
	}
	req, _ := http.NewRequest(method, b.base+path, &rd)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

type membersPage struct {
	Members []struct {
		ID, Email, Role, Status string
		CanRemove               bool
	}
	CanInvite bool
}

func TestHostAppFlows(t *testing.T) {
	srv := httptest.NewServer(NewApp(sdk.New(memstore.New(), sdk.WithPasswordParams(64, 1, 1))).Handler())
	defer srv.Close()

	ann := newBrowser(t, srv.URL)
	if code := ann.do("GET", "/members", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("members without a session: %d", code)
	}
	if code := ann.do("POST", "/signup", map[string]string{"Slug": "acme", "Email": "ann@acme.test", "Password": "ann's long password"}, nil); code != 200 {
		t.Fatalf("signup: %d", code)
	}

	// Invite → accept.
	var inv struct{ Secret string }
	if code := ann.do("POST", "/invite", map[string]string{"Email": "bob@acme.test", "Role": "admin"}, &inv); code != http.StatusCreated || inv.Secret == "" {
		t.Fatalf("invite: %d %+v", code, inv)
	}
	bob := newBrowser(t, srv.URL)
	if code := bob.do("POST", "/accept", map[string]string{"Secret": inv.Secret, "GivenName": "Bob", "Password": "bob's long password"}, nil); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	var errBody struct{ Reason string }
	if code := newBrowser(t, srv.URL).do("POST", "/accept", map[string]string{"Secret": inv.Secret}, &errBody); code != http.StatusConflict || errBody.Reason != "invitation_used" {
		t.Fatalf("second accept: %d %+v", code, errBody)
	}

	// Policy draws the page: bob (admin) cannot remove ann (owner) or himself.
	var page membersPage
	if code := bob.do("GET", "/members", nil, &page); code != 200 || len(page.Members) != 2 || !page.CanInvite {
		t.Fatalf("members as bob: %d %+v", code, page)
	}
	for _, m := range page.Members {
		if m.CanRemove {
			t.Fatalf("bob may remove %s", m.Email)
		}
	}
	// …and the SDK enforces the same rule on the write.
	annID := page.Members[0].ID
	bobID := page.Members[1].ID
	if code := bob.do("POST", "/members/"+annID+"/remove", nil, &errBody); code != http.StatusConflict || errBody.Reason != "target_is_owner" {
		t.Fatalf("bob removing the owner: %d %+v", code, errBody)
	}

	// Force logout ends bob's session at once.
	if code := ann.do("POST", "/members/"+bobID+"/logout", nil, nil); code != http.StatusNoContent {
		t.Fatalf("logout: %d", code)
	}
	if code := bob.do("GET", "/members", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("bob's old session after force logout: %d", code)
	}
	if code := bob.do("POST", "/login", map[string]string{"Slug": "acme", "Email": "bob@acme.test", "Password": "bob's long password"}, nil); code != 200 {
		t.Fatalf("bob signing in again: %d", code)
	}
	if code := bob.do("GET", "/members", nil, nil); code != 200 {
		t.Fatalf("bob's new session: %d", code)
	}
	// Removing bob ends his session too.
	if code := ann.do("POST", "/members/"+bobID+"/remove", nil, nil); code != http.StatusNoContent {
		t.Fatalf("ann removing bob: %d", code)
	}
	if code := bob.do("GET", "/members", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("removed bob's session: %d", code)
	}
	if code := ann.do("POST", "/login", map[string]string{"Slug": "acme", "Email": "ann@acme.test", "Password": "wrong password!!"}, &errBody); code != http.StatusUnauthorized || errBody.Reason != "wrong_credentials" {
		t.Fatalf("wrong password: %d %+v", code, errBody)
	}
}
