package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestGroupCommands(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	bob := mustMember(t, c, tn.ID, "bob@acme.test")
	g, err := c.CreateGroup(t.Context(), sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Engineering", Members: []string{bob.ID}})
	if err != nil {
		t.Fatal(err)
	}

	r := rosterOn(t, st, "group", "list", "--tenant", "acme")
	if r.code != 0 || !strings.Contains(r.stdout, "Engineering") || !strings.Contains(r.stdout, g.ID) {
		t.Fatalf("group list: %s", r)
	}
	r = rosterOn(t, st, "group", "list", "--tenant", "acme", "--json")
	var gs []sdk.Group
	if err := json.Unmarshal([]byte(r.stdout), &gs); r.code != 0 || err != nil || len(gs) != 1 {
		t.Fatalf("group list --json: %v\n%s", err, r)
	}
	for _, ref := range []string{"Engineering", g.ID} {
		r = rosterOn(t, st, "group", "show", "--tenant", "acme", ref)
		if r.code != 0 || !strings.Contains(r.stdout, "bob@acme.test") {
			t.Fatalf("group show %s: %s", ref, r)
		}
	}
	r = rosterOn(t, st, "group", "show", "--tenant", "acme", "Engineering", "--json")
	var v struct {
		ID      string   `json:"id"`
		Members []string `json:"members"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 0 || err != nil || v.ID != g.ID || len(v.Members) != 1 || v.Members[0] != bob.ID {
		t.Fatalf("group show --json: %v\n%s", err, r)
	}

	r = rosterOn(t, st, "group", "role", "--tenant", "acme", "Engineering", "admin")
	if r.code != 0 || mustMember(t, c, tn.ID, "bob@acme.test").Role != "admin" {
		t.Fatalf("group role: %s", r)
	}
	r = rosterOn(t, st, "group", "role", "--tenant", "acme", "Engineering", "--clear", "--json")
	var cleared sdk.Group
	if err := json.Unmarshal([]byte(r.stdout), &cleared); r.code != 0 || err != nil || cleared.Role != "" {
		t.Fatalf("group role --clear: %v\n%s", err, r)
	}
	if m := mustMember(t, c, tn.ID, "bob@acme.test"); m.Role != "standard" {
		t.Errorf("bob's role after --clear: %q", m.Role)
	}
	wantCode(t, rosterOn(t, st, "group", "role", "--tenant", "acme", "Engineering", "boss"), 2, "use one of owner, admin, standard")
	wantCode(t, rosterOn(t, st, "group", "role", "--tenant", "acme", "Engineering", "owner"), 2, "cannot be mapped")
	wantCode(t, rosterOn(t, st, "group", "role", "--tenant", "acme", "Engineering"), 2, "expects GROUP and ROLE")
	wantCode(t, rosterOn(t, st, "group", "show", "--tenant", "acme", "Sales"), 1, `tenant "acme" has no group "Sales"`)
	wantCode(t, rosterOn(t, st, "group", "list"), 2, `required flag(s) "tenant"`)
}

func TestAuditList(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	bob := mustMember(t, c, tn.ID, "bob@acme.test")
	if _, err := c.ChangeRole(t.Context(), sdk.SystemActor(), tn.ID, bob.ID, "admin"); err != nil {
		t.Fatal(err)
	}

	r := rosterOn(t, st, "audit", "list", "--tenant", "acme")
	if r.code != 0 || !strings.Contains(r.stdout, "member.role_changed") || !strings.Contains(r.stdout, "tenant.created") {
		t.Fatalf("audit list: %s", r)
	}
	r = rosterOn(t, st, "audit", "list", "--tenant", "acme", "--member", "bob@acme.test", "--action", "member.role_changed", "--since", "1h", "--json")
	var p auditPage
	if err := json.Unmarshal([]byte(r.stdout), &p); r.code != 0 || err != nil || len(p.Events) != 1 || p.Events[0].TargetID != bob.ID {
		t.Fatalf("audit list --member --action --json: %v\n%s", err, r)
	}
	// --channel: bob's role change came through the system; an SDK
	// member acting makes an "sdk" event.
	owner, _ := c.MemberByEmail(t.Context(), tn.ID, "ann@acme.test")
	if _, err := c.ChangeRole(t.Context(), sdk.MemberActor(owner.ID), tn.ID, bob.ID, "standard"); err != nil {
		t.Fatal(err)
	}
	r = rosterOn(t, st, "audit", "list", "--tenant", "acme", "--channel", "sdk", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &p); r.code != 0 || err != nil || len(p.Events) != 1 || p.Events[0].Channel != "sdk" || p.Events[0].ActorID != owner.ID {
		t.Fatalf("audit list --channel sdk: %v\n%s", err, r)
	}
	r = rosterOn(t, st, "audit", "list", "--tenant", "acme", "--channel", "system", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &p); r.code != 0 || err != nil || len(p.Events) < 2 {
		t.Fatalf("audit list --channel system: %v\n%s", err, r)
	}
	for _, e := range p.Events {
		if e.Channel != "system" {
			t.Fatalf("audit list --channel system let through %+v", e)
		}
	}
	wantCode(t, rosterOn(t, st, "audit", "list", "--tenant", "acme", "--channel", "okta"), 2, `--channel "okta": use one of sdk, scim, sync, system`)
	r = rosterOn(t, st, "audit", "list", "--tenant", "acme", "--limit", "1", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &p); r.code != 0 || err != nil || len(p.Events) != 1 || p.NextCursor == "" {
		t.Fatalf("audit list --limit 1: %v\n%s", err, r)
	}
	first := p.Events[0].ID
	r = rosterOn(t, st, "audit", "list", "--tenant", "acme", "--limit", "1", "--cursor", p.NextCursor, "--json")
	if err := json.Unmarshal([]byte(r.stdout), &p); r.code != 0 || err != nil || len(p.Events) != 1 || p.Events[0].ID == first {
		t.Fatalf("audit list --cursor: %v\n%s", err, r)
	}
	r = rosterOn(t, st, "audit", "list", "--tenant", "acme", "--limit", "1")
	if r.code != 0 || !strings.Contains(r.stderr, "--cursor ") {
		t.Fatalf("audit list --limit 1 does not say how to go on: %s", r)
	}
	wantCode(t, rosterOn(t, st, "audit", "list", "--tenant", "acme", "--action", "member.exploded"), 2, "use one of member.added")
	wantCode(t, rosterOn(t, st, "audit", "list", "--tenant", "acme", "--limit", "ten"), 2, `--limit "ten": give a whole number`)
	wantCode(t, rosterOn(t, st, "audit", "list", "--tenant", "acme", "--limit", "0"), 2, "from 1 to 1000")
	wantCode(t, rosterOn(t, st, "audit", "list", "--tenant", "acme", "--since", "yesterday"), 2, "--since \"yesterday\"")
	wantCode(t, rosterOn(t, st, "audit", "list", "--tenant", "acme", "--cursor", "!!"), 2, "--cursor")
	wantCode(t, rosterOn(t, st, "audit", "list", "--tenant", "acme", "--member", "zed@acme.test"), 1, "by its id")
}
