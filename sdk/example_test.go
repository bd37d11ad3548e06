package sdk_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// A host creates a tenant on signup, then its owner builds the team.
func Example() {
	ctx := context.Background()
	client := sdk.New(memstore.New())

	tenant, owner, err := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", Name: "Acme", OwnerEmail: "ann@acme.test", IncludedSeats: 3,
	})
	if err != nil {
		panic(err)
	}
	ann := sdk.MemberActor(owner.ID)
	bob, err := client.AddMember(ctx, ann, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test", Role: "admin"})
	if err != nil {
		panic(err)
	}
	fmt.Println(bob.Email, bob.Role, bob.Status)

	_, err = client.AddMember(ctx, ann, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "Bob@ACME.test"})
	fmt.Println(errors.Is(err, sdk.ErrAlreadyExists), sdk.ReasonOf(err))
	// Output:
	// bob@acme.test admin active
	// true email_taken
}

// The seat limit is included seats plus extra seats; adding beyond it is
// refused with a typed reason, and buying a seat makes room.
func ExampleClient_AddMember_seatLimit() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 1,
	})
	ann := sdk.MemberActor(owner.ID)

	_, err := client.AddMember(ctx, ann, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test"})
	fmt.Println(sdk.ReasonOf(err), errors.Is(err, sdk.ErrResourceExhausted))

	tenant, _ = client.AddSeats(ctx, ann, tenant.ID, 1)
	_, err = client.AddMember(ctx, ann, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test"})
	fmt.Println(err, tenant.SeatLimit())
	// Output:
	// seat_limit true
	// <nil> 2
}

// A UI asks once per page which rows get a "Remove" button.
func ExamplePolicy_CheckAll() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 10,
	})
	sys := sdk.SystemActor()
	admin, _ := client.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "adam@acme.test", Role: "admin"})
	_, _ = client.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "ada@acme.test", Role: "admin"})
	_, _ = client.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: tenant.ID, Email: "sam@acme.test"})
	_ = owner

	policy, _ := client.Policy(ctx, sdk.MemberActor(admin.ID), tenant.ID)
	page, _ := client.ListMembers(ctx, tenant.ID, sdk.ListMembersOptions{})
	decisions := policy.CheckAll(nil, sdk.ActionRemove, page.Items)
	for i, m := range page.Items {
		fmt.Printf("%-15s %v %s\n", m.Email, decisions[i].Allowed, decisions[i].Reason)
	}
	// Output:
	// ann@acme.test   false target_is_owner
	// adam@acme.test  false self_action
	// ada@acme.test   false rank_too_low
	// sam@acme.test   true
}

// Ownership moves atomically; the old owner becomes an admin.
func ExampleClient_TransferOwnership() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 10,
	})
	bob, _ := client.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test"})

	tenant, err := client.TransferOwnership(ctx, sdk.MemberActor(owner.ID), tenant.ID, bob.ID)
	if err != nil {
		panic(err)
	}
	ann, _ := client.Member(ctx, tenant.ID, owner.ID)
	fmt.Println(tenant.OwnerID == bob.ID, ann.Role)

	// Ann can no longer act on the owner.
	err = client.RemoveMember(ctx, sdk.MemberActor(ann.ID), tenant.ID, bob.ID)
	fmt.Println(sdk.ReasonOf(err))
	// Output:
	// true admin
	// target_is_owner
}

// A host's session middleware compares the epoch it stored at sign-in.
func ExampleClient_SessionValid() {
	ctx := context.Background()
	client := sdk.New(memstore.New())
	tenant, owner, _ := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 10,
	})
	bob, _ := client.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: tenant.ID, Email: "bob@acme.test"})
	signInEpoch := bob.SessionEpoch

	ok, _ := client.SessionValid(ctx, tenant.ID, bob.ID, signInEpoch)
	fmt.Println(ok)
	_, _ = client.ForceLogout(ctx, sdk.MemberActor(owner.ID), tenant.ID, bob.ID)
	ok, _ = client.SessionValid(ctx, tenant.ID, bob.ID, signInEpoch)
	fmt.Println(ok)
	// Output:
	// true
	// false
}
