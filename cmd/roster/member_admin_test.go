package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// rosterIn runs a command against st with stdin as its standard input.
func rosterIn(t *testing.T, st sdk.Store, stdin string, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	a := &app{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin), getenv: func(string) string { return "" },
		open: func(context.Context, storeChoice, openMode, *slog.Logger) (*openedStore, error) {
			return &openedStore{store: st, where: "test store"}, nil
		}}
	code := run(t.Context(), args, a)
	return result{code, out.String(), errb.String()}
}

func TestMemberShow(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	bob, _ := c.MemberByEmail(t.Context(), tn.ID, "bob@acme.test")
	for _, ref := range []string{"bob@acme.test", bob.ID} {
		r := rosterOn(t, st, "member", "show", "--tenant", "acme", ref)
		if r.code != 0 || !strings.Contains(r.stdout, "bob@acme.test") || !strings.Contains(r.stdout, bob.ID) {
			t.Fatalf("member show %s: %s", ref, r)
		}
	}
	r := rosterOn(t, st, "member", "show", "--tenant", "acme", "ann@acme.test", "--json")
	var m sdk.Member
	if err := json.Unmarshal([]byte(r.stdout), &m); r.code != 0 || err != nil || m.ID != tn.OwnerID {
		t.Fatalf("member show --json: %v\n%s", err, r)
	}
	wantCode(t, rosterOn(t, st, "member", "show", "--tenant", "acme", "zed@acme.test"), 1, `tenant "acme" has no member "zed@acme.test"`)
	wantCode(t, rosterOn(t, st, "member", "show", "--tenant", "acme"), 2, "expects MEMBER")
}

func TestMemberEdit(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	r := rosterOn(t, st, "member", "edit", "--tenant", "acme", "bob@acme.test", "--email", "rob@acme.test", "--given-name", "Rob", "--json")
	var m sdk.Member
	if err := json.Unmarshal([]byte(r.stdout), &m); r.code != 0 || err != nil || m.Email != "rob@acme.test" || m.GivenName != "Rob" {
		t.Fatalf("member edit --json: %v\n%s", err, r)
	}
	r = rosterIn(t, st, "correct horse battery staple\n", "member", "edit", "--tenant", "acme", "rob@acme.test", "--password-stdin", "--family-name", "Stone")
	if r.code != 0 {
		t.Fatalf("member edit --password-stdin: %s", r)
	}
	if _, err := c.VerifyPassword(t.Context(), tn.ID, "rob@acme.test", "correct horse battery staple"); err != nil {
		t.Errorf("the password read from stdin does not verify: %v", err)
	}
	if m, _ := c.MemberByEmail(t.Context(), tn.ID, "rob@acme.test"); m.FamilyName != "Stone" {
		t.Errorf("family name %q, want Stone", m.FamilyName)
	}
	wantCode(t, rosterIn(t, st, "", "member", "edit", "--tenant", "acme", "rob@acme.test", "--password-stdin"), 2, "no password")
	wantCode(t, rosterIn(t, st, "short\n", "member", "edit", "--tenant", "acme", "rob@acme.test", "--password-stdin"), 1, "--password-stdin: ")
	wantCode(t, rosterOn(t, st, "member", "edit", "--tenant", "acme", "rob@acme.test"), 2, "nothing to change")
	wantCode(t, rosterOn(t, st, "member", "edit", "--tenant", "acme", "rob@acme.test", "--email", "cat@acme.test"), 1, "already a member")
}

func TestMemberRole(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	r := rosterOn(t, st, "member", "role", "--tenant", "acme", "bob@acme.test", "admin")
	if r.code != 0 || !strings.Contains(r.stderr, "now has the role admin") {
		t.Fatalf("member role: %s", r)
	}
	if m, _ := c.MemberByEmail(t.Context(), tn.ID, "bob@acme.test"); m.Role != "admin" {
		t.Errorf("role %q, want admin", m.Role)
	}
	wantCode(t, rosterOn(t, st, "member", "role", "--tenant", "acme", "bob@acme.test", "boss"), 2, "use one of owner, admin, standard")
	wantCode(t, rosterOn(t, st, "member", "role", "--tenant", "acme", "bob@acme.test", "owner"), 2, "run 'roster member transfer-owner --tenant acme bob@acme.test'")
	wantCode(t, rosterOn(t, st, "member", "role", "--tenant", "acme", "ann@acme.test", "admin"), 1, "run 'roster member transfer-owner --tenant acme NEW-OWNER' first")
	wantCode(t, rosterOn(t, st, "member", "role", "--tenant", "acme", "bob@acme.test"), 2, "expects MEMBER")
}

func TestMemberTransferOwner(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	if _, err := c.Deactivate(t.Context(), sdk.SystemActor(), tn.ID, mustMember(t, c, tn.ID, "cat@acme.test").ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, rosterOn(t, st, "member", "transfer-owner", "--tenant", "acme", "cat@acme.test"), 1, "run 'roster member reactivate --tenant acme cat@acme.test' first")
	r := rosterOn(t, st, "member", "transfer-owner", "--tenant", "acme", "bob@acme.test", "--json")
	var got sdk.Tenant
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil || got.OwnerID != mustMember(t, c, tn.ID, "bob@acme.test").ID {
		t.Fatalf("transfer-owner --json: %v\n%s", err, r)
	}
	if m := mustMember(t, c, tn.ID, "ann@acme.test"); m.Role != "admin" {
		t.Errorf("old owner's role %q, want admin", m.Role)
	}
	wantCode(t, rosterOn(t, st, "member", "transfer-owner", "--tenant", "acme", "zed@acme.test"), 1, "has no member")
}

func mustMember(t *testing.T, c *sdk.Client, tenantID, email string) *sdk.Member {
	t.Helper()
	m, err := c.MemberByEmail(t.Context(), tenantID, email)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMemberBulk(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	cat := mustMember(t, c, tn.ID, "cat@acme.test")
	in := "# leads\nbob@acme.test\n\n" + cat.ID + "\nzed@acme.test\nann@acme.test\n"

	r := rosterIn(t, st, in, "member", "bulk", "role", "--tenant", "acme", "--file", "-", "--role", "admin", "--json")
	var rep bulkReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
		t.Fatalf("bulk role --json: %v\n%s", err, r)
	}
	if rep.Succeeded != 2 || rep.Failed != 2 || len(rep.Items) != 4 {
		t.Fatalf("bulk role report: %+v", rep)
	}
	if it := rep.Items[0]; !it.OK || it.Line != 2 || it.Member != "bob@acme.test" {
		t.Errorf("item 0: %+v", it)
	}
	if it := rep.Items[2]; it.OK || it.Line != 5 || !strings.Contains(it.Error, "has no member") {
		t.Errorf("item 2: %+v", it)
	}
	if it := rep.Items[3]; it.OK || !strings.Contains(it.Error, "transfer-owner") {
		t.Errorf("item 3: %+v", it)
	}
	if mustMember(t, c, tn.ID, "cat@acme.test").Role != "admin" {
		t.Error("cat is not admin after bulk role")
	}
	wantCode(t, r, 1, "2 of 4 member(s) failed")

	file := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(file, []byte("bob@acme.test\ncat@acme.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = rosterOn(t, st, "member", "bulk", "logout", "--tenant", "acme", "--file", file)
	if r.code != 0 || !strings.Contains(r.stdout, "cat@acme.test") || !strings.Contains(r.stderr, "2 member(s) done") {
		t.Fatalf("bulk logout: %s", r)
	}
	r = rosterOn(t, st, "member", "bulk", "remove", "--tenant", "acme", "--file", file)
	if r.code != 0 {
		t.Fatalf("bulk remove: %s", r)
	}
	if _, err := c.MemberByEmail(t.Context(), tn.ID, "bob@acme.test"); err == nil {
		t.Error("bob is still a member after bulk remove")
	}
	wantCode(t, rosterOn(t, st, "member", "bulk", "purge", "--tenant", "acme", "--file", file), 2, "use one of remove, logout, role")
	wantCode(t, rosterOn(t, st, "member", "bulk", "role", "--tenant", "acme", "--file", file), 2, "needs --role")
	wantCode(t, rosterOn(t, st, "member", "bulk", "role", "--tenant", "acme", "--file", file, "--role", "boss"), 2, "use one of owner, admin, standard")
	wantCode(t, rosterIn(t, st, "\n# none\n", "member", "bulk", "remove", "--tenant", "acme", "--file", "-"), 2, "lists no member")
	wantCode(t, rosterOn(t, st, "member", "bulk", "remove", "--tenant", "acme"), 2, `required flag(s) "file"`)
}
