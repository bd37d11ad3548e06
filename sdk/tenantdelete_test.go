package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func TestDeleteTenantPolicy(t *testing.T) {
	events := make(chan sdk.Event, 16)
	w := newWorld(t, sdk.CreateTenantRequest{}, sdk.WithObserver(sdk.ObserverFunc(func(_ context.Context, e sdk.Event) {
		if e.Type == sdk.EventTenantDeleted {
			events <- e
		}
	})))
	ctx := t.Context()
	// tenant:delete is the owner's alone in the standard preset.
	for name, a := range map[string]sdk.Actor{"admin": w.adminA, "standard": w.stdA, "scim token": w.scimToken} {
		err := w.c.DeleteTenant(ctx, a, w.t.ID)
		if err == nil {
			t.Fatalf("DeleteTenant by %s succeeded; want a refusal", name)
		}
		if w.count(t) != 5 {
			t.Fatalf("a refused DeleteTenant by %s deleted members", name)
		}
	}
	wantRefused(t, w.c.DeleteTenant(ctx, w.adminA, w.t.ID), sdk.ErrPermissionDenied, sdk.ReasonMissingPermission)

	if err := w.c.DeleteTenant(ctx, w.ownerA, w.t.ID); err != nil {
		t.Fatalf("DeleteTenant by the owner: %v", err)
	}
	select {
	case e := <-events:
		if e.TenantID != w.t.ID || e.Actor != w.ownerA || e.Tenant == nil || e.Tenant.Slug != "acme" {
			t.Fatalf("event = %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no tenant.deleted event")
	}
	if _, err := w.c.TenantBySlug(ctx, "acme"); err == nil {
		t.Fatal("the deleted tenant is still found by its slug")
	}
	wantRefused(t, w.c.DeleteTenant(ctx, w.system, w.t.ID), sdk.ErrNotFound, "")
	// The slug is free.
	if _, _, err := w.c.CreateTenant(ctx, w.system, sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "new@acme.test", IncludedSeats: 2}); err != nil {
		t.Fatalf("CreateTenant(acme) after the deletion: %v", err)
	}
}

// halfDeleted is a store on which a tenant's deletion stopped after its
// first step: the tenant reads back with Deleting set until DeleteTenant
// runs again.
type halfDeleted struct {
	sdk.Store
	id string
}

func (s *halfDeleted) mark(t *sdk.Tenant) *sdk.Tenant {
	if t != nil && t.ID == s.id {
		t.Deleting = true
	}
	return t
}

func (s *halfDeleted) GetTenant(ctx context.Context, id string) (*sdk.Tenant, error) {
	t, err := s.Store.GetTenant(ctx, id)
	return s.mark(t), err
}

func (s *halfDeleted) GetTenantBySlug(ctx context.Context, slug string) (*sdk.Tenant, error) {
	t, err := s.Store.GetTenantBySlug(ctx, slug)
	return s.mark(t), err
}

func (s *halfDeleted) ListTenants(ctx context.Context, q sdk.TenantQuery) ([]*sdk.Tenant, error) {
	ts, err := s.Store.ListTenants(ctx, q)
	for _, t := range ts {
		s.mark(t)
	}
	return ts, err
}

func (s *halfDeleted) DeleteTenant(ctx context.Context, id string, v int64) error {
	t, err := s.Store.GetTenant(ctx, id)
	if err != nil {
		return err
	}
	// A marked tenant is deleted whatever the version.
	return s.Store.DeleteTenant(ctx, id, t.Version)
}

func TestDeleteTenantHalfDone(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	st := &halfDeleted{Store: w.store, id: w.t.ID}
	c := sdk.New(st)
	_, err := c.TenantBySlug(ctx, "acme")
	wantRefused(t, err, sdk.ErrNotFound, sdk.ReasonTenantDeleting)
	_, err = c.AddMember(ctx, w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: "late@acme.test"})
	wantRefused(t, err, sdk.ErrNotFound, sdk.ReasonTenantDeleting)
	_, err = c.Reconcile(ctx, w.t.ID)
	wantRefused(t, err, sdk.ErrNotFound, sdk.ReasonTenantDeleting)
	// Only the host system finishes it: the owner's member may be gone.
	wantRefused(t, c.DeleteTenant(ctx, w.ownerA, w.t.ID), sdk.ErrNotFound, sdk.ReasonTenantDeleting)
	page, err := c.ListTenants(ctx, sdk.ListOptions{})
	if err != nil || len(page.Items) != 1 || !page.Items[0].Deleting {
		t.Fatalf("ListTenants = %+v, %v; want the tenant, marked deleting", page, err)
	}
	if err := c.DeleteTenant(ctx, w.system, w.t.ID); err != nil {
		t.Fatalf("DeleteTenant finishing the deletion: %v", err)
	}
	_, err = c.Tenant(ctx, w.t.ID)
	wantRefused(t, err, sdk.ErrNotFound, "")
}
