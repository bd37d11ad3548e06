package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
	"github.com/rosterhq/roster/sqlite"
)

// rosterOn runs a command against st instead of the store the command
// line selects, so that stores the command line cannot reach (memstore)
// serve several commands in turn.
func rosterOn(t *testing.T, st sdk.Store, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	a := &app{stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
		open: func(context.Context, storeChoice, openMode, *slog.Logger) (*openedStore, error) {
			return &openedStore{store: st, where: "test store"}, nil
		}}
	code := run(t.Context(), args, a)
	return result{code, out.String(), errb.String()}
}

func TestTokenCommands(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	c := sdk.New(st)
	tn, _, err := c.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	testTokens(t, func(args ...string) result { return rosterOn(t, st, args...) }, c, tn.ID)
}

// testTokens runs the token commands on tenant acme (id tenantID), which
// c reaches too.
func testTokens(t *testing.T, roster func(args ...string) result, c *sdk.Client, tenantID string) {
	t.Helper()
	r := roster("token", "create", "--tenant", "acme", "--name", "okta")
	if r.code != 0 {
		t.Fatalf("token create: %s", r)
	}
	secret := strings.TrimSuffix(r.stdout, "\n")
	if !strings.HasPrefix(secret, sdk.TokenPrefix) || strings.ContainsAny(secret, " \n") {
		t.Fatalf("token create printed %q, want the token alone", r.stdout)
	}
	for _, want := range []string{"shown once; store it now", "/scim/v2/acme", `"okta"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("token create, stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	tok, err := c.AuthenticateToken(t.Context(), tenantID, secret)
	if err != nil {
		t.Fatalf("the printed token does not authenticate: %v", err)
	}
	if r := roster("token", "create", "--tenant", "acme"); r.code != 0 {
		t.Fatalf("second token: %s", r)
	}

	r = roster("token", "list", "--tenant", "acme", "--json")
	var toks []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &toks); r.code != 0 || err != nil {
		t.Fatalf("token list --json: %v\n%s", err, r)
	}
	if len(toks) != 2 || toks[0]["id"] != tok.ID || toks[0]["name"] != "okta" || toks[1]["name"] != "scim" {
		t.Errorf("token list --json: %v", toks)
	}
	if _, ok := toks[0]["hash"]; ok || strings.Contains(r.stdout, secret) || strings.Contains(r.stdout, sdk.HashToken(secret)) {
		t.Errorf("token list shows a secret or hash:\n%s", r.stdout)
	}
	r = roster("token", "list", "--tenant", "acme")
	if !regexp.MustCompile(`(?m)^` + tok.ID + `\s+okta\s+…` + secret[len(secret)-4:] + `\s+\S+\s+\S+`).MatchString(r.stdout) {
		t.Errorf("token list table:\n%s", r)
	}

	r = roster("token", "revoke", "--tenant", "acme", tok.ID)
	if r.code != 0 || !strings.Contains(r.stderr, "Revoked SCIM token "+tok.ID) {
		t.Fatalf("token revoke: %s", r)
	}
	if _, err := c.AuthenticateToken(t.Context(), tenantID, secret); err == nil {
		t.Error("a revoked token still authenticates")
	}
	wantFail(t, roster("token", "revoke", "--tenant", "acme", tok.ID), `tenant "acme" has no token "`+tok.ID+`"`)
	wantFail(t, roster("token", "revoke", "--tenant", "acme"), "expects ID")
	wantFail(t, roster("token", "create", "--tenant", "nope"), `no tenant with slug "nope"`)
	wantFail(t, roster("token", "list"), `required flag(s) "tenant" not set`)
}

func TestTokenCommandsEmbedded(t *testing.T) {
	t.Parallel()
	data := "--data=" + t.TempDir()
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", data)
	dir := data[len("--data="):]
	c, done := openDirect(t, dir)
	defer done()
	tn, err := c.TenantBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	// The commands run beside the store this test holds open.
	testTokens(t, func(args ...string) result { return roster(t, nil, append(args, data)...) }, c, tn.ID)
}

// openDirect opens the store of the data directory dir in this process,
// beside any server running on it, and returns a client on it.
func openDirect(t *testing.T, dir string) (*sdk.Client, func()) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	return sdk.New(st), func() { _ = st.Close() }
}

func TestInvitationCommands(t *testing.T) {
	t.Parallel()
	data := "--data=" + t.TempDir()
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "3", data)

	r := mustRun(t, nil, "member", "invite", "--tenant", "acme", "--email", "dee@acme.test", "--given-name", "Dee", "--role", "admin", data)
	first := strings.TrimSuffix(r.stdout, "\n")
	if !strings.HasPrefix(first, "inv_") || strings.Contains(first, "\n") {
		t.Fatalf("member invite printed %q, want the secret alone", r.stdout)
	}
	if !strings.Contains(r.stderr, "Invited dee@acme.test to tenant \"acme\" as admin") || !strings.Contains(r.stderr, "shown once") {
		t.Errorf("member invite, stderr:\n%s", r.stderr)
	}
	ms := members(t, nil, data, "acme")
	if m := ms["dee@acme.test"]; m.Status != sdk.StatusInvited || m.GivenName != "Dee" {
		t.Errorf("invited member: %+v", m)
	}
	wantFail(t, roster(t, nil, "member", "invite", "--tenant", "acme", "--email", "DEE@acme.test", data), `"DEE@acme.test" is already a member of tenant "acme"`)
	wantFail(t, roster(t, nil, "member", "resend", "--tenant", "acme", "ann@acme.test", data), "ann@acme.test: the member is not waiting on an invitation")

	r = mustRun(t, nil, "member", "resend", "--tenant", "acme", "dee@acme.test", "--json", data)
	var out struct {
		Secret     string
		Member     sdk.Member
		Invitation sdk.Invitation
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.Secret, "inv_") || out.Secret == first || out.Member.Email != "dee@acme.test" || out.Invitation.ResendCount != 1 {
		t.Errorf("member resend --json: %+v", out)
	}
	wantFail(t, roster(t, nil, "member", "resend", "--tenant", "acme", "dee@acme.test", data), "resent too often")

	r = mustRun(t, nil, "member", "revoke", "--tenant", "acme", "dee@acme.test", data)
	if !strings.Contains(r.stderr, "Revoked the invitation of dee@acme.test") {
		t.Errorf("member revoke: %s", r)
	}
	wantFail(t, roster(t, nil, "member", "revoke", "--tenant", "acme", "dee@acme.test", data), `tenant "acme" has no member "dee@acme.test"`)
	// The seat is free again.
	mustRun(t, nil, "member", "add", "--tenant", "acme", "--email", "eve@acme.test", data)
	mustRun(t, nil, "member", "invite", "--tenant", "acme", "--email", "fay@acme.test", data)
	wantFail(t, roster(t, nil, "member", "invite", "--tenant", "acme", "--email", "gus@acme.test", data), `tenant "acme" has no free seat`)
}

// setSeatsUsed overwrites the seat counter of tenant slug in the data
// directory dir, as a crash between a member write and its seat update
// can leave it.
func setSeatsUsed(t *testing.T, dir, slug string, n int) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tn, err := st.GetTenantBySlug(t.Context(), slug)
	if err != nil {
		t.Fatal(err)
	}
	tn.SeatsUsed = n
	if err := st.ImportTenant(t.Context(), tn); err != nil {
		t.Fatalf("setting the seat counter: %v", err)
	}
}

func TestTenantReconcile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + dir
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", data)
	mustRun(t, nil, "member", "add", "--tenant", "acme", "--email", "bob@acme.test", data)
	r := mustRun(t, nil, "tenant", "reconcile", "acme", data)
	if !strings.Contains(r.stderr, `tenant "acme": nothing to repair (2 seat(s) in use)`) {
		t.Errorf("reconcile of a sound tenant: %s", r)
	}
	setSeatsUsed(t, dir, "acme", 7)
	r = mustRun(t, nil, "tenant", "reconcile", "acme", "--json", data)
	var res reconcileResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.SeatsBefore != 7 || res.SeatsAfter != 2 || res.RolesRepaired != 0 {
		t.Errorf("reconcile --json: %+v", res)
	}
	setSeatsUsed(t, dir, "acme", 0)
	r = mustRun(t, nil, "tenant", "reconcile", "acme", data)
	if !strings.Contains(r.stderr, `tenant "acme": repaired seat counter 0 -> 2`) {
		t.Errorf("reconcile: %s", r)
	}
	wantFail(t, roster(t, nil, "tenant", "reconcile", "nope", data), `no tenant with slug "nope"`)
	wantFail(t, roster(t, nil, "tenant", "reconcile", data), "expects SLUG")
}

// TestServeReconcilesAtStart checks that serve repairs a seat counter a
// crash left off, in the background, and logs it.
func TestServeReconcilesAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + dir
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", data)
	mustRun(t, nil, "tenant", "create", "beta", "--owner-email", "bea@beta.test", data)
	setSeatsUsed(t, dir, "beta", 5)

	s := startServe(t, map[string]string{envData: dir})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.stderr.String(), "reconcile: done") {
		if time.Now().After(deadline) {
			t.Fatalf("no reconcile logged:\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	log := s.stderr.String()
	if !strings.Contains(log, `reconcile: tenant \"beta\": repaired seat counter 5 -> 1`) || strings.Contains(log, `tenant \"acme\": repaired`) ||
		!regexp.MustCompile(`reconcile: done.* tenants=2 repaired=1`).MatchString(log) {
		t.Errorf("reconcile log:\n%s", log)
	}
	r := mustRun(t, nil, "tenant", "list", "--json", data)
	var ts []sdk.Tenant
	if err := json.Unmarshal([]byte(r.stdout), &ts); err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[1].SeatsUsed != 1 {
		t.Errorf("tenants after the start-up reconcile: %+v", ts)
	}
}

func TestServeRegistersBootstrapToken(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("b", 40)
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootToken: token}
	s := startServe(t, env, "--memory")
	if !strings.Contains(s.stderr.String(), "bootstrap: SCIM token registered") || !strings.Contains(s.stderr.String(), "name=bootstrap") {
		t.Errorf("bootstrap token not registered:\n%s", s.stderr)
	}
	if strings.Contains(s.stderr.String(), token) {
		t.Errorf("the token is logged:\n%s", s.stderr)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// On the embedded store: registered once, and found again on restart.
	dir := t.TempDir()
	env[envData] = dir
	for range 2 {
		s := startServe(t, env)
		s.stop(t)
	}
	c, done := openDirect(t, dir)
	defer done()
	tn, err := c.TenantBySlug(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	toks, err := c.ListTokens(t.Context(), sdk.SystemActor(), tn.ID)
	if err != nil || len(toks) != 1 || toks[0].Name != "bootstrap" {
		t.Fatalf("tokens after two starts: %v, %+v", err, toks)
	}
	if _, err := c.AuthenticateToken(t.Context(), tn.ID, token); err != nil {
		t.Errorf("the bootstrap token does not authenticate: %v", err)
	}
}

func TestSyncWhileServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envData: dir}
	s := startServe(t, env)
	people := writeFile(t, t.TempDir(), "people.csv", peopleCSV)
	r := mustRun(t, env, "sync", "--tenant", "acme", "--file", people, "--json")
	if sm := summary(t, r); sm.Created != 3 {
		t.Errorf("sync while serving: %+v", sm)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.stderr)
	}
	r = mustRun(t, env, "sync", "--tenant", "acme", "--file", people, "--json", "--data", filepath.Clean(dir))
	if sm := summary(t, r); sm.Unchanged != 3 || sm.Created != 0 {
		t.Errorf("re-run after the server stopped: %+v", sm)
	}
}
