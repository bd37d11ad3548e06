package ui

import (
	"errors"
	"html"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	en, fr := slices.Sorted(maps.Keys(messagesEN)), slices.Sorted(maps.Keys(messagesFR))
	for _, k := range en {
		if _, ok := messagesFR[k]; !ok {
			t.Errorf("French lacks %q", k)
		}
	}
	for _, k := range fr {
		if _, ok := messagesEN[k]; !ok {
			t.Errorf("English lacks %q", k)
		}
	}
	// Every reason a policy decision can give has its sentence.
	for _, r := range []sdk.Reason{sdk.ReasonSeatLimit, sdk.ReasonTargetIsOwner, sdk.ReasonSelfAction, sdk.ReasonRankTooLow,
		sdk.ReasonRoleAboveActor, sdk.ReasonMissingPermission, sdk.ReasonNotMember, sdk.ReasonInactive, sdk.ReasonOwnerOnly,
		sdk.ReasonOwnerRole, sdk.ReasonTargetNotActive, sdk.ReasonUnknownRole} {
		if !english.Has("reason." + string(r)) {
			t.Errorf("no message for reason %s", r)
		}
	}
	for _, e := range sdk.AuditActions {
		if !english.Has("event." + string(e)) {
			t.Errorf("no label for event %s", e)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for header, want := range map[string]string{
		"":                              "en",
		"fr":                            "fr",
		"fr-CA,fr;q=0.9,en;q=0.8":       "fr",
		"en-US,en;q=0.9,fr;q=0.8":       "en",
		"de-DE,de;q=0.9,fr;q=0.5":       "fr",
		"de, en;q=0.1, fr;q=0.2":        "fr",
		"fr;q=0, en;q=0.3":              "en",
		"FR-be":                         "fr",
		"*":                             "en",
		"fr;q=bogus, en;q=0.1":          "en",
		"es, it":                        "en",
		"en;q=0.5, fr;q=0.5":            "en", // a tie: the first listed
		"  fr ; q=0.7 ,  en ; q=0.6   ": "fr",
	} {
		if got := negotiate(header).lang; got != want {
			t.Errorf("negotiate(%q) = %s, want %s", header, got, want)
		}
	}
}

func TestLanguage(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/team/", nil)
	r.Header.Set("X-Member", f.owner.ID)
	r.Header.Set("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	body := w.Body.String()
	for _, want := range []string{`<html lang="fr">`, `<p id="seats">6 sur 10 places utilisées</p>`, `data-action="add-member">Ajouter un membre</a>`, "Désactivé"} {
		if !strings.Contains(body, want) {
			t.Errorf("French page lacks %s", want)
		}
	}
	// WithLanguage wins over the header.
	f.h.lang = english
	w = httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `<html lang="en">`) {
		t.Error("WithLanguage(en) did not fix the language")
	}
	if WithLanguage("xx")(f.h); f.h.lang != english {
		t.Error("an unknown language changed the handler's")
	}
	// New says so in the log rather than dropping it silently.
	var logs strings.Builder
	New("/team", f.c, nil, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), WithLanguage("de"))
	if !strings.Contains(logs.String(), "language=de") {
		t.Errorf("WithLanguage(de) logged %q; want a warning naming it", logs.String())
	}
}

func TestCSRF(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	other := f.h.token(Identity{TenantID: f.t.ID, MemberID: f.admin.ID}, time.Now())
	old := f.h.token(Identity{TenantID: f.t.ID, MemberID: f.owner.ID}, time.Now().Add(-13*time.Hour))
	for name, tok := range map[string]string{
		"missing": "", "another member's": other, "expired": old, "garbage": "abc", "forged": "1700000000.AAAA",
	} {
		r := f.post(t, f.owner, "/team/members/"+f.std.ID+"/deactivate", url.Values{"csrf": {tok}})
		mustCode(t, r, http.StatusForbidden)
		if errorOf(r.body) != messagesEN["csrf_text"] {
			t.Errorf("%s token: error %q", name, errorOf(r.body))
		}
	}
	// A valid token from a cross-site page is refused too.
	form := url.Values{"csrf": {f.h.token(Identity{TenantID: f.t.ID, MemberID: f.owner.ID}, time.Now())}}
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/team/members/"+f.std.ID+"/deactivate", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Member", f.owner.ID)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	mustCode(t, resp{code: w.Code, body: w.Body.String()}, http.StatusForbidden)
	if m := f.member(t, f.std.ID); m.Status != sdk.StatusActive {
		t.Error("a refused form deactivated the member")
	}
	// Every form of a page carries the token.
	page := f.get(t, f.owner, "/team/members/"+f.std.ID).body
	if forms, tokens := strings.Count(page, `method="post"`), strings.Count(page, `name="csrf"`); forms == 0 || forms != tokens {
		t.Errorf("%d POST forms, %d tokens", forms, tokens)
	}
}

func TestSignedOut(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	r := f.get(t, nil, "/team/")
	mustCode(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.body, messagesEN["signed_out_text"]) || strings.Contains(r.body, "owner@acme.test") {
		t.Errorf("signed-out page:\n%s", r.body)
	}
	f.h.signIn = "/login"
	r = f.get(t, nil, "/team/members/new?x=1")
	mustCode(t, r, http.StatusSeeOther)
	if loc := r.hdr.Get("Location"); loc != "/login?next="+url.QueryEscape("/team/members/new?x=1") {
		t.Errorf("redirect %q", loc)
	}
	// A signed-in member the tenant does not know is refused.
	r = f.get(t, &sdk.Member{ID: "nobody"}, "/team/")
	mustCode(t, r, http.StatusForbidden)
	if errorOf(r.body) != messagesEN["forbidden_text"] || strings.Contains(r.body, "owner@acme.test") {
		t.Errorf("stranger's page:\n%s", r.body)
	}
}

func TestEscapesEverything(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	evil := `<script>alert(1)</script>`
	if _, err := f.c.UpdateProfile(t.Context(), sdk.SystemActor(), sdk.UpdateProfileRequest{TenantID: f.t.ID, MemberID: f.std.ID,
		GivenName: &evil, DisplayName: &evil}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/team/", "/team/members/" + f.std.ID, "/team/members/" + f.std.ID + "/delete", "/team/audit",
		"/team/?q=" + url.QueryEscape(`"><script>x</script>`)} {
		body := f.get(t, f.owner, p).body
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<script>x") {
			t.Errorf("%s renders markup from data", p)
		}
	}
	// A flash is a key of the catalog, never text from the query.
	body := f.get(t, f.owner, "/team/?flash="+url.QueryEscape("You won a prize")).body
	if flashOf(body) != "" {
		t.Errorf("forged flash %q shown", flashOf(body))
	}
}

func TestUnknownErrorsAreLogged(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	rq := &request{r: httptest.NewRequest(http.MethodGet, "/team/", nil), cat: english}
	status, msg := f.h.explain(rq, errors.New("disk on fire at 10.0.0.7"))
	if status != http.StatusInternalServerError || msg != messagesEN["error_generic"] {
		t.Errorf("explain: %d %q", status, msg)
	}
	if !strings.Contains(f.logs.String(), "disk on fire") {
		t.Error("the cause was not logged")
	}
	// An SDK error without a catalogued reason shows the SDK's sentence.
	_, msg = f.h.explain(rq, &sdk.Error{Code: sdk.CodeFailedPrecondition, Reason: "brand_new", Message: "the SDK says why"})
	if msg != "the SDK says why" {
		t.Errorf("message %q", msg)
	}
}

func TestMountAndAssets(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	r := f.get(t, f.owner, "/team")
	mustCode(t, r, http.StatusMovedPermanently)
	if r.hdr.Get("Location") != "/team/" {
		t.Errorf("redirect %q", r.hdr.Get("Location"))
	}
	mustCode(t, f.get(t, f.owner, "/teamwork/"), http.StatusNotFound)
	for path, ctype := range map[string]string{"/team/static/ui.css": "text/css", "/team/static/ui.js": "text/javascript"} {
		r := f.get(t, nil, path) // assets need no sign-in
		mustCode(t, r, http.StatusOK)
		if !strings.HasPrefix(r.hdr.Get("Content-Type"), ctype) || len(r.body) < 100 {
			t.Errorf("%s: %s, %d bytes", path, r.hdr.Get("Content-Type"), len(r.body))
		}
	}
	page := f.get(t, f.owner, "/team/")
	if csp := page.hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || page.hdr.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", page.hdr)
	}
	if page.hdr.Get("Set-Cookie") != "" {
		t.Error("the screen set a cookie")
	}
	// Mounted at the root.
	root := New("", f.c, func(*http.Request) (Identity, error) { return Identity{TenantID: f.t.ID, MemberID: f.owner.ID}, nil })
	w := httptest.NewRecorder()
	root.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/members/"+f.std.ID, nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `action="/members/`+f.std.ID+`/deactivate"`) {
		t.Errorf("root mount: %d\n%s", w.Code, w.Body.String())
	}
}

func TestLastActivity(t *testing.T) {
	seen := time.Date(2026, 11, 30, 17, 4, 0, 0, time.UTC)
	var asked []string
	f := newFx(t, sdk.PresetStandard, WithLastActivity(func(_ *http.Request, _ string, ids []string) map[string]time.Time {
		asked = ids
		return map[string]time.Time{ids[1]: seen}
	}))
	body := f.get(t, f.owner, "/team/").body
	if len(asked) != 6 || !strings.Contains(body, "<td>2026-11-30 17:04 UTC</td>") || !strings.Contains(body, messagesEN["last_activity"]) {
		t.Errorf("asked %v; page:\n%s", asked, body)
	}
	g := newFx(t, sdk.PresetStandard)
	r := g.get(t, g.owner, "/team/")
	mustCode(t, r, http.StatusOK)
	if strings.Contains(r.body, messagesEN["last_activity"]) {
		t.Error("a last-activity column without the option")
	}
}

func TestAddMemberRefusals(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	form := url.Values{"given": {"Dup"}, "email": {"ADMIN@acme.test"}, "role": {"standard"}, "password": {"correct horse battery staple"}}
	r := f.post(t, f.admin, "/team/members", form)
	mustCode(t, r, http.StatusConflict)
	if errorOf(r.body) != messagesEN["reason.email_taken"] || strings.Contains(r.body, "correct horse") || !strings.Contains(r.body, `value="Dup"`) {
		t.Errorf("refused add:\n%s", r.body)
	}
	// An admin cannot grant the owner role nor a role above their own.
	r = f.post(t, f.admin, "/team/members", url.Values{"email": {"up@acme.test"}, "role": {"owner"}})
	if r.code == http.StatusSeeOther {
		t.Fatal("an admin added an owner")
	}
	if _, err := f.c.MemberByEmail(t.Context(), f.t.ID, "up@acme.test"); err == nil {
		t.Error("a refused add wrote a member")
	}
	// At the seat limit: no add or invite control, the reason instead.
	if _, err := f.c.AddSeats(t.Context(), sdk.SystemActor(), f.t.ID, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := f.c.AddMember(t.Context(), sdk.SystemActor(), sdk.AddMemberRequest{TenantID: f.t.ID, Email: "fill" + string(rune('a'+i)) + "@acme.test"}); err != nil {
			t.Fatal(err)
		}
	}
	body := f.get(t, f.admin, "/team/").body
	if got := actions(body); slices.Contains(got, "add-member") || slices.Contains(got, "invite") || !strings.Contains(body, html.EscapeString(messagesEN["reason.seat_limit"])) {
		t.Errorf("full tenant: actions %v", got)
	}
	r = f.get(t, f.admin, "/team/invite")
	mustCode(t, r, http.StatusForbidden)
	if errorOf(r.body) != messagesEN["reason.seat_limit"] || strings.Contains(r.body, `id="invite-form"`) {
		t.Errorf("full tenant's invite page:\n%s", r.body)
	}
}
