package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestMembersListSmoke(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	r := f.get(t, f.owner, "/team/")
	mustCode(t, r, http.StatusOK)
	if !strings.Contains(r.body, `<p id="seats">6 of 10 seats used</p>`) {
		t.Errorf("no seats summary in\n%s", r.body)
	}
}

func TestAddAndInviteSmoke(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	r := f.post(t, f.admin, "/team/members", url.Values{"given": {"Neo"}, "family": {"New"}, "email": {"neo@acme.test"}, "role": {"standard"}})
	mustCode(t, r, http.StatusSeeOther)
	if got := flashOf(f.get(t, f.admin, r.hdr.Get("Location")).body); got != "Member added." {
		t.Errorf("flash %q", got)
	}
	r = f.post(t, f.admin, "/team/invitations", url.Values{"email": {"x@acme.test"}, "role": {"standard"}})
	mustCode(t, r, http.StatusOK)
	if !strings.Contains(r.body, `<output id="invite-link" aria-labelledby="invite-link-label">http://example.com/accept?secret=inv_`) {
		t.Errorf("no invitation link in\n%s", r.body)
	}
	r = f.post(t, f.admin, "/team/members", url.Values{"email": {"bad"}, "role": {"standard"}})
	mustCode(t, r, http.StatusBadRequest)
	if got := errorOf(r.body); got != `Email: "bad" is not a valid email address` {
		t.Errorf("error %q", got)
	}
}
