package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// page is a browser-like client of the demo: a cookie jar, no redirects
// followed, so each answer is checked as the browser gets it.
type page struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newPage(t *testing.T, base string) *page {
	jar, _ := cookiejar.New(nil)
	return &page{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get answers the status, the Location header and the body of GET path.
func (p *page) get(path string) (int, string, string) {
	p.t.Helper()
	return p.send(http.MethodGet, path, nil, nil)
}

// post sends a form as a same-origin browser form does.
func (p *page) post(path string, form url.Values, header http.Header) (int, string, string) {
	p.t.Helper()
	return p.send(http.MethodPost, path, form, header)
}

func (p *page) send(method, path string, form url.Values, header http.Header) (int, string, string) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(p.t.Context(), method, p.base+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", p.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (p *page) cookie(name string) *http.Cookie {
	u, _ := url.Parse(p.base)
	for _, c := range p.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a page of the team screen.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", body)
	}
	return m[1]
}

func newDemo(t *testing.T) (*App, *httptest.Server) {
	t.Helper()
	app, err := NewDemoApp(t.Context(), memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return app, srv
}

// demoMember returns the demo member with email, read through the SDK.
func demoMember(t *testing.T, app *App, email string) *sdk.Member {
	t.Helper()
	m, err := app.client.MemberByEmail(t.Context(), app.demoTenant, email)
	if err != nil {
		t.Fatalf("%s: %v", email, err)
	}
	return m
}

func TestDemoSeed(t *testing.T) {
	app, _ := newDemo(t)
	tn, err := app.client.Tenant(t.Context(), app.demoTenant)
	if err != nil {
		t.Fatal(err)
	}
	if tn.Slug != "acme" || tn.SeatLimit() != demoSeats || tn.SeatsUsed != len(demoPeople) {
		t.Fatalf("demo tenant: slug %q, %d of %d seats used", tn.Slug, tn.SeatsUsed, tn.SeatLimit())
	}
	for _, p := range demoPeople {
		m := demoMember(t, app, p.email)
		want := sdk.StatusActive
		if p.invited {
			want = sdk.StatusInvited
		}
		if m.Role != p.role || m.Status != want || m.GivenName != p.given || app.docs.count(m.ID) != p.documents {
			t.Errorf("%s: role %s, status %s, given %q, %d documents; want %+v", p.email, m.Role, m.Status, m.GivenName, app.docs.count(m.ID), p)
		}
	}
	if tn.OwnerID != demoMember(t, app, demoPeople[0].email).ID {
		t.Errorf("the owner is %s, not %s", tn.OwnerID, demoPeople[0].email)
	}
}

func TestDemoSignInAndTeamScreen(t *testing.T) {
	app, srv := newDemo(t)
	grace := demoMember(t, app, "grace@acme.test")
	edsger := demoMember(t, app, "edsger@acme.test")
	p := newPage(t, srv.URL)

	// Without a session the team screen sends the browser to the sign-in
	// page, which offers every active member and not the pending one.
	code, loc, _ := p.get("/team/")
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/?next=") {
		t.Fatalf("team screen without a session: %d → %q", code, loc)
	}
	code, _, body := p.get(loc)
	if code != http.StatusOK {
		t.Fatalf("sign-in page: %d", code)
	}
	for _, person := range demoPeople {
		has := strings.Contains(body, "Sign in as "+person.given)
		if has == person.invited {
			t.Errorf("sign-in page offers %s: %v", person.email, has)
		}
	}
	if !strings.Contains(body, `name="next" value="/team/"`) {
		t.Errorf("the sign-in forms do not send the browser back to /team/:\n%s", body)
	}

	// A pending invitee, an unknown id and another site's form are refused.
	if code, _, _ := p.post("/signin", url.Values{"member": {edsger.ID}}, nil); code != http.StatusForbidden {
		t.Errorf("signing in as the pending invitee: %d", code)
	}
	if code, _, _ := p.post("/signin", url.Values{"member": {"nobody"}}, nil); code != http.StatusForbidden {
		t.Errorf("signing in as nobody: %d", code)
	}
	if code, _, _ := p.post("/signin", url.Values{"member": {grace.ID}}, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.test"}}); code != http.StatusForbidden {
		t.Errorf("a cross-site sign-in: %d", code)
	}
	if p.cookie("sid") != nil {
		t.Fatal("a refused sign-in set a session cookie")
	}

	// Signing in as the admin: an HttpOnly, SameSite=Lax session cookie,
	// then the team screen, which draws her team.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/signin", strings.NewReader(url.Values{"member": {grace.ID}, "next": {"/team/audit"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/team/audit" {
		t.Fatalf("sign-in: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sid *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "sid" {
			sid = c
		}
	}
	if sid == nil || !sid.HttpOnly || sid.SameSite != http.SameSiteLaxMode || sid.Path != "/" {
		t.Fatalf("session cookie: %+v", sid)
	}
	code, _, body = p.get("/team/")
	if code != http.StatusOK {
		t.Fatalf("team screen: %d\n%s", code, body)
	}
	for _, person := range demoPeople {
		if !strings.Contains(body, `data-email="`+person.email+`"`) {
			t.Errorf("the members list has no row for %s", person.email)
		}
	}
	if want := "6 of 10 seats used"; !strings.Contains(body, want) {
		t.Errorf("the members list does not say %q", want)
	}
	if _, _, home := p.get("/"); !strings.Contains(home, "Signed in as <strong>Grace Hopper</strong>") {
		t.Errorf("the sign-in page does not say who is signed in:\n%s", home)
	}

	// A next that leaves the team screen is not followed.
	for _, next := range []string{"https://evil.test/", "//evil.test/team/", "/signout"} {
		if code, loc, _ := newPage(t, srv.URL).post("/signin", url.Values{"member": {grace.ID}, "next": {next}}, nil); code != http.StatusSeeOther || loc != "/team/" {
			t.Errorf("sign-in with next %q: %d → %q", next, code, loc)
		}
	}

	// Signing out drops the cookie; the team screen asks for a sign-in again.
	if code, loc, _ := p.post("/signout", url.Values{}, nil); code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("sign-out: %d → %q", code, loc)
	}
	if p.cookie("sid") != nil {
		t.Error("the session cookie outlived the sign-out")
	}
	if code, _, _ := p.get("/team/"); code != http.StatusSeeOther {
		t.Errorf("team screen after sign-out: %d", code)
	}
}

// TestDemoSignOutEverywhere: the team screen's "sign out everywhere" ends
// every session of the member, and the sign-out hook drops this browser's
// cookie.
func TestDemoSignOutEverywhere(t *testing.T) {
	app, srv := newDemo(t)
	alan := demoMember(t, app, "alan@acme.test")
	laptop, phone := newPage(t, srv.URL), newPage(t, srv.URL)
	for _, p := range []*page{laptop, phone} {
		if code, _, _ := p.post("/signin", url.Values{"member": {alan.ID}}, nil); code != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", code)
		}
	}
	_, _, body := laptop.get("/team/")
	code, _, _ := laptop.post("/team/me/signout-everywhere", url.Values{"csrf": {csrf(t, body)}}, nil)
	if code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", code)
	}
	if laptop.cookie("sid") != nil {
		t.Error("the sign-out hook did not drop the session cookie")
	}
	if code, _, _ := phone.get("/team/"); code != http.StatusSeeOther {
		t.Errorf("the other session still opens the team screen: %d", code)
	}
	if m := demoMember(t, app, "alan@acme.test"); m.SessionEpoch == alan.SessionEpoch {
		t.Error("the session epoch did not move")
	}
}

// TestDemoDeleteReassigns: deleting a member on the team screen moves
// their documents to the member chosen, through the demo's Reassigner.
func TestDemoDeleteReassigns(t *testing.T) {
	app, srv := newDemo(t)
	ada := demoMember(t, app, "ada@acme.test")
	grace := demoMember(t, app, "grace@acme.test")
	alan := demoMember(t, app, "alan@acme.test")
	before := app.docs.count(grace.ID) + app.docs.count(alan.ID)
	p := newPage(t, srv.URL)
	if code, _, _ := p.post("/signin", url.Values{"member": {ada.ID}}, nil); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	code, _, body := p.get("/team/members/" + alan.ID + "/delete")
	if code != http.StatusOK || !strings.Contains(body, `name="reassign_to"`) {
		t.Fatalf("delete page: %d\n%s", code, body)
	}
	code, _, body = p.post("/team/members/"+alan.ID+"/delete", url.Values{"csrf": {csrf(t, body)}, "reassign_to": {grace.ID}, "confirm": {"yes"}}, nil)
	if code != http.StatusSeeOther && code != http.StatusOK {
		t.Fatalf("delete: %d\n%s", code, body)
	}
	if _, err := app.client.Member(t.Context(), app.demoTenant, alan.ID); err == nil {
		t.Fatal("alan is still a member")
	}
	if got := app.docs.count(grace.ID); got != before || app.docs.count(alan.ID) != 0 {
		t.Errorf("grace owns %d documents, alan %d; want %d and 0", got, app.docs.count(alan.ID), before)
	}
}

var inviteLink = regexp.MustCompile(`<output id="invite-link"[^>]*>([^<]+)</output>`)

// TestDemoInviteAndJoin: an invitation made on the team screen gives a
// link to the demo's accept page, where the invitee joins and lands on the
// team screen signed in; the link works once.
func TestDemoInviteAndJoin(t *testing.T) {
	app, srv := newDemo(t)
	ada := demoMember(t, app, "ada@acme.test")
	admin := newPage(t, srv.URL)
	if code, _, _ := admin.post("/signin", url.Values{"member": {ada.ID}}, nil); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", code)
	}
	_, _, form := admin.get("/team/invite")
	// The link is on the answer to the post itself, never on a page that
	// can be fetched again.
	code, _, body := admin.post("/team/invitations", url.Values{"csrf": {csrf(t, form)}, "email": {"barbara@acme.test"}, "role": {"standard"}}, nil)
	if code != http.StatusOK {
		t.Fatalf("invite: %d", code)
	}
	m := inviteLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no invitation link on the page:\n%s", body)
	}
	link, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil || link.Path != "/accept" || link.Query().Get("secret") == "" {
		t.Fatalf("invitation link %q", m[1])
	}

	invitee := newPage(t, srv.URL)
	code, _, body = invitee.get(link.RequestURI())
	if code != http.StatusOK || !strings.Contains(body, `action="/join"`) {
		t.Fatalf("accept page: %d\n%s", code, body)
	}
	join := url.Values{"secret": {link.Query().Get("secret")}, "given": {"Barbara"}, "family": {"Liskov"}}
	if code, loc, _ := invitee.post("/join", join, nil); code != http.StatusSeeOther || loc != "/team/" {
		t.Fatalf("join: %d → %q", code, loc)
	}
	if got := demoMember(t, app, "barbara@acme.test"); got.Status != sdk.StatusActive || got.GivenName != "Barbara" {
		t.Errorf("after joining: %s %q", got.Status, got.GivenName)
	}
	if code, _, _ := invitee.get("/team/"); code != http.StatusOK {
		t.Errorf("the new member's team screen: %d", code)
	}
	code, _, body = newPage(t, srv.URL).post("/join", join, nil)
	if code != http.StatusConflict || !strings.Contains(body, `id="error"`) {
		t.Errorf("joining twice with one link: %d\n%s", code, body)
	}
}
