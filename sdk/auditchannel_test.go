package sdk_test

import (
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestAuditLogChannel(t *testing.T) {
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	if _, err := w.c.ChangeRole(ctx, w.ownerA, w.t.ID, w.std.ID, w.admin.Role); err != nil {
		t.Fatal(err)
	}
	page, err := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{Channel: "sdk"})
	if err != nil || len(page.Items) != 1 || page.Items[0].Action != string(sdk.EventMemberRoleChanged) {
		t.Fatalf("AuditLog(channel sdk) = %+v, %v; want the owner's role change alone", page, err)
	}
	all, err := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	page, err = w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{Channel: "system"})
	if err != nil || len(page.Items) != len(all.Items)-1 {
		t.Fatalf("AuditLog(channel system) = %d events, %v; want all %d but the owner's", len(page.Items), err, len(all.Items))
	}
	for _, e := range page.Items {
		if e.Channel != "system" {
			t.Fatalf("AuditLog(channel system) let through %+v", e)
		}
	}
	_, err = w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{Channel: "okta"})
	wantRefused(t, err, sdk.ErrInvalidArgument, sdk.ReasonInvalid)
}

func TestAuditActions(t *testing.T) {
	seen := map[sdk.EventType]bool{}
	for _, a := range sdk.AuditActions {
		if seen[a] {
			t.Errorf("AuditActions lists %s twice", a)
		}
		seen[a] = true
	}
	if seen[sdk.EventTenantDeleted] {
		t.Errorf("AuditActions lists %s, which no audit log holds", sdk.EventTenantDeleted)
	}
	// What a tenant's life writes is among them.
	w := newWorld(t, sdk.CreateTenantRequest{})
	ctx := t.Context()
	if _, err := w.c.ChangeRole(ctx, w.ownerA, w.t.ID, w.std.ID, w.admin.Role); err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.AddSeats(ctx, w.ownerA, w.t.ID, 2); err != nil {
		t.Fatal(err)
	}
	page, err := w.c.AuditLog(ctx, w.system, w.t.ID, sdk.AuditListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Items {
		if !seen[sdk.EventType(e.Action)] {
			t.Errorf("the audit log holds %s, which AuditActions does not list", e.Action)
		}
	}
}
