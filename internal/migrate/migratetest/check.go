package migratetest

import (
	"cmp"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/sdk"
)

// Run copies a [Source] into targets that open returns, each a fresh,
// empty store seen as the Target that receives the copy and as the
// sdk.Store the SDK then runs on (the same store), and checks the copy:
//
//   - Copy: the report counts what the source holds, the target then
//     holds the same records ([Compare]) and behaves as the source
//     ([Behaves]);
//   - Again: copying a second time changes nothing;
//   - Refusals: the uniqueness rules of the target refuse imports that
//     break them, with the errors the contract gives.
func Run(t *testing.T, open func(t *testing.T) (migrate.Target, sdk.Store)) {
	t.Run("Copy", func(t *testing.T) {
		src := NewSource(t, 0)
		dst, st := open(t)
		rep, err := migrate.Copy(t.Context(), src.Store, dst, migrate.Options{BatchSize: 2})
		if err != nil {
			t.Fatalf("Copy: %v", err)
		}
		CheckReport(t, src, rep)
		Compare(t, src.Store, st, src.TenantIDs())
		Behaves(t, src, st)
	})
	t.Run("Again", func(t *testing.T) {
		src := NewSource(t, 0)
		dst, st := open(t)
		for i, opt := range []migrate.Options{{}, {AllowNonEmpty: true, BatchSize: 3}} {
			rep, err := migrate.Copy(t.Context(), src.Store, dst, opt)
			if err != nil {
				t.Fatalf("Copy #%d: %v", i+1, err)
			}
			CheckReport(t, src, rep)
		}
		Compare(t, src.Store, st, src.TenantIDs())
	})
	t.Run("Refusals", func(t *testing.T) {
		src := NewSource(t, 0)
		dst, _ := open(t)
		if _, err := migrate.Copy(t.Context(), src.Store, dst, migrate.Options{}); err != nil {
			t.Fatalf("Copy: %v", err)
		}
		refusals(t, src, dst)
	})
}

// TenantIDs returns the ids of the source's tenants.
func (s *Source) TenantIDs() []string {
	ids := []string{s.Acme.ID, s.Globex.ID, s.Initech.ID}
	for _, t := range s.Extra {
		ids = append(ids, t.ID)
	}
	return ids
}

// CheckReport fails t unless rep reports a complete copy of src: every
// tenant, the counts src holds, and equal counts in the target.
func CheckReport(t *testing.T, src *Source, rep *migrate.Report) {
	t.Helper()
	want := maps.Clone(src.Want)
	for _, id := range src.TenantIDs() {
		want[migrate.Audit] += int64(len(all(t, func(before string) ([]*sdk.AuditEvent, error) {
			return src.Store.ListAudit(t.Context(), id, sdk.AuditQuery{Before: before, Limit: 100})
		}, func(e *sdk.AuditEvent) string { return e.ID })))
	}
	if rep.Tenants != len(src.TenantIDs()) || rep.Copied+rep.Skipped != rep.Tenants {
		t.Errorf("report: %d tenants, %d copied, %d skipped; want %d in all", rep.Tenants, rep.Copied, rep.Skipped, len(src.TenantIDs()))
	}
	for _, k := range migrate.Collections {
		if rep.Source[k] != want[k] || rep.Target[k] != want[k] {
			t.Errorf("report: %s: %d in the source, %d in the target; want %d", k, rep.Source[k], rep.Target[k], want[k])
		}
	}
}

// all reads every item of a list a page at a time; key returns an item's
// cursor.
func all[T any](t *testing.T, page func(after string) ([]T, error), key func(T) string) []T {
	t.Helper()
	var out []T
	after := ""
	for {
		items, err := page(after)
		if err != nil {
			t.Fatalf("listing: %v", err)
		}
		out = append(out, items...)
		if len(items) == 0 {
			return out
		}
		after = key(items[len(items)-1])
	}
}

// same fails t unless got and want have the same JSON form (which reads
// times in any location alike); what names them in the failure.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s differs:\n got  %s\n want %s", what, g, w)
	}
}

// Compare fails t unless dst holds exactly the records src holds for the
// tenants ids, read through the store contract: tenants, members (but
// the groups members carry, see below), their credentials (password hash
// and TOTP state), groups, edges (ListGroupMembers and ListMemberGroups),
// invitations (secret hashes and resends included), tokens and audit
// events.
func Compare(t *testing.T, src, dst sdk.Store, ids []string) {
	t.Helper()
	ctx := t.Context()
	for _, id := range ids {
		want, err := src.GetTenant(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.GetTenant(ctx, id)
		if err != nil {
			t.Fatalf("tenant %s: %v", want.Slug, err)
		}
		same(t, "tenant "+want.Slug, got, want)
		for _, c := range []func(t *testing.T, src, dst sdk.Store, tenantID string){compareMembers, compareGroups, compareRest} {
			c(t, src, dst, id)
		}
	}
}

// members lists every member of a tenant, without the groups some stores
// inline.
func members(t *testing.T, s sdk.Store, tenantID string) []*sdk.Member {
	t.Helper()
	ms := all(t, func(after string) ([]*sdk.Member, error) {
		return s.ListMembers(t.Context(), tenantID, sdk.MemberQuery{After: after, Limit: 100})
	}, func(m *sdk.Member) string { return m.ID })
	for i, m := range ms {
		ms[i] = m.Clone()
		ms[i].Groups = nil
	}
	return ms
}

func compareMembers(t *testing.T, src, dst sdk.Store, tenantID string) {
	ctx := t.Context()
	want, got := members(t, src, tenantID), members(t, dst, tenantID)
	same(t, "members of tenant "+tenantID, got, want)
	ids := make([]string, len(want))
	for i, m := range want {
		ids[i] = m.ID
		wc, werr := src.GetCredentials(ctx, tenantID, m.ID)
		gc, gerr := dst.GetCredentials(ctx, tenantID, m.ID)
		switch {
		case errors.Is(werr, sdk.ErrNotFound) && errors.Is(gerr, sdk.ErrNotFound):
		case werr != nil:
			t.Fatal(werr)
		case gerr != nil:
			t.Errorf("credentials of %s: %v", m.Email, gerr)
		default:
			wc.UpdatedAt, gc.UpdatedAt = time.Time{}, time.Time{}
			same(t, "credentials of "+m.Email, gc, wc)
		}
	}
	we, err := src.ListMemberGroups(ctx, tenantID, ids)
	if err != nil {
		t.Fatal(err)
	}
	ge, err := dst.ListMemberGroups(ctx, tenantID, ids)
	if err != nil {
		t.Fatal(err)
	}
	sortEdges(we)
	sortEdges(ge)
	same(t, "edges of the members of tenant "+tenantID, ge, we)
}

func sortEdges(es []sdk.GroupEdge) {
	slices.SortFunc(es, func(a, b sdk.GroupEdge) int {
		if a.MemberID != b.MemberID {
			return cmp.Compare(a.MemberID, b.MemberID)
		}
		return cmp.Compare(a.GroupID, b.GroupID)
	})
}

func compareGroups(t *testing.T, src, dst sdk.Store, tenantID string) {
	groups := func(s sdk.Store) []*sdk.Group {
		return all(t, func(after string) ([]*sdk.Group, error) {
			return s.ListGroups(t.Context(), tenantID, sdk.GroupQuery{After: after, Limit: 100})
		}, func(g *sdk.Group) string { return g.ID })
	}
	want := groups(src)
	same(t, "groups of tenant "+tenantID, groups(dst), want)
	for _, g := range want {
		edges := func(s sdk.Store) []string {
			return all(t, func(after string) ([]string, error) {
				return s.ListGroupMembers(t.Context(), tenantID, g.ID, after, 100)
			}, func(id string) string { return id })
		}
		same(t, "members of group "+g.DisplayName, edges(dst), edges(src))
	}
}

// compareRest compares invitations, tokens and audit events.
func compareRest(t *testing.T, src, dst sdk.Store, tenantID string) {
	ctx := t.Context()
	invitations := func(s sdk.Store) []*sdk.Invitation {
		return all(t, func(after string) ([]*sdk.Invitation, error) {
			return s.ListInvitations(ctx, tenantID, sdk.InvitationQuery{After: after, Limit: 100})
		}, func(i *sdk.Invitation) string { return i.ID })
	}
	wi, gi := invitations(src), invitations(dst)
	same(t, "invitations of tenant "+tenantID, gi, wi)
	// SecretHash and Resends are not part of the JSON form.
	secrets := func(is []*sdk.Invitation) (out [][]any) {
		for _, i := range is {
			out = append(out, []any{i.SecretHash, i.Resends})
		}
		return out
	}
	same(t, "invitation secrets of tenant "+tenantID, secrets(gi), secrets(wi))
	wt, err := src.ListTokens(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := dst.ListTokens(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "tokens of tenant "+tenantID, gt, wt)
	audit := func(s sdk.Store) []*sdk.AuditEvent {
		return all(t, func(before string) ([]*sdk.AuditEvent, error) {
			return s.ListAudit(ctx, tenantID, sdk.AuditQuery{Before: before, Limit: 100})
		}, func(e *sdk.AuditEvent) string { return e.ID })
	}
	same(t, "audit of tenant "+tenantID, audit(dst), audit(src))
}

// Behaves drives the SDK on dst, a copy of src, and fails t unless it
// behaves as the source would: members are found by email, userName and
// external id; lists and searches answer as the source's; passwords, TOTP
// (without replay of a code used before the copy), SCIM tokens and the
// invitation work; a new member takes a seat, the full tenant refuses
// one, a recount finds nothing to repair; the owner stays protected; an
// address held in a tenant that requires unique addresses is refused to
// another such tenant until its holder lets it go. It changes dst.
func Behaves(t *testing.T, src *Source, dst sdk.Store) {
	t.Helper()
	ctx := t.Context()
	was, now := src.Client(src.Store), src.Client(dst)
	acme := src.Acme
	ann, bob := acme.Owner(), acme.Members["bob"]

	for _, look := range []struct {
		name string
		get  func() (*sdk.Member, error)
	}{
		{"email", func() (*sdk.Member, error) { return now.MemberByEmail(ctx, acme.ID, "BOB@acme.test") }},
		{"userName", func() (*sdk.Member, error) { return now.MemberByUserName(ctx, acme.ID, "bob.smith") }},
		{"externalId", func() (*sdk.Member, error) { return now.MemberByExternalID(ctx, acme.ID, "ext-bob") }},
	} {
		if m, err := look.get(); err != nil || m.ID != bob.ID {
			t.Errorf("bob by %s: %v, %v", look.name, m, err)
		}
	}

	ids := func(c *sdk.Client, opts sdk.ListMembersOptions) []string {
		p, err := c.ListMembers(ctx, acme.ID, opts)
		if err != nil {
			t.Fatalf("ListMembers(%+v): %v", opts, err)
		}
		out := []string{}
		for _, m := range p.Items {
			out = append(out, m.ID)
		}
		return append(out, p.NextCursor)
	}
	for _, opts := range []sdk.ListMembersOptions{
		{}, {Status: sdk.StatusDeactivated}, {Status: sdk.StatusInvited}, {Role: "admin"}, {Prefix: "B"},
		{ListOptions: sdk.ListOptions{PageSize: 2}},
	} {
		same(t, "members listed with "+string(mustJSON(opts)), ids(now, opts), ids(was, opts))
	}
	for _, where := range []*sdk.Cond{
		sdk.Compare(sdk.FieldTitle, sdk.OpEq, "ENGINEER"),
		sdk.Compare(sdk.FieldEmailValue, sdk.OpEq, "bob@home.test"),
		sdk.Compare(sdk.FieldManagerID, sdk.OpEq, bob.ID),
		sdk.Not(sdk.Compare(sdk.FieldActive, sdk.OpEq, "true")),
	} {
		search := func(c *sdk.Client) []any {
			p, n, err := c.SearchMembers(ctx, acme.ID, sdk.MemberSearch{Where: where, Total: true})
			if err != nil {
				t.Fatalf("SearchMembers(%s): %v", where, err)
			}
			out := []any{n}
			for _, m := range p.Items {
				out = append(out, m.ID)
			}
			return out
		}
		if got := search(now); len(got) < 2 {
			t.Errorf("SearchMembers(%s) found nothing", where)
		} else {
			same(t, "members found with "+where.String(), got, search(was))
		}
	}
	page := func(c *sdk.Client) []string {
		p, err := c.AuditLog(ctx, ann, acme.ID, sdk.AuditListOptions{ListOptions: sdk.ListOptions{PageSize: 5}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range p.Items {
			out = append(out, e.ID+" "+e.Action)
		}
		return out
	}
	same(t, "the first page of acme's audit log", page(now), page(was))
	groupsOf := func(c *sdk.Client) []string {
		gs, err := c.GroupsOf(ctx, acme.ID, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, g := range gs {
			out = append(out, g.DisplayName)
		}
		return out
	}
	same(t, "bob's groups", groupsOf(now), []string{"Engineering", "Sales"})

	// Credentials: the password, and TOTP at the next step (the code
	// confirmed before the copy must not be accepted again).
	in, err := now.VerifyPassword(ctx, acme.ID, "bob@acme.test", Password)
	if err != nil || !in.MFARequired {
		t.Errorf("VerifyPassword(bob) = %+v, %v; want a sign-in asking for TOTP", in, err)
	}
	src.Clock.Advance(time.Minute)
	code := src.Code(t, acme.TOTPSecret)
	if err := now.VerifyTOTP(ctx, acme.ID, bob.ID, code); err != nil {
		t.Errorf("VerifyTOTP: %v", err)
	}
	if err := now.VerifyTOTP(ctx, acme.ID, bob.ID, code); sdk.ReasonOf(err) != sdk.ReasonWrongCode {
		t.Errorf("VerifyTOTP replayed: %v, want %s", err, sdk.ReasonWrongCode)
	}
	if _, err := now.VerifyPassword(ctx, acme.ID, "cat@acme.test", Password); sdk.ReasonOf(err) != sdk.ReasonWrongCredentials {
		t.Errorf("VerifyPassword(cat, who has none): %v", err)
	}

	if tok, err := now.AuthenticateToken(ctx, acme.ID, acme.TokenSecret); err != nil || tok.TenantID != acme.ID {
		t.Errorf("AuthenticateToken: %v, %v", tok, err)
	}
	if _, err := now.AuthenticateToken(ctx, src.Globex.ID, acme.TokenSecret); err == nil {
		t.Error("acme's token authenticates for globex")
	}

	// Seats: the invitation accepted keeps its seat, a new member takes
	// one, the full tenant has none.
	if eve, err := now.Accept(ctx, sdk.AcceptRequest{Secret: acme.InviteSecret, Password: Password}); err != nil || eve.Status != sdk.StatusActive {
		t.Errorf("Accept: %v, %v", eve, err)
	}
	before := tenant(t, now, acme.ID).SeatsUsed
	if _, err := now.AddMember(ctx, ann, sdk.AddMemberRequest{TenantID: acme.ID, Email: "zed@acme.test"}); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if after := tenant(t, now, acme.ID).SeatsUsed; after != before+1 {
		t.Errorf("seats used %d after adding a member, was %d", after, before)
	}
	if rep, err := now.Reconcile(ctx, acme.ID); err != nil || rep.SeatsBefore != rep.SeatsAfter {
		t.Errorf("Reconcile: %+v, %v; want nothing to repair", rep, err)
	}
	globex, initech := src.Globex, src.Initech
	if _, err := now.AddMember(ctx, globex.Owner(), sdk.AddMemberRequest{TenantID: globex.ID, Email: "new@globex.test"}); sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
		t.Errorf("AddMember in a full tenant: %v, want %s", err, sdk.ReasonSeatLimit)
	}
	if err := now.RemoveMember(ctx, sdk.MemberActor(bob.ID), acme.ID, acme.Members["ann"].ID); sdk.ReasonOf(err) != sdk.ReasonTargetIsOwner {
		t.Errorf("an admin removing the owner: %v, want %s", err, sdk.ReasonTargetIsOwner)
	}

	// Addresses unique across tenants: refused by the SDK, which asks the
	// store, and by the store itself, to a write that skips the question
	// (as one racing the SDK's check would).
	shared := sdk.AddMemberRequest{TenantID: initech.ID, Email: "hal@shared.test"}
	if _, err := now.AddMember(ctx, initech.Owner(), shared); sdk.ReasonOf(err) != sdk.ReasonEmailTakenElsewhere {
		t.Errorf("AddMember of an address held in another tenant: %v, want %s", err, sdk.ReasonEmailTakenElsewhere)
	}
	at := src.Clock.Now()
	racer := &sdk.Member{ID: "m-racer", TenantID: initech.ID, Profile: sdk.Profile{UserName: shared.Email,
		Emails: []sdk.Email{{Value: shared.Email, Type: "work", Primary: true}}}, Email: shared.Email,
		EmailKey: shared.Email, UserNameKey: shared.Email, Role: "standard", Status: sdk.StatusActive, Version: 1, CreatedAt: at, UpdatedAt: at}
	if err := dst.CreateMember(ctx, sdk.MemberWrite{Member: racer, GlobalEmail: true}); sdk.ReasonOf(err) != sdk.ReasonEmailTakenElsewhere {
		t.Errorf("the store's CreateMember with GlobalEmail of an address held in another tenant: %v, want %s", err, sdk.ReasonEmailTakenElsewhere)
	}
	other := "hal@globex.test"
	if _, err := now.UpdateProfile(ctx, globex.Owner(), sdk.UpdateProfileRequest{TenantID: globex.ID, MemberID: globex.Members["hal"].ID, Email: &other}); err != nil {
		t.Fatalf("UpdateProfile: %v", err)
	}
	if _, err := now.AddMember(ctx, initech.Owner(), shared); err != nil {
		t.Errorf("AddMember of an address let go: %v", err)
	}
}

func tenant(t *testing.T, c *sdk.Client, id string) *sdk.Tenant {
	t.Helper()
	tn, err := c.Tenant(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// refusals imports records that break the target's uniqueness rules,
// after a copy of src.
func refusals(t *testing.T, src *Source, dst migrate.Target) {
	ctx := t.Context()
	acme := src.Acme
	now := src.Clock.Now()
	tn := &sdk.Tenant{ID: "t-other", Slug: "acme", Name: "Other", OwnerID: "m-other", IncludedSeats: 1, SeatsUsed: 1,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := dst.ImportTenant(ctx, tn); sdk.ReasonOf(err) != sdk.ReasonSlugTaken {
		t.Errorf("ImportTenant of a slug taken: %v, want %s", err, sdk.ReasonSlugTaken)
	}
	bob := acme.Members["bob"]
	for _, c := range []struct {
		what   string
		change func(m *sdk.Member)
		reason sdk.Reason
	}{
		{"email", func(m *sdk.Member) {}, sdk.ReasonEmailTaken},
		{"userName", func(m *sdk.Member) { m.Email, m.EmailKey = "other@acme.test", "other@acme.test" }, sdk.ReasonUserNameTaken},
		{"externalId", func(m *sdk.Member) {
			m.Email, m.EmailKey, m.UserName, m.UserNameKey = "other@acme.test", "other@acme.test", "other", "other"
		}, sdk.ReasonExternalIDTaken},
	} {
		m := bob.Clone()
		m.ID = "m-" + c.what
		c.change(m)
		err := dst.ImportMembers(ctx, []*sdk.Member{m}, false)
		if sdk.CodeOf(err) != sdk.CodeAlreadyExists || sdk.ReasonOf(err) != c.reason {
			t.Errorf("ImportMembers of a member with bob's %s: %v, want %s", c.what, err, c.reason)
		}
	}
	g := acme.Groups["Sales"].Clone()
	g.ID = "g-other"
	if err := dst.ImportGroup(ctx, g); sdk.ReasonOf(err) != sdk.ReasonGroupNameTaken {
		t.Errorf("ImportGroup of a name taken: %v, want %s", err, sdk.ReasonGroupNameTaken)
	}
	err := dst.ImportEdges(ctx, acme.ID, []sdk.GroupEdge{{GroupID: acme.Groups["Empty"].ID, MemberID: "m-missing"}})
	if sdk.CodeOf(err) != sdk.CodeInvalidArgument || sdk.ReasonOf(err) != sdk.ReasonUnknownMember {
		t.Errorf("ImportEdges to a missing member: %v, want %s", err, sdk.ReasonUnknownMember)
	}
	err = dst.ImportEdges(ctx, acme.ID, []sdk.GroupEdge{{GroupID: "g-missing", MemberID: bob.ID}})
	if !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("ImportEdges to a missing group: %v, want not found", err)
	}
	tokens, err := src.Store.ListTokens(ctx, acme.ID)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("acme's tokens: %v, %v", tokens, err)
	}
	tok := *tokens[0]
	tok.ID = "tok-other"
	if err := dst.ImportToken(ctx, &tok); sdk.CodeOf(err) != sdk.CodeAlreadyExists || sdk.ReasonOf(err) != sdk.ReasonTokenExists {
		t.Errorf("ImportToken of a hash taken: %v, want %s", err, sdk.ReasonTokenExists)
	}
	n, err := dst.Counts(ctx, src.TenantIDs())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{migrate.Tenants, migrate.Members, migrate.Groups, migrate.Edges, migrate.Tokens} {
		if n[k] != src.Want[k] {
			t.Errorf("%s after refused imports: %d, want %d", k, n[k], src.Want[k])
		}
	}
	if n, err := dst.Counts(ctx, []string{"t-unknown"}); err != nil || slices.ContainsFunc(slices.Collect(maps.Values(n)), func(v int64) bool { return v != 0 }) {
		t.Errorf("counts of an unknown tenant: %v, %v", n, err)
	}
}
