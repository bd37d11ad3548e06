// Package sdk is Roster's embeddable team-management SDK: tenants, members,
// roles, seats, ownership, sessions and the audit log, with every product
// rule enforced inside it so that a host application cannot forget one.
//
// A host builds one [Client] on a [Store] — [github.com/rosterhq/roster/mongo]
// in production, [github.com/rosterhq/roster/sdk/memstore] in tests — and
// calls its methods with the acting principal ([Actor]) as an explicit
// argument:
//
//	client := sdk.New(store)
//	t, owner, err := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
//		Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 10,
//	})
//	m, err := client.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{
//		TenantID: t.ID, Email: "bob@acme.test", Role: "admin",
//	})
//
// Every mutating call checks policy on fresh data before it writes: seat
// limits, owner protection, the rank guard, self-action and permissions.
// Adding a member (AddMember, Invite: the hot path of a provisioning run)
// decides on the Client's last snapshot of the tenant instead of reading
// it, and the store takes the seat only if the tenant is still at that
// snapshot's version; when it is not, or the snapshot refused, the call
// reads the tenant and decides again. So a decision is never made on data
// older than what the write checks, even with several servers on one
// database.
// The same checks are available without side effects through [Policy] (no
// I/O, no allocation: ask about a whole members page at once) and
// [Client.Check].
//
// Errors are [*Error] values carrying a [Code] (match with errors.Is against
// [ErrNotFound], [ErrPermissionDenied], …) and a stable [Reason] (read with
// [ReasonOf]), so transports such as the SCIM endpoint map them without
// string matching.
//
// The SCIM endpoint (package scim), the HR sync and the roster command are
// all built on this package; none of them re-checks a rule.
package sdk
