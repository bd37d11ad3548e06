package ui_test

// The seed flows, each walked in headless Chromium on a tenant of its own
// (see browser_test.go for the harness). Every flow checks the state it
// leaves through the SDK, not only what the page says.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster/sdk"
)

// clickConfirmed clicks sel and, when the screen asks for a confirmation
// in its dialog first, confirms it; then it waits for the page the action
// leads to.
func (tb *tab) clickConfirmed(sel string) {
	tb.t.Helper()
	tb.waitFor(sel)
	tb.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__rosterStale = true`))
	tb.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(stepTimeout)
	for {
		state, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`!window.__rosterStale && document.readyState === "complete" ? "loaded" :
			(document.querySelector("#confirm-dialog[open]") ? "dialog" : "")`))
		if err == nil && state == "loaded" {
			return
		}
		if err == nil && state == "dialog" {
			tb.shot("confirm-dialog")
			tb.do("confirm", chromedp.Click(chromedp.CSS(`#confirm-dialog [data-action="confirm"]`)))
			tb.waitLoaded("after confirming " + sel)
			return
		}
		if time.Now().After(deadline) {
			tb.fail("clicking %s led to no page and no confirmation (last error: %v)", sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rowEmails returns the data-email of every row of the members table.
func (tb *tab) rowEmails() []string {
	tb.t.Helper()
	return eval[[]string](tb, `[...document.querySelectorAll("#members tr[data-member-id]")].map(r => r.dataset.email)`)
}

// bulkResults returns the bulk results table: member id → data-result.
func (tb *tab) bulkResults() map[string]string {
	tb.t.Helper()
	tb.waitFor("#bulk-results")
	return eval[map[string]string](tb, `Object.fromEntries([...document.querySelectorAll("#bulk-results tr[data-member-id]")].map(r => [r.dataset.memberId, r.dataset.result]))`)
}

// wantFlash fails unless the status message is there and not empty.
func (tb *tab) wantFlash(what string) {
	tb.t.Helper()
	if tb.has("#error") {
		tb.fail("%s: refused: %s", what, tb.text("#error"))
	}
	if tb.text("#flash") == "" {
		tb.fail("%s: no status message", what)
	}
}

// TestBrowserActiveCampaign walks ActiveCampaign's "Users and groups":
// the list, Add user, Edit, Delete (reassigning the member's content
// first) and the checkboxes' bulk delete.
func TestBrowserActiveCampaign(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{Name: "Acme Marketing"})
	admin := s.add("Ada", "Admin", "ada@acme.test", "admin")
	sam := s.add("Sam", "Sales", "sam@acme.test", "standard")
	pat := s.add("Pat", "Support", "pat@acme.test", "standard")
	lee := s.add("Lee", "Lists", "lee@acme.test", "standard")
	tb := s.open()

	// The list: every member, the seats used.
	tb.signIn(admin, "/")
	tb.shot("members")
	got := tb.rowEmails()
	for _, m := range []*sdk.Member{s.owner, admin, sam, pat, lee} {
		if !slices.Contains(got, m.Email) {
			t.Errorf("the list has no row for %s (rows: %v)", m.Email, got)
		}
	}
	if want := fmt.Sprintf("%d of 10 seats used", s.readTenant().SeatsUsed); tb.text("#seats") != want {
		t.Errorf("seats: %q, want %q", tb.text("#seats"), want)
	}

	// Add user.
	tb.click(action("", "add-member"))
	tb.set("#given", "Nora")
	tb.set("#family", "New")
	tb.set("#email", "nora@acme.test")
	tb.set("#role", "standard")
	tb.shot("add-user-form")
	tb.submit("#email")
	tb.wantFlash("add user")
	tb.shot("user-added")
	nora := s.memberByEmail("nora@acme.test")
	if nora == nil {
		tb.fail("nora@acme.test is not a member after Add user")
	}
	if nora.GivenName != "Nora" || nora.FamilyName != "New" || nora.Role != "standard" || nora.Status != sdk.StatusActive {
		t.Errorf("added member: %q %q %s %s", nora.GivenName, nora.FamilyName, nora.Role, nora.Status)
	}
	if tb.visit("/"); !tb.has(row(nora)) {
		tb.fail("no row for the added member")
	}

	// Edit: change the family name.
	tb.click(action(row(sam), "edit-profile"))
	tb.shot("edit-user")
	tb.set(`input[name="family"]`, "Sales-Lead")
	tb.submit(`input[name="family"]`)
	tb.wantFlash("edit profile")
	if m := s.member(sam.ID); m.FamilyName != "Sales-Lead" || m.GivenName != "Sam" {
		t.Errorf("after the edit: %q %q", m.GivenName, m.FamilyName)
	}

	// Delete, reassigning Pat's content to Sam.
	tb.visit("/")
	tb.click(action(row(pat), "delete"))
	tb.shot("delete-confirm")
	if v := eval[string](tb, `document.querySelector("select[name=reassign_to]").value`); v != s.owner.ID {
		t.Errorf("reassign_to defaults to %q, not the owner %s", v, s.owner.ID)
	}
	if tb.has(`select[name="reassign_to"] option[value="` + pat.ID + `"]`) {
		t.Error("the delete page offers to reassign to the member deleted")
	}
	tb.set(`select[name="reassign_to"]`, sam.ID)
	if tb.has(`input[type="checkbox"][name="confirm"]`) {
		tb.check(`input[type="checkbox"][name="confirm"]`)
	}
	tb.submit(`select[name="reassign_to"]`)
	tb.wantFlash("delete")
	tb.shot("deleted")
	if s.member(pat.ID) != nil {
		t.Error("Pat is still a member after the delete")
	}
	if calls := s.reassignCalls(); len(calls) != 1 || calls[0] != (reassignCall{s.tenant.ID, pat.ID, sam.ID}) {
		t.Errorf("reassigner calls: %+v, want one from Pat to Sam", calls)
	}
	if !strings.Contains(tb.html(), "API key ci-deploy") {
		t.Error("the page does not show what the reassigner reported broken")
	}

	// Bulk delete: tick Lee and Nora, delete both.
	tb.visit("/")
	tb.check(row(lee) + ` input[type="checkbox"][name="id"]`)
	tb.check(row(nora) + ` input[type="checkbox"][name="id"]`)
	tb.shot("bulk-selected")
	tb.clickConfirmed(action("#bulk", "bulk-delete"))
	tb.shot("bulk-deleted")
	res := tb.bulkResults()
	if len(res) != 2 || res[lee.ID] != "ok" || res[nora.ID] != "ok" {
		t.Errorf("bulk delete results: %v", res)
	}
	for _, m := range []*sdk.Member{lee, nora} {
		if s.member(m.ID) != nil {
			t.Errorf("%s is still a member after the bulk delete", m.Email)
		}
	}
	if s.member(sam.ID) == nil || s.member(admin.ID) == nil {
		t.Error("the bulk delete removed a member it was not given")
	}
}

// TestBrowserPartnerPortal walks the Partner Portal's Force logout and
// bulk force logout, on the primary_admin > admin preset where admins
// manage each other and only the primary admin is protected.
func TestBrowserPartnerPortal(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{Name: "Partner Portal", RolePreset: sdk.PresetPrimaryAdmin})
	alex := s.add("Alex", "Admin", "alex@partner.test", "admin")
	bo := s.add("Bo", "Admin", "bo@partner.test", "admin")
	cy := s.add("Cy", "Admin", "cy@partner.test", "admin")
	dee := s.add("Dee", "Admin", "dee@partner.test", "admin")
	tb := s.open()

	tb.signIn(alex, "/")
	tb.shot("members")
	if tb.has(action(row(s.owner), "force-logout")) {
		t.Error("an admin is offered to force the primary admin's logout")
	}
	if tb.has(row(s.owner) + ` input[name="id"]`) {
		t.Error("an admin may select the primary admin for bulk actions")
	}

	// Force logout of one admin by another.
	tb.clickConfirmed(action(row(bo), "force-logout"))
	tb.wantFlash("force logout")
	tb.shot("forced-logout")
	assertLoggedOut(t, s, bo)
	for _, m := range []*sdk.Member{cy, dee, alex} {
		if got := s.member(m.ID); got.SessionEpoch != m.SessionEpoch {
			t.Errorf("%s was logged out too", m.Email)
		}
	}

	// Bulk force logout of two.
	tb.visit("/")
	tb.check(row(cy) + ` input[name="id"]`)
	tb.check(row(dee) + ` input[name="id"]`)
	tb.clickConfirmed(action("#bulk", "bulk-logout"))
	tb.shot("bulk-forced-logout")
	if res := tb.bulkResults(); len(res) != 2 || res[cy.ID] != "ok" || res[dee.ID] != "ok" {
		t.Errorf("bulk force logout results: %v", res)
	}
	assertLoggedOut(t, s, cy)
	assertLoggedOut(t, s, dee)
	if s.member(alex.ID).SessionEpoch != alex.SessionEpoch {
		t.Error("the acting admin was logged out")
	}
}

// assertLoggedOut checks that m's sessions from before ended.
func assertLoggedOut(t *testing.T, s *screen, m *sdk.Member) {
	t.Helper()
	got := s.member(m.ID)
	if got.SessionEpoch <= m.SessionEpoch {
		t.Errorf("%s: session epoch %d, not past %d", m.Email, got.SessionEpoch, m.SessionEpoch)
	}
	valid, err := s.client.SessionValid(context.Background(), s.tenant.ID, m.ID, m.SessionEpoch)
	if err != nil || valid {
		t.Errorf("%s: a session from before the force logout is still valid (%v)", m.Email, err)
	}
}

// inviteSecret returns the secret of an invitation link.
func inviteSecret(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("secret") == "" {
		t.Fatalf("the invitation link %q carries no secret", link)
	}
	return u.Query().Get("secret")
}

// TestBrowserConstantContact walks Constant Contact's users page:
// invitations shown once, Resend and Revoke of a pending one, role
// changes, Deactivate and Reactivate — as an account manager of the
// campaigns preset.
func TestBrowserConstantContact(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{Name: "Bakery Newsletter", RolePreset: sdk.PresetCampaigns})
	manager := s.add("Mia", "Manager", "mia@bakery.test", "account_manager")
	carl := s.add("Carl", "Creator", "carl@bakery.test", "campaign_creator")
	tb := s.open()
	tb.signIn(manager, "/")

	// Invite: the link is shown once.
	tb.click(action("", "invite"))
	tb.set("#email", "ivy@bakery.test")
	tb.set("#given", "Ivy")
	tb.set("#role", "campaign_creator")
	tb.shot("invite-form")
	tb.submit("#email")
	tb.shot("invite-link")
	link := tb.text("#invite-link")
	secret := inviteSecret(t, link)
	ivy := s.memberByEmail("ivy@bakery.test")
	if ivy == nil || ivy.Status != sdk.StatusInvited || ivy.Role != "campaign_creator" {
		tb.fail("after the invitation: %+v", ivy)
	}
	// The link is the answer to the post: a reload posts the invitation
	// again, which the SDK refuses (the address is taken) without showing
	// a link; opening the page's address, the member's page or the list
	// shows no secret either.
	linkPage := eval[string](tb, `location.href`)
	tb.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__rosterStale = true`))
	tb.do("reload", chromedp.Reload())
	tb.waitLoaded("reload")
	tb.shot("invite-reloaded")
	if tb.has("#invite-link") || strings.Contains(tb.html(), secret) {
		t.Error("the invitation link is shown again on reload")
	}
	if again := s.memberByEmail("ivy@bakery.test"); again == nil || again.ID != ivy.ID {
		t.Errorf("the reload changed the invitee: %+v", again)
	}
	for _, path := range []string{strings.TrimPrefix(linkPage, s.srv.URL), "/team/members/" + ivy.ID} {
		tb.navigate(path)
		if tb.has("#invite-link") || strings.Contains(tb.html(), secret) {
			t.Errorf("%s shows the invitation link again", path)
		}
	}
	tb.visit("/?status=invited")
	tb.shot("pending-invitations")
	if got := tb.rowEmails(); len(got) != 1 || got[0] != "ivy@bakery.test" {
		t.Errorf("pending invitations: %v", got)
	}
	if strings.Contains(tb.html(), secret) {
		t.Error("the members list shows the invitation's secret")
	}

	// Resend, past the SDK's minimum interval between two: a new link,
	// the old one dead.
	s.clock.advance(2 * time.Minute)
	tb.clickConfirmed(action(row(ivy), "resend"))
	tb.shot("resent")
	newLink := tb.text("#invite-link")
	newSecret := inviteSecret(t, newLink)
	if newSecret == secret {
		t.Error("the resend showed the old link")
	}
	if _, err := s.client.Accept(context.Background(), sdk.AcceptRequest{Secret: secret}); err == nil {
		t.Error("the first link still accepts after the resend")
	}

	// Revoke: the invited member is gone and the link says so.
	tb.visit("/?status=invited")
	tb.clickConfirmed(action(row(ivy), "revoke"))
	tb.wantFlash("revoke")
	tb.shot("revoked")
	if s.member(ivy.ID) != nil {
		t.Error("the revoked invitee is still a member")
	}
	if _, err := s.client.Accept(context.Background(), sdk.AcceptRequest{Secret: newSecret}); err == nil {
		t.Error("the revoked invitation's link still accepts")
	}
	pending, err := s.client.ListInvitations(context.Background(), s.tenant.ID, sdk.ListInvitationsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range pending.Items {
		if inv.MemberID == ivy.ID {
			t.Errorf("the revoked invitation is still pending: %+v", inv)
		}
	}

	// Change role.
	tb.visit("/")
	tb.click(action(row(carl), "change-role"))
	tb.set(`select[name="role"]`, "account_manager")
	tb.shot("change-role")
	tb.submit(`select[name="role"]`)
	tb.wantFlash("change role")
	if m := s.member(carl.ID); m.Role != "account_manager" {
		t.Errorf("Carl's role: %s", m.Role)
	}
	if err := func() error {
		_, err := s.client.ChangeRole(context.Background(), sdk.MemberActor(s.owner.ID), s.tenant.ID, carl.ID, "campaign_creator")
		return err
	}(); err != nil {
		t.Fatal(err)
	}

	// Deactivate, then reactivate.
	tb.visit("/")
	tb.clickConfirmed(action(row(carl), "deactivate"))
	tb.wantFlash("deactivate")
	tb.shot("deactivated")
	if m := s.member(carl.ID); m.Status != sdk.StatusDeactivated {
		t.Errorf("after deactivate: %s", m.Status)
	}
	tb.visit("/")
	if tb.has(action(row(carl), "deactivate")) {
		t.Error("a deactivated member still has a Deactivate button")
	}
	tb.clickConfirmed(action(row(carl), "reactivate"))
	tb.wantFlash("reactivate")
	tb.shot("reactivated")
	if m := s.member(carl.ID); m.Status != sdk.StatusActive {
		t.Errorf("after reactivate: %s", m.Status)
	}
}

// TestBrowserAmpliPhi walks AmpliPhi's role table and ownership transfer
// on a tenant with its own role set: a wrong confirmation email is
// refused and changes nothing, the new owner's email transfers.
func TestBrowserAmpliPhi(t *testing.T) {
	t.Parallel()
	roles := []sdk.Role{
		{Name: "owner", Rank: 400, Permissions: []sdk.Permission{sdk.PermTeamManage, sdk.PermBillingManage, sdk.PermTenantDelete}},
		{Name: "administrator", Rank: 300, Permissions: []sdk.Permission{sdk.PermTeamManage, sdk.PermBillingManage}},
		{Name: "editor", Rank: 200, Permissions: []sdk.Permission{sdk.PermCampaignsCreate}},
		{Name: "viewer", Rank: 100},
	}
	s := newScreen(t, sdk.CreateTenantRequest{Name: "AmpliPhi", Roles: roles})
	nina := s.add("Nina", "Next", "nina@ampliphi.test", "administrator")
	ed := s.add("Ed", "Editor", "ed@ampliphi.test", "editor")
	vic := s.add("Vic", "Viewer", "vic@ampliphi.test", "viewer")
	tb := s.open()

	// The role table: each member's role, every role to filter by and
	// to give.
	tb.signIn(s.owner, "/")
	tb.shot("role-table")
	for _, r := range roles {
		if !tb.has(`#f-role option[value="` + r.Name + `"]`) {
			t.Errorf("the role filter has no %s", r.Name)
		}
	}
	if got := tb.text(row(nina)); !strings.Contains(got, "administrator") {
		t.Errorf("Nina's row does not show her role: %q", got)
	}

	// Bulk role change, one result per member: Vic leaves while the page
	// is open, so his row is refused and Ed's goes through.
	tb.check(row(ed) + ` input[name="id"]`)
	tb.check(row(vic) + ` input[name="id"]`)
	if err := s.client.RemoveMember(context.Background(), sdk.MemberActor(s.owner.ID), s.tenant.ID, vic.ID); err != nil {
		t.Fatal(err)
	}
	tb.set(`#bulk select[name="role"]`, "viewer")
	tb.clickConfirmed(action("#bulk", "bulk-role"))
	tb.shot("bulk-role")
	if res := tb.bulkResults(); len(res) != 2 || res[ed.ID] != "ok" || res[vic.ID] != "refused" {
		t.Errorf("bulk role results: %v, want Ed ok and Vic refused", res)
	}
	if msg := tb.text(`#bulk-results tr[data-member-id="` + vic.ID + `"]`); msg == "" {
		t.Error("the refused row gives no reason")
	}
	if m := s.member(ed.ID); m.Role != "viewer" {
		t.Errorf("Ed's role after the bulk change: %s", m.Role)
	}
	tb.visit("/")

	// Ownership transfer: the wrong email is refused.
	tb.click(action("", "transfer-ownership"))
	tb.set(`select[name="to"]`, nina.ID)
	tb.typeInto(`input[name="confirm_email"]`, "someone@ampliphi.test")
	tb.shot("transfer-wrong-email")
	tb.submit(`input[name="confirm_email"]`)
	tb.shot("transfer-refused")
	if !tb.has("#error") || tb.text("#error") == "" {
		tb.fail("a transfer confirmed with the wrong email shows no error")
	}
	if tn := s.readTenant(); tn.OwnerID != s.owner.ID {
		t.Fatalf("the wrong email transferred the ownership to %s", tn.OwnerID)
	}

	// …the right one transfers.
	tb.visit("/ownership")
	tb.set(`select[name="to"]`, nina.ID)
	tb.typeInto(`input[name="confirm_email"]`, nina.Email)
	tb.submit(`input[name="confirm_email"]`)
	tb.wantFlash("transfer")
	tb.shot("transferred")
	tn := s.readTenant()
	if tn.OwnerID != nina.ID {
		t.Fatalf("the owner is %s, not Nina", tn.OwnerID)
	}
	if m := s.member(nina.ID); m.Role != "owner" {
		t.Errorf("the new owner's role: %s", m.Role)
	}
	if m := s.member(s.owner.ID); m.Role != "administrator" {
		t.Errorf("the old owner's role: %s, want the successor role administrator", m.Role)
	}
	tb.visit("/")
	if tb.has(action("", "transfer-ownership")) {
		t.Error("the old owner is still offered the ownership transfer")
	}
}

// TestBrowserListFilters: the members list pages by sdk.DefaultPageSize
// and filters by search, status and role.
func TestBrowserListFilters(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{IncludedSeats: 100})
	zed := s.add("Zed", "Zephyr", "zed@acme.test", "admin")
	var all []string
	for i := range sdk.DefaultPageSize + 5 {
		all = append(all, s.add("Member", fmt.Sprintf("N%02d", i), fmt.Sprintf("m%02d@acme.test", i), "standard").Email)
	}
	all = append(all, s.owner.Email, zed.Email)
	for _, email := range all[:2] {
		m := s.memberByEmail(email)
		if _, err := s.client.Deactivate(context.Background(), sdk.MemberActor(s.owner.ID), s.tenant.ID, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	tb := s.open()
	tb.signIn(s.owner, "/")
	if got, want := tb.text("#seats"), fmt.Sprintf("%d of 100 seats used", len(all)); got != want {
		t.Errorf("seats: %q, want %q", got, want)
	}
	first := tb.rowEmails()
	if len(first) != sdk.DefaultPageSize {
		t.Errorf("the first page has %d rows, want %d", len(first), sdk.DefaultPageSize)
	}
	tb.click(`a[rel="next"]`)
	tb.shot("second-page")
	second := tb.rowEmails()
	seen := map[string]bool{}
	for _, e := range append(first, second...) {
		if seen[e] {
			t.Errorf("%s is on both pages", e)
		}
		seen[e] = true
	}
	for _, e := range all {
		if !seen[e] {
			t.Errorf("%s is on neither page", e)
		}
	}
	if tb.has(`a[rel="next"]`) {
		t.Error("the last page links to a next one")
	}

	tb.visit("/")
	tb.set(`input[name="q"]`, "zep")
	tb.submit(`input[name="q"]`)
	tb.shot("search")
	if got := tb.rowEmails(); len(got) != 1 || got[0] != zed.Email {
		t.Errorf("search zep: %v", got)
	}
	tb.visit("/")
	tb.set(`select[name="status"]`, string(sdk.StatusDeactivated))
	tb.submit(`select[name="status"]`)
	if got := tb.rowEmails(); len(got) != 2 || !slices.Contains(got, all[0]) || !slices.Contains(got, all[1]) {
		t.Errorf("status deactivated: %v", got)
	}
	tb.visit("/")
	tb.set(`select[name="role"]`, "admin")
	tb.submit(`select[name="role"]`)
	tb.shot("role-admin")
	if got := tb.rowEmails(); len(got) != 1 || got[0] != zed.Email {
		t.Errorf("role admin: %v", got)
	}
}

// adminActions are the controls a standard member must not see.
var adminActions = []string{
	"add-member", "invite", "resend", "revoke", "change-role", "deactivate", "reactivate",
	"force-logout", "delete", "bulk-delete", "bulk-logout", "bulk-role", "transfer-ownership",
	"add-seats", "remove-seats",
}

// TestBrowserStandardMember: a member without team:manage sees the team
// but no control to change it, on the list and on another member's page.
func TestBrowserStandardMember(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{})
	stan := s.add("Stan", "Standard", "stan@acme.test", "standard")
	other := s.add("Oscar", "Other", "oscar@acme.test", "standard")
	tb := s.open()
	tb.signIn(stan, "/")
	tb.shot("members-as-standard")
	if got := tb.rowEmails(); !slices.Contains(got, other.Email) || !slices.Contains(got, s.owner.Email) {
		t.Errorf("a standard member does not see the team: %v", got)
	}
	for _, path := range []string{"/", "/members/" + other.ID} {
		tb.visit(path)
		for _, a := range adminActions {
			if tb.has(action("", a)) {
				t.Errorf("%s: a standard member sees the %s control", path, a)
			}
		}
	}
	if tb.has(`#members input[type="checkbox"][name="id"]`) {
		t.Error("a standard member may select members for bulk actions")
	}
}

// TestBrowserFrench: the screen mounted with ui.WithLanguage("fr") speaks
// French.
func TestBrowserFrench(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{})
	s.add("Zoé", "Admin", "zoe@acme.test", "admin")
	tb := s.open()
	tb.navigate("/signin?member=" + s.owner.ID + "&next=/fr/team/")
	tb.shot("members-fr")
	if lang := eval[string](tb, `document.documentElement.lang`); lang != "fr" {
		t.Errorf(`<html lang=%q>, want "fr"`, lang)
	}
	if got, want := tb.text("#seats"), fmt.Sprintf("%d sur 10 places utilisées", s.readTenant().SeatsUsed); got != want {
		t.Errorf("seats: %q, want %q", got, want)
	}
	if got := tb.text(action("", "add-member")); strings.Contains(strings.ToLower(got), "add") || got == "" {
		t.Errorf("the add-member control is not in French: %q", got)
	}
}

// TestBrowserKeyboard: the row and bulk controls are reachable with the
// keyboard alone — Tab to a row's checkbox, Space ticks it, Shift+Tab back
// to the (now enabled) bulk delete, Enter asks for a confirmation, Escape
// cancels it — and a row's Delete is reachable with Tab.
func TestBrowserKeyboard(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{})
	kay := s.add("Kay", "Keys", "kay@acme.test", "standard")
	tb := s.open()
	tb.signIn(s.owner, "/")
	focused := func() string {
		return eval[string](tb, `(e => !e ? "" : e.dataset.action || (e.name === "id" ? "row-checkbox" : e.tagName.toLowerCase()))(document.activeElement)`)
	}
	press := func(key string, back bool) {
		if back {
			tb.do("shift+"+key, chromedp.KeyEvent(key, chromedp.KeyModifiers(chromedp.ModifierShift)))
		} else {
			tb.do(key, chromedp.KeyEvent(key))
		}
	}
	tabTo := func(want string, back bool) {
		t.Helper()
		var seen []string
		for range 60 {
			press("\t", back)
			f := focused()
			if f == want {
				return
			}
			seen = append(seen, f)
		}
		tb.fail("Tab never focused %s (focused in turn: %v)", want, seen)
	}
	tabTo("row-checkbox", false)
	press(" ", false)
	if !eval[bool](tb, `document.activeElement.checked`) {
		tb.fail("Space did not tick the focused row")
	}
	tabTo("bulk-delete", true)
	tb.shot("bulk-delete-focused")
	press("\r", false)
	tb.waitFor("#confirm-dialog[open]")
	tb.shot("confirm-dialog")
	if eval[string](tb, `document.activeElement.closest("dialog") ? "in" : "out"`) != "in" {
		t.Error("the confirmation dialog did not take the focus")
	}
	press(kb.Escape, false)
	deadline := time.Now().Add(stepTimeout)
	for tb.has("#confirm-dialog[open]") {
		if time.Now().After(deadline) {
			tb.fail("Escape did not close the confirmation")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s.member(kay.ID) == nil {
		t.Fatal("cancelling the confirmation deleted the member")
	}
	tabTo("delete", false)
	tb.shot("delete-focused")
}

// TestBrowserSeatsAndAudit buys and removes extra seats, then finds the
// changes in the audit log, filtered by action.
func TestBrowserSeatsAndAudit(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{IncludedSeats: 3})
	s.add("Al", "One", "al@acme.test", "standard")
	tb := s.open()
	tb.signIn(s.owner, "/")
	tb.click(`a[data-action="seats"]`)
	tb.shot("seats")
	tb.setFormField(action("", "add-seats"), "n", "3")
	tb.click(action("", "add-seats"))
	tb.wantFlash("add seats")
	if tn := s.readTenant(); tn.ExtraSeats != 3 || tn.SeatLimit() != 6 {
		t.Errorf("after buying 3 seats: %d extra, limit %d", tn.ExtraSeats, tn.SeatLimit())
	}
	if got, want := tb.text("#seats"), "2 of 6 seats used"; got != want {
		t.Errorf("seats page after buying: %q, want %q", got, want)
	}
	tb.setFormField(action("", "remove-seats"), "n", "2")
	tb.clickConfirmed(action("", "remove-seats"))
	tb.wantFlash("remove seats")
	tb.shot("seats-changed")
	if tn := s.readTenant(); tn.ExtraSeats != 1 {
		t.Errorf("after removing two seats: %d extra", tn.ExtraSeats)
	}
	tb.visit("/")
	if got, want := tb.text("#seats"), "2 of 4 seats used"; got != want {
		t.Errorf("seats: %q, want %q", got, want)
	}

	tb.click(action("", "audit"))
	tb.shot("audit")
	events := eval[[]string](tb, `[...document.querySelectorAll("#audit tr[data-event]")].map(r => r.dataset.event)`)
	if !slices.Contains(events, string(sdk.EventMemberAdded)) {
		t.Errorf("the audit log has no %s: %v", sdk.EventMemberAdded, events)
	}
	tb.set(`select[name="action"]`, string(sdk.EventMemberAdded))
	tb.submit(`select[name="action"]`)
	tb.shot("audit-filtered")
	events = eval[[]string](tb, `[...document.querySelectorAll("#audit tr[data-event]")].map(r => r.dataset.event)`)
	if len(events) == 0 {
		t.Error("the audit log filtered by member.added is empty")
	}
	for _, e := range events {
		if e != string(sdk.EventMemberAdded) {
			t.Errorf("the audit log filtered by %s shows %s", sdk.EventMemberAdded, e)
		}
	}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestBrowserCSRF (over plain HTTP): a form post without the CSRF token,
// or with another member's, is refused and changes nothing; the page's own
// token works.
func TestBrowserCSRF(t *testing.T) {
	t.Parallel()
	s := newScreen(t, sdk.CreateTenantRequest{})
	admin := s.add("Ada", "Admin", "ada@acme.test", "admin")
	target := s.add("Tom", "Target", "tom@acme.test", "standard")
	get := func(as *sdk.Member, path string) string {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.srv.URL+"/team"+path, nil)
		req.AddCookie(&http.Cookie{Name: "member", Value: as.ID})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	post := func(as *sdk.Member, path string, form url.Values) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.srv.URL+"/team"+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "member", Value: as.ID})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	m := csrfInput.FindStringSubmatch(get(admin, "/"))
	if m == nil {
		t.Fatal("the members list has no CSRF token")
	}
	ownerToken := csrfInput.FindStringSubmatch(get(s.owner, "/"))[1]
	for name, form := range map[string]url.Values{
		"no token":         {},
		"empty token":      {"csrf": {""}},
		"forged token":     {"csrf": {"1700000000.AAAA"}},
		"another's token":  {"csrf": {ownerToken}},
		"token in the URL": nil,
	} {
		path := "/members/" + target.ID + "/deactivate"
		if form == nil {
			path += "?csrf=" + url.QueryEscape(m[1])
			form = url.Values{}
		}
		if code := post(admin, path, form); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
		if got := s.member(target.ID); got.Status != sdk.StatusActive {
			t.Fatalf("%s: the refused post deactivated the member", name)
		}
	}
	if code := post(admin, "/members/"+target.ID+"/deactivate", url.Values{"csrf": {m[1]}}); code != http.StatusSeeOther {
		t.Errorf("with the page's token: %d, want 303", code)
	}
	if got := s.member(target.ID); got.Status != sdk.StatusDeactivated {
		t.Errorf("with the page's token the member is %s", got.Status)
	}
}
