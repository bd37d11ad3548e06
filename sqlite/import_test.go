package sqlite

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// source builds a tenant of every kind of record in a memstore: members
// with profiles (one with several addresses), a password, TOTP state,
// groups and edges, an invitation, a token and the audit events of all
// that.
func source(t *testing.T) (*memstore.Store, *sdk.Tenant) {
	ctx := t.Context()
	ms := memstore.New()
	c := sdk.New(ms, sdk.WithLogger(quiet))
	sys := sdk.SystemActor()
	tn, owner, err := c.CreateTenant(ctx, sys, sdk.CreateTenantRequest{Slug: "src", OwnerEmail: "owner@src.test", IncludedSeats: 20})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		req := sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("m%d@src.test", i), Password: "correct horse battery staple 9"}
		req.GivenName, req.FamilyName, req.Department = "Given", fmt.Sprint("F", i), "Eng"
		if i == 0 {
			req.Email = ""
			req.Emails = []sdk.Email{{Value: "m0@src.test", Type: "work", Primary: true}, {Value: "M0.Home@Src.test", Type: "home"}}
			req.Custom = map[string]string{}
		}
		m, err := c.AddMember(ctx, sys, req)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if err := ms.PutCredentials(ctx, &sdk.Credentials{TenantID: tn.ID, MemberID: owner.ID, TOTPSecret: "JBSWY3DPEHPK3PXP", TOTPLastStep: 42, UpdatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGroup(ctx, sys, sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Eng", ExternalID: "grp-1", Members: ids[:3]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddGroupMembers(ctx, sys, tn.ID, g.ID, ids[3:]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, sys, sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Empty"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Invite(ctx, sys, sdk.InviteRequest{TenantID: tn.ID, Email: "invitee@src.test"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CreateToken(ctx, sys, tn.ID, "scim"); err != nil {
		t.Fatal(err)
	}
	tn, err = ms.GetTenant(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ms, tn
}

// copyTenant copies the tenant from the memstore with the import methods,
// as a migration does.
func copyTenant(t *testing.T, from *memstore.Store, tn *sdk.Tenant, to *Store) {
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(to.ImportTenant(ctx, tn))
	members, err := from.ListMembers(ctx, tn.ID, sdk.MemberQuery{})
	must(err)
	must(to.ImportMembers(ctx, members, tn.Settings.UniqueEmailAcrossTenants))
	for _, m := range members {
		if cr, err := from.GetCredentials(ctx, tn.ID, m.ID); err == nil {
			must(to.ImportCredentials(ctx, cr))
		}
	}
	groups, err := from.ListGroups(ctx, tn.ID, sdk.GroupQuery{})
	must(err)
	for _, g := range groups {
		must(to.ImportGroup(ctx, g))
		ids, err := from.ListGroupMembers(ctx, tn.ID, g.ID, "", 0)
		must(err)
		var es []sdk.GroupEdge
		for _, id := range ids {
			es = append(es, sdk.GroupEdge{GroupID: g.ID, MemberID: id})
		}
		must(to.ImportEdges(ctx, tn.ID, es))
	}
	invs, err := from.ListInvitations(ctx, tn.ID, sdk.InvitationQuery{})
	must(err)
	for _, inv := range invs {
		must(to.ImportInvitation(ctx, inv))
	}
	toks, err := from.ListTokens(ctx, tn.ID)
	must(err)
	for _, tok := range toks {
		must(to.ImportToken(ctx, tok))
	}
	evs, err := from.ListAudit(ctx, tn.ID, sdk.AuditQuery{})
	must(err)
	must(to.ImportAudits(ctx, evs))
}

func TestImport(t *testing.T) {
	ctx := t.Context()
	from, tn := source(t)
	to := openTest(t)
	copyTenant(t, from, tn, to)
	// Run again, as a resumed migration does: nothing changes.
	copyTenant(t, from, tn, to)

	same := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}
	gotT, err := to.GetTenant(ctx, tn.ID)
	same("tenant", gotT, tn, err)
	wantM, _ := from.ListMembers(ctx, tn.ID, sdk.MemberQuery{})
	gotM, err := to.ListMembers(ctx, tn.ID, sdk.MemberQuery{})
	if err != nil || len(gotM) != len(wantM) {
		t.Fatalf("members: %d, %v; want %d", len(gotM), err, len(wantM))
	}
	for i := range wantM {
		// Empty and nil lists and maps are the same to every store.
		if len(wantM[i].Custom) == 0 {
			wantM[i].Custom = nil
		}
		same("member "+wantM[i].Email, gotM[i], wantM[i], nil)
	}
	for _, m := range wantM {
		wantC, werr := from.GetCredentials(ctx, tn.ID, m.ID)
		gotC, gerr := to.GetCredentials(ctx, tn.ID, m.ID)
		if werr != nil {
			if !reflect.DeepEqual(sdk.CodeOf(gerr), sdk.CodeOf(werr)) {
				t.Errorf("credentials of %s: %v, want %v", m.ID, gerr, werr)
			}
			continue
		}
		same("credentials of "+m.Email, gotC, wantC, gerr)
	}
	wantG, _ := from.ListGroups(ctx, tn.ID, sdk.GroupQuery{})
	gotG, err := to.ListGroups(ctx, tn.ID, sdk.GroupQuery{})
	same("groups", gotG, wantG, err)
	for _, g := range wantG {
		want, _ := from.ListGroupMembers(ctx, tn.ID, g.ID, "", 0)
		got, err := to.ListGroupMembers(ctx, tn.ID, g.ID, "", 0)
		same("members of "+g.DisplayName, got, want, err)
	}
	wantI, _ := from.ListInvitations(ctx, tn.ID, sdk.InvitationQuery{})
	gotI, err := to.ListInvitations(ctx, tn.ID, sdk.InvitationQuery{})
	same("invitations", gotI, wantI, err)
	wantK, _ := from.ListTokens(ctx, tn.ID)
	gotK, err := to.ListTokens(ctx, tn.ID)
	same("tokens", gotK, wantK, err)
	wantA, _ := from.ListAudit(ctx, tn.ID, sdk.AuditQuery{})
	gotA, err := to.ListAudit(ctx, tn.ID, sdk.AuditQuery{})
	same("audit", gotA, wantA, err)

	// The copy is a working store: the seat counter, the owner and the
	// indexes came along.
	c := sdk.New(to, sdk.WithLogger(quiet))
	if m, err := c.MemberByEmail(ctx, tn.ID, "M0.home@src.test"); err == nil {
		t.Errorf("MemberByEmail(a second address) = %s; only the member email is a key", m.ID)
	}
	n, err := to.CountMembers(ctx, tn.ID, sdk.MemberFilter{Where: sdk.Compare(sdk.FieldEmailValue, sdk.OpEq, "m0.home@src.test")})
	if err != nil || n != 1 {
		t.Errorf("members with a second address = %d, %v; want 1", n, err)
	}
	if _, err := c.AddMember(ctx, sdk.MemberActor(tn.OwnerID), sdk.AddMemberRequest{TenantID: tn.ID, Email: "m1@src.test"}); sdk.ReasonOf(err) != sdk.ReasonEmailTaken {
		t.Errorf("AddMember(an imported address) = %v, want %s", err, sdk.ReasonEmailTaken)
	}

	counts, err := to.Counts(ctx, []string{tn.ID, "no-such-tenant"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"tenants": 1, "members": int64(len(wantM)), "groups": 2, "edges": 5, "invitations": 1,
		"credentials": 6, // five passwords and the owner's TOTP
		"tokens":      1, "audit": int64(len(wantA)),
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("Counts = %v, want %v", counts, want)
	}
}

// TestImportConflicts checks that an import cannot break a unique key.
func TestImportConflicts(t *testing.T) {
	ctx := context.Background()
	from, tn := source(t)
	to := openTest(t)
	copyTenant(t, from, tn, to)
	members, _ := from.ListMembers(ctx, tn.ID, sdk.MemberQuery{Limit: 2})
	twin := members[1].Clone()
	twin.ID = sdk.NewID()
	if err := to.ImportMembers(ctx, []*sdk.Member{twin}, false); sdk.ReasonOf(err) != sdk.ReasonEmailTaken {
		t.Errorf("ImportMembers(another member's address) = %v, want %s", err, sdk.ReasonEmailTaken)
	}
	other := tn.Clone()
	other.ID = sdk.NewID()
	if err := to.ImportTenant(ctx, other); sdk.ReasonOf(err) != sdk.ReasonSlugTaken {
		t.Errorf("ImportTenant(another tenant's slug) = %v, want %s", err, sdk.ReasonSlugTaken)
	}
}
