package ui

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestMembersListSeatsSummary(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	r := f.get(t, f.owner, "/team/")
	mustCode(t, r, http.StatusOK)
	if !strings.Contains(r.body, `<p id="seats">6 of 10 seats used</p>`) {
		t.Errorf("no seats summary in\n%s", r.body)
	}
}

func TestAddAndInvite(t *testing.T) {
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

func TestMembersListFilters(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	ids := func(path string) []string {
		t.Helper()
		r := f.get(t, f.owner, path)
		mustCode(t, r, http.StatusOK)
		var out []string
		for id := range rows(r.body) {
			out = append(out, f.member(t, id).Email)
		}
		slices.Sort(out)
		return out
	}
	for path, want := range map[string][]string{
		"/team/?status=invited":              {"invited@acme.test"},
		"/team/?status=deactivated":          {"deact@acme.test"},
		"/team/?role=admin":                  {"admin2@acme.test", "admin@acme.test"},
		"/team/?q=AD":                        {"admin2@acme.test", "admin@acme.test"},
		"/team/?q=stan":                      {"std@acme.test"}, // given name
		"/team/?role=standard&status=active": {"std@acme.test"},
		"/team/?q=nobody":                    nil,
	} {
		if got := ids(path); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	r := f.get(t, f.owner, "/team/?status=sleeping")
	mustCode(t, r, http.StatusBadRequest)
	if !strings.Contains(errorOf(r.body), "sleeping") {
		t.Errorf("error %q", errorOf(r.body))
	}
	r = f.get(t, f.owner, "/team/?cursor=%21%21")
	mustCode(t, r, http.StatusBadRequest)
}

func TestMembersListPaging(t *testing.T) {
	f := newFx(t, sdk.PresetStandard)
	for i := range 50 {
		if _, err := f.c.AddSeats(t.Context(), sdk.SystemActor(), f.t.ID, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.AddMember(t.Context(), sdk.SystemActor(), sdk.AddMemberRequest{TenantID: f.t.ID, Email: fmt.Sprintf("p%02d@acme.test", i)}); err != nil {
			t.Fatal(err)
		}
	}
	first := f.get(t, f.owner, "/team/?status=active")
	if n := len(rows(first.body)); n != 50 {
		t.Fatalf("%d rows on page 1", n)
	}
	m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatal("no next link")
	}
	next := html.UnescapeString(m[1])
	if !strings.Contains(next, "status=active") {
		t.Errorf("next link %q drops the filter", next)
	}
	second := f.get(t, f.owner, next)
	got := rows(second.body)
	// 4 active members of the fixture and 50 added: 4 on page 2.
	if len(got) != 4 || strings.Contains(second.body, `rel="next"`) || !strings.Contains(second.body, messagesEN["first_page"]) {
		t.Errorf("page 2: %d rows\n%s", len(got), second.body)
	}
	for id := range got {
		if _, dup := rows(first.body)[id]; dup {
			t.Errorf("%s on both pages", id)
		}
	}
}
