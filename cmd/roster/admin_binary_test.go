package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// TestAdminBinary drives the built binary through every admin command of
// issue 15 (tenant show/seats/settings, member show/edit/role/transfer-owner/
// bulk, group, audit) on one embedded data directory: for each, the text
// and --json output, the exit status, and refusals that name the valid
// values or the command to run next. The subtests run in order, each on
// the state the previous ones left.
func TestAdminBinary(t *testing.T) {
	t.Parallel()
	bin := buildRoster(t)
	dir := filepath.Join(t.TempDir(), "data")
	data := "--data=" + dir

	run := func(t *testing.T, args ...string) result {
		t.Helper()
		return runBin(t, bin, append(args, data)...)
	}
	runIn := func(t *testing.T, stdin string, args ...string) result {
		t.Helper()
		return runBinIn(t, bin, stdin, append(args, data)...)
	}
	ok := func(t *testing.T, args ...string) result {
		t.Helper()
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("%s: %s", strings.Join(args, " "), r)
		}
		return r
	}
	// okJSON runs a command that must succeed and decodes its stdout,
	// which must be JSON and nothing else, into v.
	okJSON := func(t *testing.T, v any, args ...string) result {
		t.Helper()
		r := ok(t, args...)
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil || dec.More() {
			t.Fatalf("%s: stdout is not one JSON document of %T: %v\n%s", strings.Join(args, " "), v, err, r)
		}
		return r
	}
	// fields reads the "key  value" lines of a show command.
	fields := func(stdout string) map[string]string {
		kv := map[string]string{}
		for line := range strings.Lines(stdout) {
			if k, v, found := strings.Cut(strings.TrimSpace(line), " "); found && !strings.HasPrefix(line, " ") {
				kv[k] = strings.TrimSpace(v)
			}
		}
		return kv
	}
	wantFields := func(t *testing.T, r result, want map[string]string) {
		t.Helper()
		got := fields(r.stdout)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q, want %q\n%s", k, got[k], v, r)
			}
		}
	}
	member := func(t *testing.T, ref string) sdk.Member {
		t.Helper()
		var m sdk.Member
		r := run(t, "member", "show", "--tenant", "acme", ref, "--json")
		if err := json.Unmarshal([]byte(r.stdout), &m); r.code != 0 || err != nil {
			t.Fatalf("member show %s --json: %v\n%s", ref, err, r)
		}
		return m
	}
	// roles reads every member's role with one run: id → role.
	roles := func(t *testing.T) map[string]string {
		t.Helper()
		var ms []sdk.Member
		r := run(t, "member", "list", "--tenant", "acme", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &ms); r.code != 0 || err != nil {
			t.Fatalf("member list --json: %v\n%s", err, r)
		}
		m := map[string]string{}
		for _, x := range ms {
			m[x.ID] = x.Role
		}
		return m
	}

	ok(t, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "3")
	ok(t, "member", "add", "--tenant", "acme", "--email", "bob@acme.test", "--given-name", "Bob")
	ok(t, "member", "add", "--tenant", "acme", "--email", "cat@acme.test")

	// Groups come from identity providers over SCIM; seed two through the
	// SDK on the same directory, while no roster process runs on it.
	c, done := openDirect(t, dir)
	tn, err := c.TenantBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	annID, bobID, catID := tn.OwnerID, mustMember(t, c, tn.ID, "bob@acme.test").ID, mustMember(t, c, tn.ID, "cat@acme.test").ID
	eng, err := c.CreateGroup(t.Context(), sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Engineering", Members: []string{bobID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(t.Context(), sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Sales", ExternalID: "okta-sales"}); err != nil {
		t.Fatal(err)
	}
	done()

	t.Run("tenant show", func(t *testing.T) {
		r := ok(t, "tenant", "show", "acme")
		wantFields(t, r, map[string]string{
			"slug": "acme", "id": tn.ID, "owner": "ann@acme.test (" + annID + ")",
			"seats": "3 used of 3 (3 included, 0 extra)", "roles": "owner, admin, standard",
			"invite-policy": "team_manage", "default-role": "standard", "successor-role": "admin",
		})
		var got sdk.Tenant
		okJSON(t, &got, "tenant", "show", "acme", "--json")
		if got.ID != tn.ID || got.Slug != "acme" || got.OwnerID != annID || got.IncludedSeats != 3 || got.SeatsUsed != 3 || len(got.Roles) != 3 {
			t.Errorf("tenant show --json: %+v", got)
		}
		wantCode(t, run(t, "tenant", "show", "nope"), 1, `no tenant with slug "nope" (list them with 'roster tenant list')`)
		wantCode(t, run(t, "tenant", "show"), 2, "roster tenant show expects SLUG, got 0 argument(s)")
	})

	t.Run("tenant seats", func(t *testing.T) {
		// A full tenant's refusal names the command that buys seats.
		wantCode(t, run(t, "member", "add", "--tenant", "acme", "--email", "dan@acme.test"), 1,
			`tenant "acme" has no free seat: run 'roster tenant seats acme --add N' to buy more`)
		r := ok(t, "tenant", "seats", "acme", "--add", "2")
		if !strings.Contains(r.stderr, `Tenant "acme" now has 5 seat(s) (3 included, 2 extra), 3 in use.`) || r.stdout != "" {
			t.Errorf("seats --add 2: %s", r)
		}
		var got sdk.Tenant
		okJSON(t, &got, "tenant", "seats", "acme", "--remove", "1", "--json")
		if got.ExtraSeats != 1 || got.SeatLimit() != 4 || got.SeatsUsed != 3 {
			t.Errorf("seats --remove 1 --json: %+v", got)
		}
		wantCode(t, run(t, "tenant", "seats", "acme", "--remove", "5"), 1,
			"free seats first with 'roster member remove --tenant acme MEMBER', or remove at most 1")
		wantCode(t, run(t, "tenant", "seats", "acme", "--add", "ten"), 2, `--add "ten": give a whole number of seats, e.g. 5`)
		wantCode(t, run(t, "tenant", "seats", "acme", "--remove", "0"), 2, "--remove 0: give a number of seats between 1 and 10000000")
		wantCode(t, run(t, "tenant", "seats", "acme"), 2, "give one of --add N or --remove N")
		wantCode(t, run(t, "tenant", "create", "beta", "--owner-email", "ann@beta.test", "--seats", "ten"), 2, `--seats "ten": give a whole number of seats, e.g. 5`)
		okJSON(t, &got, "tenant", "show", "acme", "--json")
		if got.SeatLimit() != 4 {
			t.Errorf("seat limit %d after the refusals, want 4", got.SeatLimit())
		}
		// The seat bought lets 'member add' through.
		ok(t, "member", "add", "--tenant", "acme", "--email", "dan@acme.test")
		ok(t, "member", "remove", "--tenant", "acme", "dan@acme.test")
	})

	t.Run("tenant settings", func(t *testing.T) {
		defaults := settingsView{
			InvitePolicy: sdk.InviteTeamManagers, SeatStates: memberStatuses, DefaultRole: "standard",
			SuccessorRole: "admin", InvitationTTL: sdk.DefaultInvitationTTL.String(),
		}
		wantSettings := func(t *testing.T, got, want settingsView) {
			t.Helper()
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				t.Errorf("settings\n got %s\nwant %s", g, w)
			}
		}
		r := ok(t, "tenant", "settings", "acme")
		wantFields(t, r, map[string]string{
			"invite-policy": "team_manage", "seat-states": "invited,active,deactivated", "default-role": "standard",
			"successor-role": "admin", "require-mfa": "false", "unique-email-across-tenants": "false",
		})
		if r.stderr != "" {
			t.Errorf("settings with no flag says it changed something: %s", r)
		}
		var got settingsView
		okJSON(t, &got, "tenant", "settings", "acme", "--json")
		wantSettings(t, got, defaults)

		okJSON(t, &got, "tenant", "settings", "acme", "--invite-policy", "owner_only", "--seat-states", "invited,active",
			"--default-role", "admin", "--successor-role", "standard", "--require-mfa=true", "--unique-email-across-tenants=true", "--json")
		changed := settingsView{
			InvitePolicy: sdk.InviteOwnerOnly, SeatStates: []sdk.Status{sdk.StatusInvited, sdk.StatusActive}, DefaultRole: "admin",
			SuccessorRole: "standard", RequireMFA: true, UniqueEmailAcrossTenants: true, InvitationTTL: defaults.InvitationTTL,
		}
		wantSettings(t, got, changed)
		var stored sdk.Tenant
		okJSON(t, &stored, "tenant", "show", "acme", "--json")
		if s := stored.Settings; s.InvitePolicy != sdk.InviteOwnerOnly || !s.RequireMFA || s.DefaultRole != "admin" || !s.UniqueEmailAcrossTenants {
			t.Errorf("stored settings: %+v", s)
		}

		// Refusals, each naming the valid values; nothing changes.
		wantCode(t, run(t, "tenant", "settings", "acme", "--invite-policy", "bogus"), 2, `--invite-policy "bogus": use one of team_manage, owner_only`)
		wantCode(t, run(t, "tenant", "settings", "acme", "--seat-states", "active,gone"), 2, `--seat-states "gone": use one of invited, active, deactivated`)
		wantCode(t, run(t, "tenant", "settings", "acme", "--default-role", "boss"), 2, `--default-role "boss": tenant "acme" has no such role; use one of owner, admin, standard`)
		wantCode(t, run(t, "tenant", "settings", "acme", "--successor-role", "boss"), 2, `--successor-role "boss": tenant "acme" has no such role; use one of owner, admin, standard`)
		wantCode(t, run(t, "tenant", "settings", "acme", "--seat-states", "invited"), 1, `tenant "acme": --seat-states: active members must hold a seat`)
		wantCode(t, run(t, "tenant", "settings", "acme", "--require-mfa=maybe"), 2, `--require-mfa "maybe": use true or false`)
		okJSON(t, &got, "tenant", "settings", "acme", "--json")
		wantSettings(t, got, changed)

		r = ok(t, "tenant", "settings", "acme", "--invite-policy", "team_manage", "--seat-states", "invited,active,deactivated",
			"--default-role", "standard", "--successor-role", "admin", "--require-mfa=false", "--unique-email-across-tenants=false")
		if !strings.Contains(r.stderr, `Updated the settings of tenant "acme".`) {
			t.Errorf("settings change: %s", r)
		}
		wantFields(t, r, map[string]string{
			"invite-policy": "team_manage", "seat-states": "invited,active,deactivated", "default-role": "standard",
			"successor-role": "admin", "require-mfa": "false", "unique-email-across-tenants": "false",
		})
	})

	t.Run("member show", func(t *testing.T) {
		for _, ref := range []string{"bob@acme.test", bobID} {
			r := ok(t, "member", "show", "--tenant", "acme", ref)
			wantFields(t, r, map[string]string{"email": "bob@acme.test", "given-name": "Bob", "role": "standard", "status": "active", "id": bobID})
		}
		wantFields(t, ok(t, "member", "show", "--tenant", "acme", "ann@acme.test"), map[string]string{"role": "owner (owner)", "id": annID, "email": "ann@acme.test"})
		var m sdk.Member
		okJSON(t, &m, "member", "show", "--tenant", "acme", "bob@acme.test", "--json")
		if m.ID != bobID || m.TenantID != tn.ID || m.Email != "bob@acme.test" || m.GivenName != "Bob" || m.Role != "standard" || m.Status != sdk.StatusActive {
			t.Errorf("member show --json: %+v", m)
		}
		wantCode(t, run(t, "member", "show", "--tenant", "acme", "zed@acme.test"), 1,
			`tenant "acme" has no member "zed@acme.test" (list them with 'roster member list --tenant acme')`)
		wantCode(t, run(t, "member", "show", "--tenant", "nope", "bob@acme.test"), 1, `no tenant with slug "nope" (list them with 'roster tenant list')`)
		wantCode(t, run(t, "member", "show", "--tenant", "acme"), 2, "roster member show expects MEMBER (an email address or id), got 0 argument(s)")
		wantCode(t, run(t, "member", "show", "bob@acme.test"), 2, `required flag(s) "tenant" not set`)
	})

	t.Run("member edit", func(t *testing.T) {
		var m sdk.Member
		okJSON(t, &m, "member", "edit", "--tenant", "acme", "bob@acme.test", "--email", "rob@acme.test", "--given-name", "Rob", "--json")
		if m.ID != bobID || m.Email != "rob@acme.test" || m.GivenName != "Rob" {
			t.Errorf("member edit --json: %+v", m)
		}
		epoch := m.SessionEpoch
		const pw = "correct horse battery staple"
		r := runIn(t, pw+"\n", "member", "edit", "--tenant", "acme", "rob@acme.test", "--password-stdin", "--family-name", "Stone")
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, `Updated rob@acme.test in tenant "acme".`) || strings.Contains(r.stderr, pw) {
			t.Fatalf("member edit --password-stdin: %s", r)
		}
		if m := member(t, bobID); m.FamilyName != "Stone" || m.GivenName != "Rob" || m.SessionEpoch <= epoch {
			t.Errorf("after --password-stdin --family-name: %+v (session epoch was %d; a new password ends the sessions)", m, epoch)
		}
		c, done := openDirect(t, dir)
		if _, err := c.VerifyPassword(t.Context(), tn.ID, "rob@acme.test", pw); err != nil {
			t.Errorf("the password read from stdin does not verify: %v", err)
		}
		done()

		wantCode(t, runIn(t, "", "member", "edit", "--tenant", "acme", "rob@acme.test", "--password-stdin"), 2,
			"--password-stdin: standard input has no password on its first line")
		wantCode(t, runIn(t, "short\n", "member", "edit", "--tenant", "acme", "rob@acme.test", "--password-stdin"), 1,
			"--password-stdin: the password must have at least 12 characters")
		wantCode(t, runIn(t, pw+"\n", "member", "edit", "--tenant", "acme", "rob@acme.test", "--password-stdin", "--email", "r@acme.test"), 2,
			"--email and --password-stdin cannot be combined")
		wantCode(t, run(t, "member", "edit", "--tenant", "acme", "rob@acme.test"), 2,
			"nothing to change: give --email, --given-name, --family-name or --password-stdin")
		// The taken address is the new one, not the member's.
		wantCode(t, run(t, "member", "edit", "--tenant", "acme", "rob@acme.test", "--email", "CAT@acme.test"), 1,
			`"CAT@acme.test" is already a member of tenant "acme": choose another --email for rob@acme.test`)
		// With unique addresses across tenants, another tenant's member's.
		ok(t, "tenant", "create", "beta", "--owner-email", "eve@beta.test")
		ok(t, "tenant", "settings", "acme", "--unique-email-across-tenants=true")
		wantCode(t, run(t, "member", "edit", "--tenant", "acme", "rob@acme.test", "--email", "eve@beta.test"), 1,
			`--email "eve@beta.test": the email address is already used by another account (addresses are unique across tenants here): choose another --email for rob@acme.test`)
		ok(t, "tenant", "settings", "acme", "--unique-email-across-tenants=false")
		wantCode(t, run(t, "member", "edit", "--tenant", "acme", "rob@acme.test", "--email", "not-an-address"), 1,
			`--email: "not-an-address" is not a valid email address`)
		wantCode(t, run(t, "member", "edit", "--tenant", "acme", "bob@acme.test", "--given-name", "B"), 1,
			`tenant "acme" has no member "bob@acme.test" (list them with 'roster member list --tenant acme')`)
		if m := member(t, bobID); m.Email != "rob@acme.test" || m.GivenName != "Rob" {
			t.Errorf("after the refusals: %+v", m)
		}
	})

	t.Run("member role", func(t *testing.T) {
		r := ok(t, "member", "role", "--tenant", "acme", "rob@acme.test", "admin")
		if !strings.Contains(r.stderr, `rob@acme.test in tenant "acme" now has the role admin.`) {
			t.Errorf("member role: %s", r)
		}
		var m sdk.Member
		okJSON(t, &m, "member", "role", "--tenant", "acme", catID, "admin", "--json")
		if m.ID != catID || m.Role != "admin" {
			t.Errorf("member role --json: %+v", m)
		}
		wantCode(t, run(t, "member", "role", "--tenant", "acme", "rob@acme.test", "bogus"), 2,
			`ROLE "bogus": tenant "acme" has no such role; use one of owner, admin, standard`)
		wantCode(t, run(t, "member", "role", "--tenant", "acme", "rob@acme.test", "owner"), 2,
			"moves only with the ownership: run 'roster member transfer-owner --tenant acme rob@acme.test'")
		wantCode(t, run(t, "member", "role", "--tenant", "acme", "ann@acme.test", "standard"), 1,
			"keeps the owner role; run 'roster member transfer-owner --tenant acme NEW-OWNER' first")
		wantCode(t, run(t, "member", "role", "--tenant", "acme", "zed@acme.test", "admin"), 1, `tenant "acme" has no member "zed@acme.test"`)
		wantCode(t, run(t, "member", "role", "--tenant", "acme", "rob@acme.test"), 2, "expects MEMBER (an email address or id) and ROLE, got 1 argument(s)")
		if got := roles(t); got[annID] != "owner" || got[bobID] != "admin" || got[catID] != "admin" {
			t.Errorf("roles after the refusals: ann %s, rob %s, cat %s", got[annID], got[bobID], got[catID])
		}
		for _, ref := range []string{"rob@acme.test", "cat@acme.test"} {
			ok(t, "member", "role", "--tenant", "acme", ref, "standard")
		}
	})

	t.Run("group", func(t *testing.T) {
		r := ok(t, "group", "list", "--tenant", "acme")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME ROLE EXTERNAL ID ID" ||
			strings.Join(strings.Fields(lines[1]), " ") != "Engineering - - "+eng.ID || !strings.HasPrefix(strings.Join(strings.Fields(lines[2]), " "), "Sales - okta-sales ") {
			t.Errorf("group list: %s", r)
		}
		var gs []sdk.Group
		okJSON(t, &gs, "group", "list", "--tenant", "acme", "--json")
		if len(gs) != 2 || gs[0].ID != eng.ID || gs[0].DisplayName != "Engineering" || gs[1].ExternalID != "okta-sales" {
			t.Errorf("group list --json: %+v", gs)
		}
		for _, ref := range []string{"Engineering", eng.ID} {
			r := ok(t, "group", "show", "--tenant", "acme", ref)
			wantFields(t, r, map[string]string{"name": "Engineering", "role": "-", "id": eng.ID, "members": "1"})
			if !strings.Contains(r.stdout, "rob@acme.test") || !strings.Contains(r.stdout, bobID) {
				t.Errorf("group show %s does not list rob: %s", ref, r)
			}
		}
		var v groupView
		okJSON(t, &v, "group", "show", "--tenant", "acme", "Sales", "--json")
		if v.Group == nil || v.DisplayName != "Sales" || v.Members == nil || len(v.Members) != 0 {
			t.Errorf("group show Sales --json: %+v", v)
		}

		r = ok(t, "group", "role", "--tenant", "acme", "Engineering", "admin")
		if !strings.Contains(r.stderr, `Group "Engineering" of tenant "acme" maps to admin now`) {
			t.Errorf("group role: %s", r)
		}
		if got := roles(t); got[bobID] != "admin" || got[catID] != "standard" {
			t.Errorf("roles after mapping rob's group to admin: rob %s, cat %s", got[bobID], got[catID])
		}
		okJSON(t, &v, "group", "show", "--tenant", "acme", eng.ID, "--json")
		if v.Role != "admin" || len(v.Members) != 1 || v.Members[0] != bobID {
			t.Errorf("group show --json after the mapping: %+v", v)
		}
		wantCode(t, run(t, "group", "role", "--tenant", "acme", "Engineering", "boss"), 2,
			`ROLE "boss": tenant "acme" has no such role; use one of owner, admin, standard`)
		wantCode(t, run(t, "group", "role", "--tenant", "acme", "Engineering", "owner"), 2,
			"cannot be mapped; it moves only with 'roster member transfer-owner --tenant acme MEMBER'")
		wantCode(t, run(t, "group", "role", "--tenant", "acme", "Engineering"), 2, "expects GROUP and ROLE (or GROUP --clear), got 1 argument(s)")
		wantCode(t, run(t, "group", "role", "--tenant", "acme", "Engineering", "admin", "--clear"), 2, "--clear expects GROUP, got 2 argument(s)")
		wantCode(t, run(t, "group", "role", "--tenant", "acme", "Marketing", "admin"), 1,
			`tenant "acme" has no group "Marketing" (list them with 'roster group list --tenant acme')`)
		wantCode(t, run(t, "group", "show", "--tenant", "acme", "Marketing"), 1,
			`tenant "acme" has no group "Marketing" (list them with 'roster group list --tenant acme')`)
		wantCode(t, run(t, "group", "list"), 2, `required flag(s) "tenant" not set`)

		var g sdk.Group
		okJSON(t, &g, "group", "role", "--tenant", "acme", "Engineering", "--clear", "--json")
		if g.ID != eng.ID || g.Role != "" {
			t.Errorf("group role --clear --json: %+v", g)
		}
		if got := roles(t); got[bobID] != "standard" || got[catID] != "standard" {
			t.Errorf("roles after --clear: rob %s, cat %s; want the default role", got[bobID], got[catID])
		}
	})

	t.Run("member transfer-owner", func(t *testing.T) {
		ok(t, "member", "invite", "--tenant", "acme", "--email", "dee@acme.test")
		wantCode(t, run(t, "member", "transfer-owner", "--tenant", "acme", "dee@acme.test"), 1,
			`dee@acme.test is invited, and only an active member can own tenant "acme": run 'roster member resend --tenant acme dee@acme.test' and wait for the invitation to be accepted`)
		ok(t, "member", "deactivate", "--tenant", "acme", "cat@acme.test")
		wantCode(t, run(t, "member", "transfer-owner", "--tenant", "acme", "cat@acme.test"), 1,
			"run 'roster member reactivate --tenant acme cat@acme.test' first")
		ok(t, "member", "reactivate", "--tenant", "acme", "cat@acme.test")
		wantCode(t, run(t, "member", "transfer-owner", "--tenant", "acme", "zed@acme.test"), 1, `tenant "acme" has no member "zed@acme.test"`)
		wantCode(t, run(t, "member", "transfer-owner", "--tenant", "acme"), 2, "expects MEMBER (an email address or id), got 0 argument(s)")

		var got sdk.Tenant
		okJSON(t, &got, "member", "transfer-owner", "--tenant", "acme", "rob@acme.test", "--json")
		if got.ID != tn.ID || got.OwnerID != bobID {
			t.Errorf("transfer-owner --json: owner %s, want rob (%s)", got.OwnerID, bobID)
		}
		if got := roles(t); got[annID] != "admin" || got[bobID] != "owner" {
			t.Errorf("after the transfer: ann %s (want the successor role admin), rob %s", got[annID], got[bobID])
		}
		// The refusal of an operation on the owner names the next step.
		wantCode(t, run(t, "member", "remove", "--tenant", "acme", "rob@acme.test"), 1,
			"transfer ownership first with 'roster member transfer-owner --tenant acme MEMBER'")

		r := ok(t, "member", "transfer-owner", "--tenant", "acme", "ann@acme.test")
		if !strings.Contains(r.stderr, `ann@acme.test now owns tenant "acme"; the previous owner has the role admin.`) {
			t.Errorf("transfer-owner: %s", r)
		}
		r = ok(t, "member", "transfer-owner", "--tenant", "acme", "ann@acme.test")
		if !strings.Contains(r.stderr, `ann@acme.test already owns tenant "acme".`) {
			t.Errorf("transfer-owner to the owner: %s", r)
		}
		okJSON(t, &got, "tenant", "show", "acme", "--json")
		if got.OwnerID != annID {
			t.Errorf("owner %s, want ann (%s)", got.OwnerID, annID)
		}
	})

	t.Run("member bulk", func(t *testing.T) {
		// Lines: 1 comment, 2 rob, 3 empty, 4 cat by id, 5 unknown,
		// 6 the owner, 7 rob again.
		in := "# leads\nrob@acme.test\n\n" + catID + "\nzed@acme.test\nann@acme.test\nrob@acme.test\n"
		r := runIn(t, in, "member", "bulk", "role", "--tenant", "acme", "--file", "-", "--role", "admin", "--json")
		var rep bulkReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
			t.Fatalf("bulk role --json: %v\n%s", err, r)
		}
		wantCode(t, r, 1, "bulk role: 3 of 5 member(s) failed; fix the failed lines and run again with only them")
		if rep.Action != "role" || rep.Succeeded != 2 || rep.Failed != 3 || len(rep.Items) != 5 {
			t.Fatalf("bulk role report: %+v", rep)
		}
		want := []struct {
			line   int
			id     string
			ok     bool
			reason string
			msg    string
		}{
			{2, bobID, true, "", ""},
			{4, catID, true, "", ""},
			{5, "", false, "not_found", `tenant "acme" has no member "zed@acme.test" (list them with 'roster member list --tenant acme')`},
			{6, annID, false, "target_is_owner", "run 'roster member transfer-owner --tenant acme NEW-OWNER' first"},
			{7, bobID, false, "duplicate_item", "listed twice: line 2 names the same member; delete this line"},
		}
		for i, w := range want {
			it := rep.Items[i]
			if it.Line != w.line || it.MemberID != w.id || it.OK != w.ok || it.Reason != w.reason || !strings.Contains(it.Error, w.msg) ||
				(it.OK && (it.Result == nil || it.Result.Role != "admin")) {
				t.Errorf("item %d: %+v, want line %d id %s ok %t reason %q error %q", i, it, w.line, w.id, w.ok, w.reason, w.msg)
			}
		}
		if got := roles(t); got[bobID] != "admin" || got[catID] != "admin" || got[annID] != "owner" {
			t.Errorf("after bulk role: rob %s, cat %s, ann %s", got[bobID], got[catID], got[annID])
		}

		file := writeFile(t, t.TempDir(), "leads.txt", "rob@acme.test\ncat@acme.test\n")
		before := rep.Items[1].Result.SessionEpoch
		r = ok(t, "member", "bulk", "logout", "--tenant", "acme", "--file", file)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "LINE MEMBER RESULT" ||
			strings.Join(strings.Fields(lines[2]), " ") != "2 cat@acme.test ok" ||
			!strings.Contains(r.stderr, `bulk logout: 2 member(s) done in tenant "acme".`) {
			t.Errorf("bulk logout: %s", r)
		}
		okJSON(t, &rep, "member", "bulk", "logout", "--tenant", "acme", "--file", file, "--json")
		if rep.Action != "logout" || rep.Succeeded != 2 || rep.Failed != 0 || len(rep.Items) != 2 || !rep.Items[1].OK || rep.Items[1].MemberID != catID {
			t.Fatalf("bulk logout --json: %+v", rep)
		}
		if after := rep.Items[1].Result.SessionEpoch; after != before+2 {
			t.Errorf("cat's session epoch %d after two bulk logouts, was %d", after, before)
		}

		wantCode(t, run(t, "member", "bulk", "purge", "--tenant", "acme", "--file", file), 2, `bulk action "purge": use one of remove, logout, role`)
		wantCode(t, run(t, "member", "bulk", "role", "--tenant", "acme", "--file", file), 2, "bulk role needs --role ROLE")
		wantCode(t, run(t, "member", "bulk", "role", "--tenant", "acme", "--file", file, "--role", "boss"), 2,
			`--role "boss": tenant "acme" has no such role; use one of owner, admin, standard`)
		wantCode(t, run(t, "member", "bulk", "role", "--tenant", "acme", "--file", file, "--role", "owner"), 2,
			"the owner's role moves only with the ownership ('roster member transfer-owner --tenant acme MEMBER'); use one of admin, standard")
		wantCode(t, run(t, "member", "bulk", "remove", "--tenant", "acme", "--file", file, "--role", "admin"), 2, "--role applies to 'bulk role' only")
		wantCode(t, runIn(t, "\n# nobody\n", "member", "bulk", "remove", "--tenant", "acme", "--file", "-"), 2,
			"--file - lists no member: give one email address or id a line")
		wantCode(t, run(t, "member", "bulk", "remove", "--tenant", "acme", "--file", filepath.Join(t.TempDir(), "missing.txt")), 1, "--file: open ")
		wantCode(t, run(t, "member", "bulk", "remove", "--tenant", "acme"), 2, `required flag(s) "file" not set`)
		if got := roles(t); len(got) != 4 || got[bobID] != "admin" || got[catID] != "admin" {
			t.Errorf("after the refusals: %v", got)
		}

		okJSON(t, &rep, "member", "bulk", "remove", "--tenant", "acme", "--file", file, "--json")
		if rep.Action != "remove" || rep.Succeeded != 2 || rep.Failed != 0 {
			t.Errorf("bulk remove --json: %+v", rep)
		}
		wantCode(t, run(t, "member", "show", "--tenant", "acme", "rob@acme.test"), 1, `tenant "acme" has no member "rob@acme.test"`)
		var got sdk.Tenant
		okJSON(t, &got, "tenant", "show", "acme", "--json")
		if got.SeatsUsed != 2 { // ann and the invited dee
			t.Errorf("seats used after bulk remove: %d, want 2", got.SeatsUsed)
		}
	})

	t.Run("audit list", func(t *testing.T) {
		r := ok(t, "audit", "list", "--tenant", "acme")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) < 2 || strings.Join(strings.Fields(lines[0]), " ") != "TIME ACTION CHANNEL ACTOR TARGET" ||
			!strings.Contains(lines[1], "member.removed") || !strings.Contains(r.stdout, "group.role_mapped") {
			t.Errorf("audit list: %s", r)
		}

		// A removed member's events, by id, newest first.
		var p auditPage
		okJSON(t, &p, "audit", "list", "--tenant", "acme", "--member", bobID, "--json")
		actions, password := map[string]int{}, 0
		for _, e := range p.Events {
			actions[e.Action]++
			if e.After["password"] == "changed" && e.After["familyName"] == "Stone" {
				password++
			}
			if e.TargetID != bobID || e.TenantID != tn.ID {
				t.Errorf("event about someone else: %+v", e)
			}
		}
		// Two edits (the second set the password and the family name:
		// member.updated), six role changes (role, role, group mapped,
		// mapping cleared, two ownership transfers), two logouts.
		if len(p.Events) == 0 || p.Events[0].Action != string(sdk.EventMemberRemoved) || actions[string(sdk.EventMemberAdded)] != 1 ||
			actions[string(sdk.EventMemberUpdated)] != 2 || actions[string(sdk.EventMemberRoleChanged)] != 6 || actions[string(sdk.EventMemberLoggedOut)] != 2 {
			t.Errorf("rob's events: %v", actions)
		}
		if password != 1 {
			t.Errorf("%d events record the password set with --password-stdin, want 1", password)
		}
		wantCode(t, run(t, "audit", "list", "--tenant", "acme", "--member", "rob@acme.test"), 1,
			`tenant "acme" has no member "rob@acme.test"; the events of a removed member are found by its id (--member ID)`)

		okJSON(t, &p, "audit", "list", "--tenant", "acme", "--action", "tenant.seats_changed", "--since", "1h", "--json")
		if len(p.Events) != 2 || p.Events[0].Action != string(sdk.EventTenantSeatsChanged) || p.Events[1].Action != string(sdk.EventTenantSeatsChanged) {
			t.Errorf("audit list --action tenant.seats_changed: %+v", p.Events)
		}
		r = okJSON(t, &p, "audit", "list", "--tenant", "acme", "--since", "2999-01-01", "--json")
		if len(p.Events) != 0 || !strings.Contains(r.stdout, `"events": []`) {
			t.Errorf("audit list --since the future: %s", r)
		}

		okJSON(t, &p, "audit", "list", "--tenant", "acme", "--limit", "1", "--json")
		if len(p.Events) != 1 || p.NextCursor == "" {
			t.Fatalf("audit list --limit 1: %+v", p)
		}
		first, cursor := p.Events[0].ID, p.NextCursor
		okJSON(t, &p, "audit", "list", "--tenant", "acme", "--limit", "1", "--cursor", cursor, "--json")
		if len(p.Events) != 1 || p.Events[0].ID == first {
			t.Errorf("audit list --cursor: %+v after %s", p, first)
		}
		r = ok(t, "audit", "list", "--tenant", "acme", "--limit", "1")
		if !strings.Contains(r.stderr, "More events: add --cursor "+cursor) {
			t.Errorf("audit list --limit 1 does not say how to go on: %s", r)
		}

		wantCode(t, run(t, "audit", "list", "--tenant", "acme", "--action", "member.exploded"), 2,
			`--action "member.exploded": use one of member.added, member.invited, invitation.resent`)
		wantCode(t, run(t, "audit", "list", "--tenant", "acme", "--limit", "ten"), 2, `--limit "ten": give a whole number of events from 1 to 1000`)
		wantCode(t, run(t, "audit", "list", "--tenant", "acme", "--since", "yesterday"), 2,
			`--since "yesterday": give an RFC 3339 time (2026-01-02T15:04:05Z), a date (2026-01-02) or a duration before now (24h)`)
		wantCode(t, run(t, "audit", "list", "--tenant", "acme", "--cursor", "!!"), 2, "use the cursor a previous 'roster audit list' printed")
	})
}
