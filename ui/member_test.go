package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestMemberActionsWrite(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	id := f.std.ID
	steps := []struct {
		path  string
		form  url.Values
		flash string
		check func(m *sdk.Member) bool
	}{
		{"/profile", url.Values{"given": {"Stanley"}, "family": {"Test"}, "display": {""}, "email": {"stanley@acme.test"}}, "Profile saved.",
			func(m *sdk.Member) bool { return m.GivenName == "Stanley" && m.Email == "stanley@acme.test" }},
		{"/role", url.Values{"role": {"admin"}}, "Role changed.", func(m *sdk.Member) bool { return m.Role == "admin" }},
		{"/logout", nil, "Every session of the member ended.", func(m *sdk.Member) bool { return m.SessionEpoch == 1 }},
		{"/deactivate", nil, "Member deactivated; their sessions ended.", func(m *sdk.Member) bool { return m.Status == sdk.StatusDeactivated }},
		{"/reactivate", nil, "Member reactivated.", func(m *sdk.Member) bool { return m.Status == sdk.StatusActive }},
	}
	for _, s := range steps {
		r := f.post(t, f.owner, "/team/members/"+id+s.path, s.form)
		mustCode(t, r, http.StatusSeeOther)
		loc := r.hdr.Get("Location")
		if !strings.HasPrefix(loc, "/team/members/"+id+"?flash=") {
			t.Fatalf("%s: redirected to %q", s.path, loc)
		}
		if got := flashOf(f.get(t, f.owner, loc).body); got != s.flash {
			t.Errorf("%s: flash %q, want %q", s.path, got, s.flash)
		}
		if m := f.member(t, id); !s.check(m) {
			t.Errorf("%s: member after it: %+v", s.path, m)
		}
	}
}

func TestMemberActionRefusedShowsReason(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	// An admin may not act on another admin (equal rank) in the standard
	// preset: the page has no control for it, and a forged POST is refused
	// by the SDK with the reason's message; nothing changes.
	r := f.post(t, f.admin, "/team/members/"+f.admin2.ID+"/deactivate", nil)
	mustCode(t, r, http.StatusForbidden)
	if got, want := errorOf(r.body), messagesEN["reason.rank_too_low"]; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if m := f.member(t, f.admin2.ID); m.Status != sdk.StatusActive {
		t.Errorf("admin2 is %s", m.Status)
	}
	// French: the same refusal in the catalog's words.
	f.h.lang = french
	r = f.post(t, f.admin, "/team/members/"+f.owner.ID+"/role", url.Values{"role": {"standard"}})
	mustCode(t, r, http.StatusConflict)
	if got, want := errorOf(r.body), messagesFR["reason.target_is_owner"]; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
}

func TestDeleteNeedsConfirmation(t *testing.T) {
	hook := sdk.ReassignFunc(func(context.Context, string, string, string) (sdk.ReassignResult, error) {
		return sdk.ReassignResult{}, nil
	})
	f := newFxWith(t, sdk.PresetStandard, []sdk.Option{sdk.WithReassigner(hook)})
	page := f.get(t, f.owner, "/team/members/"+f.std.ID+"/delete")
	mustCode(t, page, http.StatusOK)
	for _, want := range []string{`name="confirm" value="yes"`, `name="reassign_to"`, `<option value="` + f.owner.ID + `" selected>`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("delete page lacks %s", want)
		}
	}
	if strings.Contains(page.body, `<option value="`+f.std.ID+`"`) {
		t.Error("the member deleted is offered as the reassignment target")
	}
	r := f.post(t, f.owner, "/team/members/"+f.std.ID+"/delete", url.Values{"reassign_to": {f.admin.ID}})
	mustCode(t, r, http.StatusBadRequest)
	if errorOf(r.body) != messagesEN["confirm_required"] {
		t.Errorf("error %q", errorOf(r.body))
	}
	f.member(t, f.std.ID) // still there
	r = f.post(t, f.owner, "/team/members/"+f.std.ID+"/delete", url.Values{"reassign_to": {f.admin.ID}, "confirm": {"yes"}})
	mustCode(t, r, http.StatusOK)
	if flashOf(r.body) != "Member deleted." || !strings.Contains(r.body, "all sessions of std@acme.test") {
		t.Errorf("deleted page:\n%s", r.body)
	}
	if _, err := f.c.Member(t.Context(), f.t.ID, f.std.ID); err == nil {
		t.Error("member still there")
	}
}

// TestDeleteWithoutHook: a host without a Reassigner gets no reassignment
// choice (it would be dropped), and a forged reassign_to is refused by the
// SDK with the member kept.
func TestDeleteWithoutHook(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	page := f.get(t, f.owner, "/team/members/"+f.std.ID+"/delete")
	mustCode(t, page, http.StatusOK)
	if strings.Contains(page.body, `name="reassign_to"`) || strings.Contains(page.body, `id="reassign-search"`) {
		t.Error("delete page offers a reassignment no hook would perform")
	}
	if !strings.Contains(page.body, `name="confirm" value="yes"`) {
		t.Error("delete page lacks the confirmation")
	}
	r := f.post(t, f.owner, "/team/members/"+f.std.ID+"/delete", url.Values{"reassign_to": {f.admin.ID}, "confirm": {"yes"}})
	if r.code == http.StatusOK || errorOf(r.body) == "" {
		t.Errorf("forged reassign_to: %d, error %q; want a refusal", r.code, errorOf(r.body))
	}
	f.member(t, f.std.ID) // still there
	r = f.post(t, f.owner, "/team/members/"+f.std.ID+"/delete", url.Values{"confirm": {"yes"}})
	mustCode(t, r, http.StatusOK)
	if _, err := f.c.Member(t.Context(), f.t.ID, f.std.ID); err == nil {
		t.Error("member still there")
	}
}

func TestDeleteReassignsThroughHostHook(t *testing.T) {
	var from, to string
	hook := sdk.ReassignFunc(func(_ context.Context, _, a, b string) (sdk.ReassignResult, error) {
		from, to = a, b
		return sdk.ReassignResult{Reassigned: map[string]int{"deals": 3}, Broken: []string{"API key <ci-deploy>"}}, nil
	})
	f := newFxWith(t, sdk.PresetStandard, []sdk.Option{sdk.WithReassigner(hook)})
	r := f.post(t, f.owner, "/team/members/"+f.std.ID+"/delete", url.Values{"reassign_to": {f.admin.ID}, "confirm": {"yes"}})
	mustCode(t, r, http.StatusOK)
	if from != f.std.ID || to != f.admin.ID {
		t.Errorf("hook called with (%s, %s)", from, to)
	}
	for _, want := range []string{"<li>3 deals</li>", "<li>API key &lt;ci-deploy&gt;</li>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("deleted page lacks %s", want)
		}
	}
	// Reassigning to an inactive member is refused by the SDK: the
	// confirmation page comes back with the reason, the member stays.
	r = f.post(t, f.owner, "/team/members/"+f.admin2.ID+"/delete", url.Values{"reassign_to": {f.deact.ID}, "confirm": {"yes"}})
	mustCode(t, r, http.StatusConflict)
	if got := errorOf(r.body); got != messagesEN["reason.target_not_active"] {
		t.Errorf("error %q", got)
	}
	f.member(t, f.admin2.ID)
}

func TestResendShowsNewLinkOnceAndRevoke(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	r := f.post(t, f.admin, "/team/members/"+f.invited.ID+"/resend", nil)
	mustCode(t, r, http.StatusOK)
	if !strings.Contains(r.body, `<output id="invite-link" aria-labelledby="invite-link-label">http://example.com/accept?secret=inv_`) {
		t.Fatalf("no link in\n%s", r.body)
	}
	link := r.body[strings.Index(r.body, "secret=")+len("secret=") : strings.Index(r.body, "</output>")]
	// The secret is in that response only: no later page shows it.
	for _, p := range []string{"/team/", "/team/members/" + f.invited.ID, "/team/audit"} {
		if body := f.get(t, f.owner, p).body; strings.Contains(body, link) || strings.Contains(body, `id="invite-link"`) {
			t.Errorf("%s shows the invitation secret again", p)
		}
	}
	// A second resend within the minute is refused with the reason.
	r = f.post(t, f.admin, "/team/members/"+f.invited.ID+"/resend", nil)
	mustCode(t, r, http.StatusTooManyRequests)
	if errorOf(r.body) != messagesEN["reason.resend_rate_limited"] {
		t.Errorf("error %q", errorOf(r.body))
	}
	r = f.post(t, f.admin, "/team/members/"+f.invited.ID+"/revoke", nil)
	mustCode(t, r, http.StatusSeeOther)
	if loc := r.hdr.Get("Location"); loc != "/team/?flash=revoked" {
		t.Errorf("redirect %q", loc)
	}
	if _, err := f.c.Member(t.Context(), f.t.ID, f.invited.ID); err == nil {
		t.Error("revoked invitee still a member")
	}
}

func TestSignOutEverywhere(t *testing.T) {
	hooked := false
	f := newFx(t, sdk.PresetStandard, WithSignOutHook(func(w http.ResponseWriter, r *http.Request) {
		hooked = true
		http.SetCookie(w, &http.Cookie{Name: "sid", MaxAge: -1})
	}))
	r := f.post(t, f.std, "/team/me/signout-everywhere", nil)
	mustCode(t, r, http.StatusSeeOther)
	if !hooked || !strings.Contains(r.hdr.Get("Set-Cookie"), "sid=") {
		t.Error("the sign-out hook did not run")
	}
	if m := f.member(t, f.std.ID); m.SessionEpoch != 1 {
		t.Errorf("session epoch %d", m.SessionEpoch)
	}
}

// TestProfileEditIsConditional: the member page carries the version it was
// drawn from, so a profile saved from a page that another change has
// overtaken is refused (ReasonVersionMismatch through the SDK) instead of
// overwriting that change; a fresh page saves.
func TestProfileEditIsConditional(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	page := f.get(t, f.owner, "/team/members/"+f.std.ID)
	mustCode(t, page, http.StatusOK)
	drawn := f.member(t, f.std.ID).Version
	if !strings.Contains(page.body, `name="version" value="`+strconv.FormatInt(drawn, 10)+`"`) {
		t.Fatalf("member page does not carry version %d", drawn)
	}
	title := "Overtaking"
	if _, err := f.c.UpdateProfile(t.Context(), sdk.SystemActor(), sdk.UpdateProfileRequest{TenantID: f.t.ID, MemberID: f.std.ID, FamilyName: &title}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"family": {"Stale"}, "version": {strconv.FormatInt(drawn, 10)}}
	r := f.post(t, f.owner, "/team/members/"+f.std.ID+"/profile", form)
	mustCode(t, r, http.StatusConflict)
	if got := f.member(t, f.std.ID).FamilyName; got != "Overtaking" {
		t.Errorf("family name %q after a stale save, want the overtaking change kept", got)
	}
	form.Set("version", strconv.FormatInt(f.member(t, f.std.ID).Version, 10))
	r = f.post(t, f.owner, "/team/members/"+f.std.ID+"/profile", form)
	mustCode(t, r, http.StatusSeeOther)
	if got := f.member(t, f.std.ID).FamilyName; got != "Stale" {
		t.Errorf("family name %q after a fresh save", got)
	}
}
