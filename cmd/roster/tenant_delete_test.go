package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// ttyInput is standard input that says it is a terminal.
type ttyInput struct{ *strings.Reader }

func (ttyInput) IsTerminal() bool { return true }

// rosterTTY runs a command on st with stdin as typed at a terminal.
func rosterTTY(t *testing.T, st sdk.Store, typed string, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	a := &app{stdout: &out, stderr: &errb, stdin: ttyInput{strings.NewReader(typed)}, getenv: func(string) string { return "" },
		open: func(context.Context, storeChoice, openMode, *slog.Logger) (*openedStore, error) {
			return &openedStore{store: st, where: "test store"}, nil
		}}
	code := run(t.Context(), args, a)
	return result{code, out.String(), errb.String()}
}

func TestTenantDelete(t *testing.T) {
	t.Parallel()
	st, c, tn := newAcme(t, 5)
	ctx := t.Context()

	// Not a terminal, no --yes: refused, nothing deleted.
	wantCode(t, rosterIn(t, st, "acme\n", "tenant", "delete", "acme"), 2, "standard input is not a terminal, so give --yes")
	// A terminal: the slug typed wrong is refused.
	r := rosterTTY(t, st, "acne\n", "tenant", "delete", "acme")
	wantCode(t, r, 1, `the slug typed ("acne") is not "acme": nothing was deleted`)
	if !strings.Contains(r.stderr, "This deletes tenant acme ("+tn.ID+") and its 3 members") || !strings.Contains(r.stderr, "Type the slug to confirm: ") {
		t.Fatalf("no confirmation prompt:\n%s", r)
	}
	if _, err := c.Tenant(ctx, tn.ID); err != nil {
		t.Fatalf("after refusals the tenant is gone: %v", err)
	}
	wantCode(t, rosterOn(t, st, "tenant", "delete", "nope", "--yes"), 1, `no tenant with slug "nope"`)
	wantCode(t, rosterOn(t, st, "tenant", "delete"), 2, "expects SLUG")

	// Typed right: deleted.
	r = rosterTTY(t, st, "acme\n", "tenant", "delete", "acme")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted tenant acme ("+tn.ID+"): 3 members") {
		t.Fatalf("tenant delete (confirmed): %s", r)
	}
	if _, err := c.Tenant(ctx, tn.ID); err == nil {
		t.Fatal("the tenant is still there")
	}
	wantCode(t, rosterOn(t, st, "tenant", "show", "acme"), 1, `no tenant with slug "acme"`)

	// --yes --json, on a new tenant of the same slug.
	mustCreate := rosterOn(t, st, "tenant", "create", "acme", "--owner-email", "zed@acme.test")
	if mustCreate.code != 0 {
		t.Fatalf("tenant create after the deletion: %s", mustCreate)
	}
	r = rosterOn(t, st, "tenant", "delete", "acme", "--yes", "--json")
	var got tenantDeleted
	if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil || !got.Deleted || got.Tenant.Slug != "acme" || got.Members != 1 {
		t.Fatalf("tenant delete --json = %+v, %v\n%s", got, err, r)
	}
}

// TestTenantDeleteFinishes: a tenant whose deletion stopped half-way says
// so, is listed as being deleted, and 'tenant delete' (or a reconcile)
// finishes it.
func TestTenantDeleteFinishes(t *testing.T) {
	t.Parallel()
	for _, finish := range [][]string{{"tenant", "delete", "acme", "--yes"}, {"tenant", "reconcile", "acme"}} {
		t.Run(finish[1], func(t *testing.T) {
			mem, _, tn := newAcme(t, 5)
			st := &halfDeletedStore{Store: mem, id: tn.ID}
			wantCode(t, rosterOn(t, st, "member", "list", "--tenant", "acme"), 1, "tenant \"acme\" is being deleted: an earlier 'roster tenant delete' stopped half-way; run 'roster tenant delete acme --yes' to finish it")
			r := rosterOn(t, st, "tenant", "list")
			if r.code != 0 || !strings.Contains(r.stdout, "being deleted") {
				t.Fatalf("tenant list: %s", r)
			}
			if finish[1] == "reconcile" {
				// The reconcile of serve's start-up takes the tenant from the list.
				res, err := reconcileTenant(t.Context(), sdk.New(st), &sdk.Tenant{ID: tn.ID, Slug: "acme", Deleting: true})
				if err != nil || !res.Deleted || !strings.Contains(res.String(), "finished its deletion") {
					t.Fatalf("reconcileTenant = %+v, %v", res, err)
				}
			} else {
				r = rosterOn(t, st, finish...)
				if r.code != 0 || !strings.Contains(r.stdout, "finished deleting tenant acme") {
					t.Fatalf("%v: %s", finish, r)
				}
			}
			if _, err := mem.GetTenant(t.Context(), tn.ID); err == nil {
				t.Fatal("the tenant is still there")
			}
		})
	}
}

// halfDeletedStore reads a tenant back marked deleting, as a store that
// deletes in steps does after a crash between them.
type halfDeletedStore struct {
	sdk.Store
	id string
}

func (s *halfDeletedStore) mark(t *sdk.Tenant) *sdk.Tenant {
	if t != nil && t.ID == s.id {
		t.Deleting = true
	}
	return t
}

func (s *halfDeletedStore) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	t, err := s.Store.GetTenant(ctx, id)
	return s.mark(t), err
}

func (s *halfDeletedStore) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	t, err := s.Store.GetTenantBySlug(ctx, slug)
	return s.mark(t), err
}

func (s *halfDeletedStore) ListTenants(ctx context.Context, q sdk.TenantQuery) ([]*sdk.Tenant, error) {
	ts, err := s.Store.ListTenants(ctx, q)
	for _, t := range ts {
		s.mark(t)
	}
	return ts, err
}

func (s *halfDeletedStore) DeleteTenant(ctx context.Context, id string, _ int64) error {
	t, err := s.Store.GetTenant(ctx, id)
	if err != nil {
		return err
	}
	return s.Store.DeleteTenant(ctx, id, t.Version)
}
