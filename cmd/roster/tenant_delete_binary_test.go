package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestTenantDeleteBinary drives the built binary: 'tenant delete' without
// a terminal refuses without --yes, deletes with it (members, tokens and
// audit log gone, the slug free again), and 'audit list --channel' filters
// by channel and lists the valid ones when given another.
func TestTenantDeleteBinary(t *testing.T) {
	t.Parallel()
	bin := buildRoster(t)
	data := "--data=" + filepath.Join(t.TempDir(), "data")
	ok := func(args ...string) result {
		t.Helper()
		r := runBin(t, bin, append(args, data)...)
		if r.code != 0 {
			t.Fatalf("roster %v: %s", args, r)
		}
		return r
	}
	ok("tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "5")
	ok("member", "add", "--tenant", "acme", "--email", "bob@acme.test")
	ok("token", "create", "--tenant", "acme", "--name", "okta")

	// audit list --channel: everything so far came through the system.
	r := ok("audit", "list", "--tenant", "acme", "--channel", "system", "--json")
	var p auditPage
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || len(p.Events) < 2 {
		t.Fatalf("audit list --channel system: %v\n%s", err, r)
	}
	r = ok("audit", "list", "--tenant", "acme", "--channel", "scim", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || len(p.Events) != 0 {
		t.Fatalf("audit list --channel scim: %v\n%s", err, r)
	}
	r = runBin(t, bin, "audit", "list", "--tenant", "acme", "--channel", "okta", data)
	if r.code != 2 || !strings.Contains(r.stderr, `--channel "okta": use one of sdk, scim, sync, system`) || !strings.Contains(r.stderr, "Run 'roster audit list --help' for usage.") {
		t.Fatalf("audit list --channel okta: %s", r)
	}

	// Standard input is not a terminal here: --yes is needed.
	r = runBinIn(t, bin, "acme\n", "tenant", "delete", "acme", data)
	if r.code != 2 || !strings.Contains(r.stderr, "standard input is not a terminal, so give --yes") {
		t.Fatalf("tenant delete without --yes: %s", r)
	}
	ok("tenant", "show", "acme")
	r = ok("tenant", "delete", "acme", "--yes")
	if !strings.Contains(r.stdout, "deleted tenant acme") || !strings.Contains(r.stdout, "2 members") {
		t.Fatalf("tenant delete --yes: %s", r)
	}
	r = runBin(t, bin, "tenant", "show", "acme", data)
	if r.code != 1 || !strings.Contains(r.stderr, `no tenant with slug "acme"`) {
		t.Fatalf("tenant show after the deletion: %s", r)
	}
	r = runBin(t, bin, "tenant", "delete", "acme", "--yes", data)
	if r.code != 1 || !strings.Contains(r.stderr, `no tenant with slug "acme"`) {
		t.Fatalf("tenant delete twice: %s", r)
	}
	// The slug is free; the new tenant starts with its owner alone and no
	// tokens or history of the old one.
	ok("tenant", "create", "acme", "--owner-email", "zed@acme.test")
	r = ok("member", "list", "--tenant", "acme", "--json")
	if strings.Contains(r.stdout, "bob@acme.test") || !strings.Contains(r.stdout, "zed@acme.test") {
		t.Fatalf("member list of the new acme: %s", r)
	}
	r = ok("token", "list", "--tenant", "acme", "--json")
	if strings.Contains(r.stdout, "okta") {
		t.Fatalf("the new acme has the old one's token: %s", r)
	}
	r = ok("tenant", "delete", "acme", "--yes", "--json")
	var del tenantDeleted
	if err := json.Unmarshal([]byte(r.stdout), &del); err != nil || !del.Deleted || del.Members != 1 {
		t.Fatalf("tenant delete --json = %+v, %v\n%s", del, err, r)
	}
}
