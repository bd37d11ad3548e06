package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestBulkResultsPerMember(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	// The admin may log out a standard member but not the owner nor another
	// admin: one result per member, the refusals with their reasons.
	form := url.Values{"action": {"logout"}, "id": {f.std.ID, f.owner.ID, f.admin2.ID}}
	r := f.post(t, f.admin, "/team/bulk", form)
	mustCode(t, r, http.StatusOK)
	for _, want := range []string{
		`<tr data-member-id="` + f.std.ID + `" data-result="ok">`,
		`<tr data-member-id="` + f.owner.ID + `" data-result="refused">`,
		`<tr data-member-id="` + f.admin2.ID + `" data-result="refused">`,
		messagesEN["reason.target_is_owner"], messagesEN["reason.rank_too_low"],
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("results lack %s", want)
		}
	}
	if got := flashOf(r.body); got != "1 done, 2 refused." {
		t.Errorf("flash %q", got)
	}
	if f.member(t, f.std.ID).SessionEpoch != 1 || f.member(t, f.owner.ID).SessionEpoch != 0 {
		t.Error("bulk logout did not do what it reported")
	}

	r = f.post(t, f.owner, "/team/bulk", url.Values{"action": {"role"}, "role": {"admin"}, "id": {f.std.ID}})
	mustCode(t, r, http.StatusOK)
	if f.member(t, f.std.ID).Role != "admin" {
		t.Error("bulk role change did not change the role")
	}
}

func TestBulkDeleteAsksToConfirm(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	form := url.Values{"action": {"delete"}, "id": {f.std.ID, f.deact.ID}}
	r := f.post(t, f.owner, "/team/bulk", form)
	mustCode(t, r, http.StatusOK)
	if !strings.Contains(r.body, `id="bulk-confirm"`) || !strings.Contains(r.body, `name="confirm" value="yes"`) || strings.Contains(r.body, `id="bulk-results"`) {
		t.Fatalf("no confirmation page:\n%s", r.body)
	}
	f.member(t, f.std.ID) // nothing deleted yet
	form.Set("confirm", "yes")
	r = f.post(t, f.owner, "/team/bulk", form)
	mustCode(t, r, http.StatusOK)
	if strings.Count(r.body, `data-result="ok"`) != 2 {
		t.Errorf("results:\n%s", r.body)
	}
	for _, id := range []string{f.std.ID, f.deact.ID} {
		if _, err := f.c.Member(t.Context(), f.t.ID, id); err == nil {
			t.Errorf("member %s not deleted", id)
		}
	}
}

func TestBulkBadInput(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	for _, c := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"action": {"logout"}}, messagesEN["bulk_none"]},
		{url.Values{"action": {"explode"}, "id": {f.std.ID}}, messagesEN["bulk_unknown"]},
	} {
		r := f.post(t, f.owner, "/team/bulk", c.form)
		mustCode(t, r, http.StatusBadRequest)
		if errorOf(r.body) != c.msg {
			t.Errorf("%v: error %q", c.form, errorOf(r.body))
		}
	}
	if f.member(t, f.std.ID).SessionEpoch != 0 {
		t.Error("bad input wrote")
	}
}

func TestOwnershipTransferNeedsTypedEmail(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	page := f.get(t, f.owner, "/team/ownership?to="+f.admin.ID)
	mustCode(t, page, http.StatusOK)
	if !strings.Contains(page.body, `<option value="`+f.admin.ID+`" data-email="admin@acme.test" selected>`) || !strings.Contains(page.body, `name="confirm_email"`) {
		t.Fatalf("ownership form:\n%s", page.body)
	}
	if strings.Contains(page.body, `value="`+f.deact.ID+`"`) || strings.Contains(page.body, `<option value="`+f.owner.ID+`"`) {
		t.Error("the form offers a member who cannot become owner")
	}
	r := f.post(t, f.owner, "/team/ownership", url.Values{"to": {f.admin.ID}, "confirm_email": {"admin2@acme.test"}})
	mustCode(t, r, http.StatusBadRequest)
	if errorOf(r.body) != messagesEN["ownership_mismatch"] {
		t.Errorf("error %q", errorOf(r.body))
	}
	if tt, _ := f.c.Tenant(t.Context(), f.t.ID); tt.OwnerID != f.owner.ID {
		t.Fatal("ownership moved on a mismatched email")
	}
	r = f.post(t, f.owner, "/team/ownership", url.Values{"to": {f.admin.ID}, "confirm_email": {"Admin@Acme.test"}})
	mustCode(t, r, http.StatusSeeOther)
	if tt, _ := f.c.Tenant(t.Context(), f.t.ID); tt.OwnerID != f.admin.ID {
		t.Error("ownership did not move")
	}
	// Not the owner any more: the form is refused with the reason.
	r = f.get(t, f.owner, "/team/ownership")
	mustCode(t, r, http.StatusForbidden)
	if errorOf(r.body) != messagesEN["reason.owner_only"] || strings.Contains(r.body, `name="confirm_email"`) {
		t.Errorf("former owner's ownership page:\n%s", r.body)
	}
}

func TestSeats(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	r := f.post(t, f.admin, "/team/seats", url.Values{"op": {"add"}, "n": {"3"}})
	mustCode(t, r, http.StatusSeeOther)
	page := f.get(t, f.admin, r.hdr.Get("Location"))
	if !strings.Contains(page.body, `<p id="seats">6 of 13 seats used</p>`) || flashOf(page.body) != "Seats bought." {
		t.Errorf("seats page:\n%s", page.body)
	}
	for _, bad := range []string{"two", "", "9999999999999999999999"} {
		r = f.post(t, f.admin, "/team/seats", url.Values{"op": {"add"}, "n": {bad}})
		mustCode(t, r, http.StatusBadRequest)
		if errorOf(r.body) != messagesEN["seats_bad_n"] {
			t.Errorf("n=%q: error %q", bad, errorOf(r.body))
		}
	}
	// The range is the SDK's rule: its refusal is shown, nothing bought.
	for _, bad := range []string{"0", "-2", "10000001"} {
		r = f.post(t, f.admin, "/team/seats", url.Values{"op": {"add"}, "n": {bad}})
		mustCode(t, r, http.StatusBadRequest)
		if msg := errorOf(r.body); !strings.Contains(msg, "between 1 and 10000000") {
			t.Errorf("n=%q: error %q, want the SDK's range", bad, msg)
		}
	}
	if tn, err := f.c.Tenant(t.Context(), f.t.ID); err != nil || tn.SeatLimit() != 13 {
		t.Fatalf("seat limit after refused purchases: %v, %v; want 13", tn, err)
	}
	r = f.post(t, f.admin, "/team/seats", url.Values{"op": {"remove"}, "n": {"3"}})
	mustCode(t, r, http.StatusSeeOther)
	// Below the seats in use: refused by the SDK, nothing changes.
	if _, err := f.c.AddSeats(t.Context(), sdk.SystemActor(), f.t.ID, 1); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := f.c.AddMember(t.Context(), sdk.SystemActor(), sdk.AddMemberRequest{TenantID: f.t.ID, Email: sdk.NewID() + "@acme.test"}); err != nil {
			t.Fatal(err)
		}
	}
	r = f.post(t, f.admin, "/team/seats", url.Values{"op": {"remove"}, "n": {"1"}})
	mustCode(t, r, http.StatusConflict)
	if errorOf(r.body) != messagesEN["reason.seats_in_use"] {
		t.Errorf("error %q", errorOf(r.body))
	}
	if tt, _ := f.c.Tenant(t.Context(), f.t.ID); tt.ExtraSeats != 1 {
		t.Errorf("extra seats %d", tt.ExtraSeats)
	}
	// A standard member may not manage seats: no form, the reason instead.
	r = f.get(t, f.std, "/team/seats")
	if strings.Contains(r.body, `data-action="add-seats"`) || !strings.Contains(r.body, messagesEN["reason.missing_permission"]) {
		t.Errorf("standard member's seats page:\n%s", r.body)
	}
}

func TestAuditFilters(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	if _, err := f.c.ForceLogout(t.Context(), sdk.MemberActor(f.owner.ID), f.t.ID, f.std.ID); err != nil {
		t.Fatal(err)
	}
	r := f.get(t, f.admin, "/team/audit?action=member.logged_out")
	mustCode(t, r, http.StatusOK)
	if strings.Count(r.body, `<tr data-event="member.logged_out">`) != 1 || strings.Contains(r.body, `data-event="member.added"`) {
		t.Errorf("filtered audit:\n%s", r.body)
	}
	r = f.get(t, f.admin, "/team/audit?target="+f.std.ID)
	if !strings.Contains(r.body, `data-event="member.added"`) || !strings.Contains(r.body, `data-event="member.logged_out"`) || strings.Contains(r.body, `data-event="member.deactivated"`) {
		t.Errorf("audit by target:\n%s", r.body)
	}
	r = f.get(t, f.admin, "/team/audit?channel=carrier-pigeon")
	mustCode(t, r, http.StatusBadRequest)
	if !strings.HasPrefix(errorOf(r.body), "Channel: must be one of") {
		t.Errorf("error %q", errorOf(r.body))
	}
	r = f.get(t, f.std, "/team/audit")
	mustCode(t, r, http.StatusForbidden)
	if errorOf(r.body) != messagesEN["reason.missing_permission"] || strings.Contains(r.body, `<table id="audit">`) {
		t.Errorf("standard member's audit page:\n%s", r.body)
	}
}
