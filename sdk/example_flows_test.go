package sdk_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// An admin invites; the invitee follows the link and accepts.
func ExampleClient_Invite() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 5,
	})

	inv, err := client.Invite(ctx, sdk.MemberActor(owner.ID), sdk.InviteRequest{TenantID: tenant.ID, Email: "bob@acme.test"})
	if err != nil {
		panic(err)
	}
	fmt.Println(inv.Member.Status)
	// Send inv.Secret to bob, e.g. as https://app.example/accept?s=<secret>.

	bob, err := client.Accept(ctx, sdk.AcceptRequest{Secret: inv.Secret, GivenName: "Bob"})
	if err != nil {
		panic(err)
	}
	fmt.Println(bob.GivenName, bob.Status)

	_, err = client.Accept(ctx, sdk.AcceptRequest{Secret: inv.Secret})
	fmt.Println(sdk.ReasonOf(err))
	// Output:
	// invited
	// Bob active
	// invitation_used
}

// A host's session middleware rejects sessions older than the member's
// last force logout.
func ExampleClient_ForceLogout() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 5,
	})
	bob, _ := client.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test"})

	// The session the host stored at sign-in.
	type session struct {
		memberID string
		epoch    int64
	}
	bobSession := session{bob.ID, bob.SessionEpoch}

	requireSession := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ok, err := client.SessionValid(r.Context(), tenant.ID, bobSession.memberID, bobSession.epoch)
			if err != nil || !ok {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	h := requireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code)

	_, _ = client.ForceLogout(ctx, sdk.MemberActor(owner.ID), tenant.ID, bob.ID)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code)
	// Output:
	// 200
	// 401
}

// Removing a member hands what they own to someone else first.
func ExampleClient_Remove() {
	ctx := context.Background()
	hook := sdk.ReassignFunc(func(ctx context.Context, tenantID, from, to string) (sdk.ReassignResult, error) {
		// Move deals, lists, tasks… in the host's own database here.
		return sdk.ReassignResult{Reassigned: map[string]int{"deals": 12}, Broken: []string{"API key ci-deploy"}}, nil
	})
	client := sdk.New(memstore.New(), sdk.WithReassigner(hook))
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 5,
	})
	bob, _ := client.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test"})

	res, err := client.Remove(ctx, sdk.MemberActor(owner.ID), sdk.RemoveRequest{TenantID: tenant.ID, MemberID: bob.ID})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.ReassignedTo == owner.ID, res.Reassigned["deals"], res.Broken)
	// Output:
	// true 12 [API key ci-deploy all sessions of bob@acme.test]
}

// Bulk operations report every item; one bad item never stops the rest.
func ExampleClient_BulkRemove() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 5,
	})
	ann := sdk.MemberActor(owner.ID)
	bob, _ := client.AddMember(ctx, ann, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test"})
	cat, _ := client.AddMember(ctx, ann, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "cat@acme.test"})

	res, _ := client.BulkRemove(ctx, ann, tenant.ID, []string{bob.ID, owner.ID, cat.ID, bob.ID})
	for _, it := range res.Items {
		if it.Err != nil {
			fmt.Println(it.Index, "failed:", sdk.ReasonOf(it.Err))
		} else {
			fmt.Println(it.Index, "removed")
		}
	}
	fmt.Println(res.Succeeded, "succeeded,", res.Failed, "failed")
	// Output:
	// 0 removed
	// 1 failed: self_action
	// 2 removed
	// 3 failed: duplicate_item
	// 2 succeeded, 2 failed
}

// The audit log lists who did what, newest first.
func ExampleClient_AuditLog() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 5,
	})
	ann := sdk.MemberActor(owner.ID)
	bob, _ := client.AddMember(ctx, ann, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test"})
	_, _ = client.ChangeRole(ctx, ann, tenant.ID, bob.ID, "admin")

	page, _ := client.AuditLog(ctx, ann, tenant.ID, sdk.AuditListOptions{TargetID: bob.ID})
	for _, e := range page.Items {
		fmt.Println(e.Action, e.Channel, e.Before["role"], "->", e.After["role"])
	}
	// Output:
	// member.role_changed sdk standard -> admin
	// member.added sdk  -> standard
}
