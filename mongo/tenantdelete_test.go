package mongo

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rosterhq/roster/sdk"
)

// The tests of DeleteTenant's steps (tenantdelete.go). They keep their
// helpers to themselves (named del…), so that the other test files can
// change theirs.

var errDelCrash = errors.New("simulated crash in a tenant deletion")

// delHook installs fn as the test hook of s (see crashPoint) until the
// test ends.
func delHook(t testing.TB, s *Store, fn func(point string) error) {
	hooksOn.Store(true)
	testHooks.Store(s, fn)
	t.Cleanup(func() { testHooks.Delete(s) })
}

// delStop is a point at which the first write of a store to reach it
// waits until released.
type delStop struct {
	point    string
	reached  chan struct{}
	go_      chan struct{}
	first    atomic.Bool
	released sync.Once
}

// delStops makes s stop at each of points, the first time a write gets
// there (later ones pass), until the stop is released (at the latest when
// the test ends).
func delStops(t *testing.T, s *Store, points ...string) map[string]*delStop {
	stops := map[string]*delStop{}
	for _, p := range points {
		stops[p] = &delStop{point: p, reached: make(chan struct{}), go_: make(chan struct{})}
	}
	delHook(t, s, func(p string) error {
		if st, ok := stops[p]; ok && st.first.CompareAndSwap(false, true) {
			close(st.reached)
			<-st.go_
		}
		return nil
	})
	t.Cleanup(func() {
		for _, st := range stops {
			st.release()
		}
	})
	return stops
}

// wait returns once a write stopped at the point, or fails the test when
// done, the write's outcome, comes first.
func (st *delStop) wait(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case <-st.reached:
	case err := <-done:
		t.Fatalf("the write ended (%v) before %s", err, st.point)
	case <-time.After(time.Minute):
		t.Fatalf("no write reached %s", st.point)
	}
}

func (st *delStop) release() { st.released.Do(func() { close(st.go_) }) }

// delGo runs f in a goroutine and returns its outcome's channel.
func delGo(f func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	return done
}

// delResult waits for the outcome of a write started by delGo.
func delResult(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("the write did not finish")
		return nil
	}
}

// delMember returns a member of the tenant known by email alone, as the
// SDK builds one.
func delMember(tenantID, email string, st sdk.Status) *sdk.Member {
	return &sdk.Member{
		ID: sdk.NewID(), TenantID: tenantID,
		Profile: sdk.Profile{UserName: email, Emails: []sdk.Email{{Value: email, Type: "work", Primary: true}}},
		Email:   email, EmailKey: sdk.NormalizeEmail(email), UserNameKey: sdk.NormalizeUserName(email),
		Role: "standard", Status: st, Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
	}
}

// delUnique is the tenant setting of every tenant here: addresses unique
// across tenants, so that every member write claims its address.
var delUnique = sdk.Settings{UniqueEmailAcrossTenants: true}

// delTenant creates, through c, a tenant requiring unique addresses with
// its owner, an invitee ann@<slug>.test (a member and an invitation), a
// group, a token, the invitee's TOTP credentials and the audit events of
// all that, and returns the tenant and its members.
func delTenant(t *testing.T, c *sdk.Client, s *testStore, slug string) (*sdk.Tenant, []*sdk.Member) {
	t.Helper()
	ctx := t.Context()
	tn, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: slug, OwnerEmail: "owner@" + slug + ".test", IncludedSeats: 5, Settings: delUnique,
	})
	if err != nil {
		t.Fatalf("CreateTenant(%s): %v", slug, err)
	}
	by := sdk.MemberActor(owner.ID)
	inv, err := c.Invite(ctx, by, sdk.InviteRequest{TenantID: tn.ID, Email: "ann@" + slug + ".test"})
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	ann := inv.Member
	if _, err := c.CreateGroup(ctx, by, sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: "Eng", Members: []string{ann.ID}}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if _, _, err := c.CreateToken(ctx, sdk.SystemActor(), tn.ID, "okta"); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if err := s.PutCredentials(ctx, &sdk.Credentials{TenantID: tn.ID, MemberID: ann.ID, TOTPSecret: "JBSWY3DPEHPK3PXP", UpdatedAt: epoch}); err != nil {
		t.Fatalf("PutCredentials: %v", err)
	}
	return tn, []*sdk.Member{owner, ann}
}

// delLeft returns what the database holds of the tenant, by collection:
// documents whose tenantId is the tenant's (the tenant document itself
// under "tenants"), and the address claims of the given addresses,
// whatever their tenant; nil when nothing is left.
func delLeft(t *testing.T, s *testStore, tenantID string, emailKeys ...string) map[string]int64 {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	raw := s.raw()
	left := map[string]int64{}
	count := func(name string, c *driver.Collection, filter bson.D) {
		n, err := c.CountDocuments(ctx, filter)
		if err != nil {
			t.Fatalf("counting %s: %v", name, err)
		}
		if n > 0 {
			left[name] += n
		}
	}
	byTenant := bson.D{{Key: "tenantId", Value: tenantID}}
	count("tenants", raw.tenants, bson.D{{Key: "_id", Value: tenantID}})
	for name, c := range map[string]*driver.Collection{
		"members": raw.members, "emailclaims": raw.claims, "credentials": raw.credentials, "invitations": raw.invitations,
		"groups": raw.groups(), "tokens": raw.tokens(), "audit": raw.audit,
	} {
		count(name, c, byTenant)
	}
	if len(emailKeys) > 0 {
		count("emailclaims (by address)", raw.claims, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: emailKeys}}}})
	}
	if len(left) == 0 {
		return nil
	}
	return left
}

// delWantGone fails unless the tenant and everything it held are gone.
func delWantGone(t *testing.T, s *testStore, tenantID string, emailKeys ...string) {
	t.Helper()
	if left := delLeft(t, s, tenantID, emailKeys...); left != nil {
		t.Fatalf("left of the deleted tenant: %v", left)
	}
}

// delWantDeleting fails unless err is CodeNotFound with ReasonTenantDeleting.
func delWantDeleting(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, sdk.ErrNotFound) || sdk.ReasonOf(err) != sdk.ReasonTenantDeleting {
		t.Fatalf("%s = %v, want CodeNotFound with %s", what, err, sdk.ReasonTenantDeleting)
	}
}

func delKeys(ms []*sdk.Member) []string {
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.EmailKey
	}
	return keys
}

// TestDeleteTenantCrash stops DeleteTenant after each of its steps, as if
// the process died there. The tenant then reads as deleting, through the
// store and the SDK; every member write is refused, in the SDK and in the
// store; a second DeleteTenant, with any expected version, finishes the
// job: nothing of the tenant is left, its slug and its members'
// addresses are free again.
func TestDeleteTenantCrash(t *testing.T) {
	s := openStore(t)
	c := sdk.New(s)
	for _, point := range []string{"DeleteTenant.marked", "DeleteTenant.membersDeleted", "DeleteTenant.swept"} {
		t.Run(point, func(t *testing.T) {
			ctx := t.Context()
			slug := strings.ToLower(strings.ReplaceAll(point, ".", "-"))
			tn, ms := delTenant(t, c, s, slug)
			var crashed atomic.Bool
			delHook(t, s.raw(), func(p string) error {
				if p == point && crashed.CompareAndSwap(false, true) {
					return errDelCrash
				}
				return nil
			})
			if err := c.DeleteTenant(ctx, sdk.SystemActor(), tn.ID); !errors.Is(err, errDelCrash) {
				t.Fatalf("DeleteTenant = %v, want the simulated crash", err)
			}

			got, err := s.GetTenant(ctx, tn.ID)
			if err != nil || !got.Deleting {
				t.Fatalf("GetTenant after the crash = %+v, %v; want the tenant marked deleting", got, err)
			}
			_, err = c.TenantBySlug(ctx, slug)
			delWantDeleting(t, "TenantBySlug", err)
			_, err = c.AddMember(ctx, sdk.MemberActor(ms[0].ID), sdk.AddMemberRequest{TenantID: tn.ID, Email: "late@" + slug + ".test"})
			delWantDeleting(t, "AddMember", err)
			// The store refuses too, whatever the SDK read before (see
			// TestDeleteTenantBesideAdd for the seat takes of single
			// writes).
			err = s.CreateMember(ctx, sdk.MemberWrite{Member: delMember(tn.ID, "late@"+slug+".test", sdk.StatusDeactivated), GlobalEmail: true})
			delWantDeleting(t, "CreateMember", err)
			for _, err := range s.CreateMembers(ctx, []sdk.MemberWrite{
				{Member: delMember(tn.ID, "late1@"+slug+".test", sdk.StatusActive), Seat: sdk.SeatTake},
				{Member: delMember(tn.ID, "late2@"+slug+".test", sdk.StatusDeactivated)},
			}) {
				delWantDeleting(t, "CreateMembers", err)
			}
			_, _, err = s.RecountSeats(ctx, tn.ID, []sdk.Status{sdk.StatusActive})
			delWantDeleting(t, "RecountSeats", err)
			if err := c.DeleteTenant(ctx, sdk.MemberActor(ms[0].ID), tn.ID); sdk.ReasonOf(err) != sdk.ReasonTenantDeleting {
				t.Fatalf("the owner finishing the deletion = %v, want %s (the system actor's job)", err, sdk.ReasonTenantDeleting)
			}

			if err := s.DeleteTenant(ctx, tn.ID, 12345); err != nil {
				t.Fatalf("DeleteTenant again, any version: %v", err)
			}
			delWantGone(t, s, tn.ID, delKeys(ms)...)
			if _, err := s.GetTenant(ctx, tn.ID); !errors.Is(err, sdk.ErrNotFound) || sdk.ReasonOf(err) == sdk.ReasonTenantDeleting {
				t.Fatalf("GetTenant after the deletion = %v, want plain CodeNotFound", err)
			}
			if err := s.DeleteTenant(ctx, tn.ID, 12345); !errors.Is(err, sdk.ErrNotFound) {
				t.Fatalf("DeleteTenant of a deleted tenant = %v, want CodeNotFound", err)
			}
			// The slug, and the addresses of the owner and of a member
			// in a tenant requiring unique ones.
			again, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
				Slug: slug, OwnerEmail: ms[0].Email, IncludedSeats: 5, Settings: delUnique,
			})
			if err != nil {
				t.Fatalf("CreateTenant(%s) after the deletion: %v", slug, err)
			}
			if _, err := c.AddMember(ctx, sdk.MemberActor(owner.ID), sdk.AddMemberRequest{TenantID: again.ID, Email: ms[1].Email}); err != nil {
				t.Fatalf("AddMember(%s) to the slug's new tenant: %v", ms[1].Email, err)
			}
		})
	}
}

// TestDeleteTenantVoidsCreates stops a write that creates a member of the
// tenant between its seat step (a take or a create intent) and its
// insert, deletes the tenant in the gap, then lets the insert go on: it
// must fail, and nothing of the tenant — no member, no claim of the
// address — may be left. The store is not serialised (the writes take
// turns, one command at a time).
func TestDeleteTenantVoidsCreates(t *testing.T) {
	type create struct {
		point string
		// write creates members of tn (or tn itself) and returns their
		// errors; ms are the members it writes.
		write func(ctx context.Context, s *Store, tn *sdk.Tenant, ms []*sdk.Member) []error
		// tenant: write creates the tenant (tn is not stored yet).
		tenant bool
		// member states of the members written
		states []sdk.Status
		// late: the create lands between the deletion's member sweep and
		// its void, instead of after the deletion.
		late bool
	}
	one := func(seat sdk.SeatChange) func(ctx context.Context, s *Store, tn *sdk.Tenant, ms []*sdk.Member) []error {
		return func(ctx context.Context, s *Store, tn *sdk.Tenant, ms []*sdk.Member) []error {
			return []error{s.CreateMember(ctx, sdk.MemberWrite{Member: ms[0], Seat: seat, TenantVersion: tn.Version, GlobalEmail: true})}
		}
	}
	bulk := func(ctx context.Context, s *Store, _ *sdk.Tenant, ms []*sdk.Member) []error {
		return s.CreateMembers(ctx, []sdk.MemberWrite{
			{Member: ms[0], Seat: sdk.SeatTake, GlobalEmail: true},
			{Member: ms[1], GlobalEmail: true},
		})
	}
	owner := func(ctx context.Context, s *Store, tn *sdk.Tenant, ms []*sdk.Member) []error {
		return []error{s.CreateTenant(ctx, tn, sdk.MemberWrite{Member: ms[0], GlobalEmail: true})}
	}
	active, off := sdk.StatusActive, sdk.StatusDeactivated
	cases := []struct {
		name string
		create
	}{
		{"CreateMember taking a seat", create{point: "CreateMember.seatTaken", write: one(sdk.SeatTake), states: []sdk.Status{active}}},
		{"CreateMember taking none", create{point: "CreateMember.intended", write: one(sdk.SeatKeep), states: []sdk.Status{off}}},
		{"CreateMembers", create{point: "CreateMembers.seatsTaken", write: bulk, states: []sdk.Status{active, off}}},
		{"CreateTenant's owner", create{point: "CreateTenant.tenantInserted", write: owner, tenant: true, states: []sdk.Status{active}}},
		{"CreateMember landing in the deletion", create{point: "CreateMember.seatTaken", write: one(sdk.SeatTake), states: []sdk.Status{active}, late: true}},
		{"CreateMembers landing in the deletion", create{point: "CreateMembers.seatsTaken", write: bulk, states: []sdk.Status{active, off}, late: true}},
	}
	s := openUnserialized(t)
	raw := s.raw()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			var tn *sdk.Tenant
			var ms []*sdk.Member
			if c.tenant {
				roles, _ := sdk.PresetRoles(sdk.PresetStandard)
				tn = &sdk.Tenant{ID: sdk.NewID(), Slug: "t-" + strings.ToLower(sdk.NewID()), IncludedSeats: 5, SeatsUsed: 1,
					Roles: roles, Settings: delUnique, Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
				o := delMember(tn.ID, "owner@"+tn.Slug+".test", active)
				o.Role = "owner"
				tn.OwnerID = o.ID
				ms = append(ms, o)
			} else {
				var err error
				tn, _, err = sdk.New(raw).CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
					Slug: "t-" + strings.ToLower(sdk.NewID()), OwnerEmail: "owner@x.test", IncludedSeats: 5, Settings: delUnique,
				})
				if err != nil {
					t.Fatal(err)
				}
				for i, st := range c.states {
					ms = append(ms, delMember(tn.ID, "new"+string(rune('a'+i))+"@"+tn.Slug+".test", st))
				}
			}
			stops := delStops(t, raw, c.point, "DeleteTenant.membersDeleted")
			created := delGo(func() error { return errors.Join(c.write(ctx, raw, tn, ms)...) })
			stops[c.point].wait(t, created)

			// The deletion, in the gap (stopping after its member sweep
			// when the create is to land there).
			d := rawTenant(t, s, tn.ID)
			deleted := delGo(func() error { return raw.DeleteTenant(ctx, tn.ID, d.Version) })
			if c.late {
				stops["DeleteTenant.membersDeleted"].wait(t, deleted)
				stops[c.point].release()
				if err := delResult(t, created); err != nil {
					t.Fatalf("the create landing before the deletion's void: %v", err)
				}
				for _, m := range ms {
					if _, err := raw.GetMember(ctx, tn.ID, m.ID); err != nil {
						t.Fatalf("the member landed before the void: %v", err)
					}
				}
				stops["DeleteTenant.membersDeleted"].release()
				if err := delResult(t, deleted); err != nil {
					t.Fatalf("DeleteTenant: %v", err)
				}
			} else {
				stops["DeleteTenant.membersDeleted"].release()
				if err := delResult(t, deleted); err != nil {
					t.Fatalf("DeleteTenant in the gap: %v", err)
				}
				delWantGone(t, s, tn.ID)
				stops[c.point].release()
				err := delResult(t, created)
				if err == nil {
					t.Fatal("the create paused across the deletion succeeded")
				}
				if errs := delErrs(err); len(errs) != len(ms) {
					t.Fatalf("the create paused across the deletion returned %v, want an error per member", err)
				}
			}
			delWantGone(t, s, tn.ID, delKeys(ms)...)
			// Under each id lies a placeholder (a tombstone): no insert
			// of those members can land any more.
			for _, m := range ms {
				var ph struct {
					TenantID string `bson:"tenantId"`
				}
				if err := raw.members.FindOne(ctx, bson.D{{Key: "_id", Value: m.ID}}).Decode(&ph); err != nil || ph.TenantID != voidTenant(tn.ID) {
					t.Fatalf("under the id of %s: %+v, %v; want a placeholder", m.Email, ph, err)
				}
			}
		})
	}
}

// delErrs returns the errors errors.Join joined into err.
func delErrs(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestDeleteTenantBesideAdd stops DeleteTenant after its mark and runs
// member writes in the gap: an AddMember through a client whose snapshot
// of the tenant predates the mark, a reactivation taking a seat (no
// tenant version: the mark alone stops it), a bulk create. The store refuses each with
// ReasonTenantDeleting and keeps no claim of their addresses; then the
// deletion finishes, leaving nothing. The addresses of the tenant's
// members, written with GlobalEmail, are taken for another tenant
// requiring unique addresses until then, and free after.
func TestDeleteTenantBesideAdd(t *testing.T) {
	s := openUnserialized(t)
	raw := s.raw()
	ctx := t.Context()
	c := sdk.New(raw)
	tn, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "busy", OwnerEmail: "owner@busy.test", IncludedSeats: 5, Settings: delUnique,
	})
	if err != nil {
		t.Fatal(err)
	}
	by := sdk.MemberActor(owner.ID)
	off, err := c.AddMember(ctx, by, sdk.AddMemberRequest{TenantID: tn.ID, Email: "off@busy.test"})
	if err != nil {
		t.Fatal(err)
	}
	if off, err = c.Deactivate(ctx, by, tn.ID, off.ID); err != nil {
		t.Fatal(err)
	}
	nt, nowner, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "calm", OwnerEmail: "owner@calm.test", IncludedSeats: 5, Settings: delUnique,
	})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := func(email string) error {
		_, err := c.AddMember(ctx, sdk.MemberActor(nowner.ID), sdk.AddMemberRequest{TenantID: nt.ID, Email: email})
		return err
	}
	if err := elsewhere(off.Email); !errors.Is(err, sdk.ErrAlreadyExists) || sdk.ReasonOf(err) != sdk.ReasonEmailTakenElsewhere {
		t.Fatalf("AddMember(%s) in another tenant while its tenant exists = %v, want %s", off.Email, err, sdk.ReasonEmailTakenElsewhere)
	}
	if _, err := c.Tenant(ctx, tn.ID); err != nil { // the client's snapshot
		t.Fatal(err)
	}
	before := rawTenant(t, s, tn.ID)

	stops := delStops(t, raw, "DeleteTenant.marked")
	deleted := delGo(func() error { return sdk.New(raw).DeleteTenant(ctx, sdk.SystemActor(), tn.ID) })
	stops["DeleteTenant.marked"].wait(t, deleted)

	late := "late@busy.test"
	_, err = c.AddMember(ctx, by, sdk.AddMemberRequest{TenantID: tn.ID, Email: late})
	delWantDeleting(t, "AddMember beside the deletion", err)
	back := off.Clone()
	back.Status = sdk.StatusActive
	err = raw.UpdateMember(ctx, sdk.MemberWrite{Member: back, ExpectedVersion: off.Version, Seat: sdk.SeatTake, GlobalEmail: true})
	delWantDeleting(t, "a reactivation beside the deletion", err)
	for _, err := range raw.CreateMembers(ctx, []sdk.MemberWrite{
		{Member: delMember(tn.ID, "bulk1@busy.test", sdk.StatusActive), Seat: sdk.SeatTake, GlobalEmail: true},
		{Member: delMember(tn.ID, "bulk2@busy.test", sdk.StatusDeactivated), GlobalEmail: true},
	}) {
		delWantDeleting(t, "CreateMembers beside the deletion", err)
	}
	addresses := []string{late, "bulk1@busy.test", "bulk2@busy.test"}
	if n, err := raw.claims.CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: addresses}}}}); err != nil || n != 0 {
		t.Fatalf("%d claims (%v) of the refused writes' addresses", n, err)
	}
	if d := rawTenant(t, s, tn.ID); d.SeatsUsed != before.SeatsUsed || len(d.SeatTakes) != len(before.SeatTakes) ||
		len(delCreates(t, raw, tn.ID)) != 0 {
		t.Fatalf("the refused writes left seats or intents: used %d (was %d), takes %v (were %v), creates %v",
			d.SeatsUsed, before.SeatsUsed, d.SeatTakes, before.SeatTakes, delCreates(t, raw, tn.ID))
	}

	stops["DeleteTenant.marked"].release()
	if err := delResult(t, deleted); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	delWantGone(t, s, tn.ID, append(addresses, owner.EmailKey, off.EmailKey)...)
	for _, email := range []string{late, off.Email, owner.Email} {
		if err := elsewhere(email); err != nil {
			t.Fatalf("AddMember(%s) in another tenant requiring unique addresses, after the deletion: %v", email, err)
		}
	}
}

// TestPruneCreates checks what a prune does with the create intents it
// finds: those of members that landed go, a young one of a missing member
// stays (its insert may be on its way), an old one is voided (a
// placeholder under its id) and goes.
func TestPruneCreates(t *testing.T) {
	s := openUnserialized(t)
	raw := s.raw()
	ctx := t.Context()
	tn, _, err := sdk.New(raw).CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "owner@acme.test", IncludedSeats: 5})
	if err != nil {
		t.Fatal(err)
	}
	landed := delMember(tn.ID, "landed@acme.test", sdk.StatusDeactivated)
	if err := raw.CreateMember(ctx, sdk.MemberWrite{Member: landed}); err != nil {
		t.Fatal(err)
	}
	// Intents of two members that never landed: one just made, one made
	// at the Unix epoch.
	young, old := sdk.NewID(), sdk.NewID()
	if _, err := raw.tenants.UpdateOne(ctx, bson.D{{Key: "_id", Value: tn.ID}},
		bson.D{{Key: "$push", Value: bson.D{{Key: "creates", Value: bson.D{{Key: "$each", Value: []string{createToken(young), old + "/0.x"}}}}}}}); err != nil {
		t.Fatal(err)
	}
	if got := delCreates(t, raw, tn.ID); len(got) != 3 || tokenMember(got[0]) != landed.ID {
		t.Fatalf("create intents %v, want landed's, young's and old's", got)
	}
	own := createToken(sdk.NewID())
	raw.pruneCreates(ctx, tn.ID, append(delCreates(t, raw, tn.ID), own), []string{own})
	if got := delCreates(t, raw, tn.ID); len(got) != 1 || tokenMember(got[0]) != young {
		t.Fatalf("create intents after the prune %v, want the young one alone", got)
	}
	var ph struct {
		TenantID string `bson:"tenantId"`
	}
	if err := raw.members.FindOne(ctx, bson.D{{Key: "_id", Value: old}}).Decode(&ph); err != nil || ph.TenantID != voidTenant(tn.ID) {
		t.Fatalf("under the old intent's id: %+v, %v; want a placeholder", ph, err)
	}
	if n, _ := raw.members.CountDocuments(ctx, bson.D{{Key: "_id", Value: young}}); n != 0 {
		t.Fatal("the prune voided a young intent")
	}
	// The old write, had it been in flight, can no longer land.
	m := delMember(tn.ID, "old@acme.test", sdk.StatusDeactivated)
	m.ID = old
	if err := raw.CreateMember(ctx, sdk.MemberWrite{Member: m}); sdk.ReasonOf(err) != sdk.ReasonVersionMismatch {
		t.Fatalf("the voided create = %v, want %s", err, sdk.ReasonVersionMismatch)
	}
}

// delCreates returns the tenant's create intents as stored.
func delCreates(t *testing.T, s *Store, tenantID string) []string {
	t.Helper()
	var d takenDoc
	if err := s.tenants.FindOne(t.Context(), bson.D{{Key: "_id", Value: tenantID}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.Creates
}

// TestDeleteTenantCommands counts the commands of a deletion: nine, ten
// when the tenant has intents to void; a refused one is the mark and a
// read.
func TestDeleteTenantCommands(t *testing.T) {
	var cc CommandCounter
	s := openStore(t, WithCommandMonitor(cc.Monitor()))
	ctx := t.Context()
	c := sdk.New(s)
	for _, tc := range []struct {
		name    string
		intents bool
		want    int64
	}{{"no intents", false, 9}, {"an intent", true, 10}} {
		tn, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
			Slug: "count-" + strings.ReplaceAll(tc.name, " ", "-"), OwnerEmail: "owner@x.test", IncludedSeats: 5,
		})
		if err != nil {
			t.Fatal(err)
		}
		if tc.intents {
			if err := s.CreateMember(ctx, sdk.MemberWrite{Member: delMember(tn.ID, "m@x.test", sdk.StatusActive), Seat: sdk.SeatTake}); err != nil {
				t.Fatal(err)
			}
		}
		cc.Reset()
		err = s.DeleteTenant(ctx, tn.ID, tn.Version+1)
		if sdk.ReasonOf(err) != sdk.ReasonVersionMismatch || cc.Count() != 2 {
			t.Errorf("DeleteTenant(stale version) = %v in %d commands %v; want ReasonVersionMismatch in 2", err, cc.Count(), cc.ByName())
		}
		cc.Reset()
		if err := s.DeleteTenant(ctx, tn.ID, tn.Version); err != nil {
			t.Fatal(err)
		}
		t.Logf("DeleteTenant (%s): %d commands %v", tc.name, cc.Count(), cc.ByName())
		if cc.Count() != tc.want {
			t.Errorf("DeleteTenant (%s): %d commands, want %d", tc.name, cc.Count(), tc.want)
		}
	}
}
