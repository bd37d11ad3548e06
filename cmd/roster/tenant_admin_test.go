package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// newAcme makes a store with tenant acme (seats included), owned by
// ann@acme.test, with members bob and cat.
func newAcme(t *testing.T, seats int) (sdk.Store, *sdk.Client, *sdk.Tenant) {
	t.Helper()
	st := memstore.New()
	c := sdk.New(st)
	tn, _, err := c.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: seats})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"bob@acme.test", "cat@acme.test"} {
		if _, err := c.AddMember(t.Context(), sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: e}); err != nil {
			t.Fatal(err)
		}
	}
	tn, err = c.Tenant(t.Context(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st, c, tn
}

// wantCode checks the exit status and that stderr mentions msg.
func wantCode(t *testing.T, r result, code int, msg string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, msg) {
		t.Fatalf("want exit %d mentioning %q\n%s", code, msg, r)
	}
}

func TestTenantShow(t *testing.T) {
	t.Parallel()
	st, _, tn := newAcme(t, 5)
	r := rosterOn(t, st, "tenant", "show", "acme")
	for _, want := range []string{"ann@acme.test", "3 used of 5", "owner, admin, standard", "invite-policy", "team_manage"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("tenant show lacks %q\n%s", want, r)
		}
	}
	r = rosterOn(t, st, "tenant", "show", "acme", "--json")
	var got sdk.Tenant
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil || got.ID != tn.ID {
		t.Fatalf("tenant show --json: %v\n%s", err, r)
	}
	wantCode(t, rosterOn(t, st, "tenant", "show", "nope"), 1, `no tenant with slug "nope"`)
	wantCode(t, rosterOn(t, st, "tenant", "show"), 2, "expects SLUG")
}

func TestTenantSeats(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 3)
	r := rosterOn(t, st, "tenant", "seats", "acme", "--add", "4")
	if r.code != 0 || !strings.Contains(r.stderr, "now has 7 seat(s)") {
		t.Fatalf("seats --add: %s", r)
	}
	r = rosterOn(t, st, "tenant", "seats", "acme", "--remove", "2", "--json")
	var got sdk.Tenant
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil || got.ExtraSeats != 2 {
		t.Fatalf("seats --remove --json: %v\n%s", err, r)
	}
	wantCode(t, rosterOn(t, st, "tenant", "seats", "acme", "--remove", "5"), 1, "roster member remove --tenant acme")
	wantCode(t, rosterOn(t, st, "tenant", "seats", "acme", "--add", "ten"), 2, `--add "ten": give a whole number of seats, e.g. 5`)
	wantCode(t, rosterOn(t, st, "tenant", "seats", "acme", "--add", "0"), 2, "between 1 and")
	wantCode(t, rosterOn(t, st, "tenant", "seats", "acme"), 2, "give one of --add N or --remove N")
	wantCode(t, rosterOn(t, st, "tenant", "seats", "acme", "--add", "1", "--remove", "1"), 2, "give one of")
	if n, _ := c.Tenant(t.Context(), tn.ID); n.SeatLimit() != 5 {
		t.Errorf("seat limit %d after the refusals, want 5", n.SeatLimit())
	}
	// The seat limit refusal of 'member add' names the command that buys seats.
	if r := rosterOn(t, st, "tenant", "seats", "acme", "--remove", "2"); r.code != 0 {
		t.Fatal(r)
	}
	wantCode(t, rosterOn(t, st, "member", "add", "--tenant", "acme", "--email", "dan@acme.test"), 1, "run 'roster tenant seats acme --add N'")
}

func TestTenantCreateSeatsValidated(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	wantCode(t, rosterOn(t, st, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "ten"), 2, `--seats "ten": give a whole number of seats, e.g. 5`)
	wantCode(t, rosterOn(t, st, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "0"), 2, "--seats 0")
	if r := rosterOn(t, st, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "3"); r.code != 0 {
		t.Fatalf("tenant create --seats 3: %s", r)
	}
}

func TestTenantSettings(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	r := rosterOn(t, st, "tenant", "settings", "acme")
	for _, want := range []string{"invite-policy", "team_manage", "default-role", "standard", "successor-role", "admin", "require-mfa"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("tenant settings lacks %q\n%s", want, r)
		}
	}
	r = rosterOn(t, st, "tenant", "settings", "acme", "--invite-policy", "owner_only", "--require-mfa=true",
		"--default-role", "admin", "--seat-states", "invited,active", "--unique-email-across-tenants=true", "--json")
	var got settingsView
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil {
		t.Fatalf("tenant settings --json: %v\n%s", err, r)
	}
	if got.InvitePolicy != sdk.InviteOwnerOnly || !got.RequireMFA || got.DefaultRole != "admin" || len(got.SeatStates) != 2 || !got.UniqueEmailAcrossTenants {
		t.Errorf("settings after the change: %+v", got)
	}
	n, _ := c.Tenant(t.Context(), tn.ID)
	if n.Settings.InvitePolicy != sdk.InviteOwnerOnly || !n.Settings.RequireMFA {
		t.Errorf("stored settings: %+v", n.Settings)
	}
	wantCode(t, rosterOn(t, st, "tenant", "settings", "acme", "--invite-policy", "anyone"), 2, "use one of team_manage, owner_only")
	wantCode(t, rosterOn(t, st, "tenant", "settings", "acme", "--seat-states", "gone"), 2, "use one of invited, active, deactivated")
	wantCode(t, rosterOn(t, st, "tenant", "settings", "acme", "--default-role", "boss"), 2, "use one of owner, admin, standard")
	wantCode(t, rosterOn(t, st, "tenant", "settings", "acme", "--require-mfa=maybe"), 2, "require-mfa")
	wantCode(t, rosterOn(t, st, "tenant", "settings", "acme", "--seat-states", "invited"), 1, "--seat-states")
}

func TestMemberListFiltersValidated(t *testing.T) {
	t.Parallel()
	st, _, _ := newAcme(t, 5)
	wantCode(t, rosterOn(t, st, "member", "list", "--tenant", "acme", "--role", "bogus"), 2, `--role "bogus": tenant "acme" has no such role; use one of owner, admin, standard`)
	wantCode(t, rosterOn(t, st, "member", "list", "--tenant", "acme", "--status", "gone"), 2, "use one of invited, active, deactivated")
	r := rosterOn(t, st, "member", "list", "--tenant", "acme", "--role", "standard")
	if r.code != 0 || !strings.Contains(r.stdout, "bob@acme.test") || strings.Contains(r.stdout, "ann@acme.test") {
		t.Fatalf("member list --role standard: %s", r)
	}
}
