package ui

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// nav is what the layout draws for an active member who may manage the
// team and billing.
var navAll = []string{"seats", "audit", "signout-everywhere"}

func sorted(s ...[]string) []string {
	var out []string
	for _, x := range s {
		out = append(out, x...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sameSet(got, want []string) bool { return slices.Equal(sorted(got), sorted(want)) }

// TestListActionsByRole renders the members list for each kind of actor
// and checks which controls appear, for the page and for each row.
func TestListActionsByRole(t *testing.T) {
	manage := []string{"edit-profile", "change-role", "deactivate", "force-logout", "delete", "select"}
	invite := []string{"edit-profile", "change-role", "resend", "revoke", "select"}
	reactivate := []string{"edit-profile", "change-role", "reactivate", "delete", "select"}
	self := []string{"edit-profile"}
	none := []string(nil)

	type want struct {
		page []string
		rows func(f *fx) map[string][]string
	}
	cases := []struct {
		name   string
		preset sdk.RolePreset
		actor  func(f *fx) *sdk.Member
		want   want
	}{
		{"owner", sdk.PresetStandard, func(f *fx) *sdk.Member { return f.owner }, want{
			sorted(navAll, []string{"add-member", "invite", "transfer-ownership", "bulk-delete", "bulk-logout", "bulk-role", "cancel", "confirm"}),
			func(f *fx) map[string][]string {
				return map[string][]string{f.owner.ID: self, f.admin.ID: manage, f.admin2.ID: manage, f.std.ID: manage, f.invited.ID: invite, f.deact.ID: reactivate}
			}}},
		{"admin", sdk.PresetStandard, func(f *fx) *sdk.Member { return f.admin }, want{
			sorted(navAll, []string{"add-member", "invite", "bulk-delete", "bulk-logout", "bulk-role", "cancel", "confirm"}),
			func(f *fx) map[string][]string {
				// Another admin is of equal rank: out of reach in this preset.
				return map[string][]string{f.owner.ID: none, f.admin.ID: self, f.admin2.ID: none, f.std.ID: manage, f.invited.ID: invite, f.deact.ID: reactivate}
			}}},
		{"standard", sdk.PresetStandard, func(f *fx) *sdk.Member { return f.std }, want{
			[]string{"signout-everywhere", "cancel", "confirm"},
			func(f *fx) map[string][]string {
				return map[string][]string{f.owner.ID: none, f.admin.ID: none, f.admin2.ID: none, f.std.ID: self, f.invited.ID: none, f.deact.ID: none}
			}}},
		{"primary_admin", sdk.PresetPrimaryAdmin, func(f *fx) *sdk.Member { return f.owner }, want{
			// Two roles: no member can be given another one than theirs
			// (the owner's moves by transfer only), so no role control.
			sorted(navAll, []string{"add-member", "invite", "transfer-ownership", "bulk-delete", "bulk-logout", "cancel", "confirm"}),
			func(f *fx) map[string][]string {
				m := []string{"edit-profile", "deactivate", "force-logout", "delete", "select"}
				return map[string][]string{f.owner.ID: self, f.admin.ID: m, f.admin2.ID: m,
					f.invited.ID: {"edit-profile", "resend", "revoke"}, f.deact.ID: {"edit-profile", "reactivate", "delete", "select"}}
			}}},
		{"admin in primary_admin", sdk.PresetPrimaryAdmin, func(f *fx) *sdk.Member { return f.admin }, want{
			// Admins act on each other (equal rank allowed); there is no
			// role they could give (the only other is the owner's).
			sorted(navAll, []string{"add-member", "invite", "bulk-delete", "bulk-logout", "cancel", "confirm"}),
			func(f *fx) map[string][]string {
				return map[string][]string{f.owner.ID: none, f.admin.ID: self, f.admin2.ID: {"edit-profile", "deactivate", "force-logout", "delete", "select"},
					f.invited.ID: {"edit-profile", "resend", "revoke"}, f.deact.ID: {"edit-profile", "reactivate", "delete", "select"}}
			}}},
		{"deactivated", sdk.PresetStandard, func(f *fx) *sdk.Member { return f.deact }, want{
			[]string{"cancel", "confirm"},
			func(f *fx) map[string][]string {
				return map[string][]string{f.owner.ID: none, f.admin.ID: none, f.admin2.ID: none, f.std.ID: none, f.invited.ID: none, f.deact.ID: none}
			}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t, c.preset)
			r := f.get(t, c.actor(f), "/team/")
			mustCode(t, r, http.StatusOK)
			page := r.body[:strings.Index(r.body, `<table id="members">`)] + r.body[strings.Index(r.body, `</table>`):]
			if got := actions(page); !sameSet(got, c.want.page) {
				t.Errorf("page actions %v, want %v", sorted(got), sorted(c.want.page))
			}
			got := rows(r.body)
			want := c.want.rows(f)
			if len(got) != len(want) {
				t.Errorf("%d rows, want %d", len(got), len(want))
			}
			for id, w := range want {
				if g, ok := got[id]; !ok || !sameSet(g, w) {
					t.Errorf("row %s: %v, want %v", f.member(t, id).Email, sorted(g), sorted(w))
				}
			}
			if c.name == "deactivated" && !strings.Contains(r.body, messagesEN["reason.inactive"]) {
				t.Error("the deactivated actor is not told why nothing can be done")
			}
		})
	}
}

// TestScreensByRole renders every other screen for each kind of actor and
// checks the status and the controls drawn.
func TestScreensByRole(t *testing.T) {
	type screen struct {
		path    func(f *fx) string
		code    int
		actions []string
	}
	memberOf := func(m func(f *fx) *sdk.Member) func(f *fx) string {
		return func(f *fx) string { return "/team/members/" + m(f).ID }
	}
	std := func(f *fx) *sdk.Member { return f.std }
	owner := func(f *fx) *sdk.Member { return f.owner }
	inv := func(f *fx) *sdk.Member { return f.invited }
	path := func(p string) func(*fx) string { return func(*fx) string { return p } }
	cases := []struct {
		name    string
		actor   func(f *fx) *sdk.Member
		screens []screen
	}{
		{"owner", owner, []screen{
			{memberOf(std), 200, sorted(navAll, []string{"edit-profile", "change-role", "deactivate", "force-logout", "transfer-ownership", "delete"})},
			{memberOf(inv), 200, sorted(navAll, []string{"edit-profile", "change-role", "resend", "revoke"})},
			{memberOf(owner), 200, sorted(navAll, []string{"edit-profile"})},
			{path("/team/seats"), 200, sorted(navAll, []string{"add-seats"})},
			{path("/team/audit"), 200, navAll},
			{path("/team/ownership"), 200, sorted(navAll, []string{"confirm"})},
			{path("/team/members/new"), 200, navAll},
			{path("/team/invite"), 200, navAll},
		}},
		{"admin", func(f *fx) *sdk.Member { return f.admin }, []screen{
			{memberOf(std), 200, sorted(navAll, []string{"edit-profile", "change-role", "deactivate", "force-logout", "delete"})},
			{memberOf(owner), 200, navAll},
			{memberOf(func(f *fx) *sdk.Member { return f.admin2 }), 200, navAll},
			{path("/team/seats"), 200, sorted(navAll, []string{"add-seats"})},
			{path("/team/audit"), 200, navAll},
			{path("/team/ownership"), 403, navAll},
			{path("/team/members/new"), 200, navAll},
			{path("/team/invite"), 200, navAll},
		}},
		{"standard", std, []screen{
			{memberOf(std), 200, []string{"signout-everywhere", "edit-profile"}},
			{memberOf(owner), 200, []string{"signout-everywhere"}},
			{path("/team/seats"), 200, []string{"signout-everywhere"}},
			{path("/team/audit"), 403, []string{"signout-everywhere"}},
			{path("/team/ownership"), 403, []string{"signout-everywhere"}},
			{path("/team/members/new"), 403, []string{"signout-everywhere"}},
			{path("/team/invite"), 403, []string{"signout-everywhere"}},
		}},
		{"deactivated", func(f *fx) *sdk.Member { return f.deact }, []screen{
			{memberOf(std), 200, nil},
			{memberOf(func(f *fx) *sdk.Member { return f.deact }), 200, nil},
			{path("/team/seats"), 200, nil},
			{path("/team/audit"), 403, nil},
			{path("/team/ownership"), 403, nil},
			{path("/team/members/new"), 403, nil},
			{path("/team/invite"), 403, nil},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t, sdk.PresetStandard)
			for _, s := range c.screens {
				p := s.path(f)
				r := f.get(t, c.actor(f), p)
				if r.code != s.code {
					t.Errorf("%s: status %d, want %d", p, r.code, s.code)
				}
				if got := actions(r.body); !sameSet(got, s.actions) {
					t.Errorf("%s: actions %v, want %v", p, sorted(got), sorted(s.actions))
				}
				if s.code == 403 && errorOf(r.body) == "" {
					t.Errorf("%s: refused without a reason", p)
				}
			}
		})
	}
}
