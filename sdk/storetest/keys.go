package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// testMemberKeys checks GetMemberBy for each key: it finds the member by
// the key's value as the caller normalised it, only in its own tenant, and
// an empty or unknown value is CodeNotFound.
func testMemberKeys(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	tn, _ := fixture(t, s, "acme", 10)
	other, _ := fixture(t, s, "other", 10)
	m := newMember(tn.ID, "Ann.Lee@Example.com")
	m.UserName = "ANN.UPN@Corp.Example"
	m.UserNameKey = sdk.NormalizeUserName(m.UserName)
	m.ExternalID = "Ext-1"
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	// A member of another tenant with the same keys must never be returned.
	twin := m.Clone()
	twin.ID, twin.TenantID = sdk.NewID(), other.ID
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: twin, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		key   sdk.MemberKey
		value string // as the SDK passes it
		miss  string // another member's kind of value, or a case variant the store must not fold
	}{
		{"KeyEmail", sdk.KeyEmail, "ann.lee@example.com", "ann.upn@corp.example"},
		{"KeyUserName", sdk.KeyUserName, "ann.upn@corp.example", "ann.lee@example.com"},
		{"KeyExternalID", sdk.KeyExternalID, "Ext-1", "ext-1"}, // compared exactly
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.GetMemberBy(ctx, tn.ID, c.key, c.value)
			if err != nil || got.ID != m.ID || got.TenantID != tn.ID {
				t.Fatalf("GetMemberBy(%s, %q) = %v, %v; want member %s", c.name, c.value, got, err, m.ID)
			}
			if got, err := s.GetMemberBy(ctx, other.ID, c.key, c.value); err != nil || got.ID != twin.ID {
				t.Fatalf("GetMemberBy(other tenant, %s) = %v, %v; want the other tenant's member", c.name, got, err)
			}
			_, err = s.GetMemberBy(ctx, tn.ID, c.key, c.miss)
			wantErr(t, fmt.Sprintf("GetMemberBy(%s, %q)", c.name, c.miss), err, sdk.ErrNotFound, "")
			_, err = s.GetMemberBy(ctx, tn.ID, c.key, "")
			wantErr(t, fmt.Sprintf("GetMemberBy(%s, empty)", c.name), err, sdk.ErrNotFound, "")
			_, err = s.GetMemberBy(ctx, "no-such-tenant", c.key, c.value)
			wantErr(t, fmt.Sprintf("GetMemberBy(unknown tenant, %s)", c.name), err, sdk.ErrNotFound, "")
		})
	}
	// Once deleted, no key finds the member.
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: m.ID, ExpectedVersion: m.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatal(err)
	}
	for key, v := range map[sdk.MemberKey]string{sdk.KeyEmail: m.EmailKey, sdk.KeyUserName: m.UserNameKey, sdk.KeyExternalID: m.ExternalID} {
		_, err := s.GetMemberBy(ctx, tn.ID, key, v)
		wantErr(t, fmt.Sprintf("GetMemberBy(key %d, deleted member)", key), err, sdk.ErrNotFound, "")
	}
}

// testGlobalEmail checks MemberWrite.GlobalEmail: among members written
// with it, an address belongs to one member of one tenant at a time;
// members written without it neither block nor are blocked.
func testGlobalEmail(t *testing.T, s sdk.Store) {
	ctx := t.Context()
	x, _ := fixture(t, s, "x", 100)
	y, _ := fixture(t, s, "y", 100)
	z, _ := fixture(t, s, "z", 100)
	global := func(m *sdk.Member) sdk.MemberWrite {
		return sdk.MemberWrite{Member: m, Seat: sdk.SeatTake, GlobalEmail: true}
	}

	a := newMember(x.ID, "g@x.test")
	if err := s.CreateMember(ctx, global(a)); err != nil {
		t.Fatalf("CreateMember(GlobalEmail): %v", err)
	}
	used := mustGetTenant(t, s, y.ID).SeatsUsed
	refused := newMember(y.ID, "G@X.test")
	wantErr(t, "CreateMember(GlobalEmail, address of another tenant's global member)", s.CreateMember(ctx, global(refused)),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
	if _, err := s.GetMember(ctx, y.ID, refused.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("refused GlobalEmail create was stored: %v", err)
	}
	if got := mustGetTenant(t, s, y.ID).SeatsUsed; got != used {
		t.Fatalf("refused GlobalEmail create kept a seat: %d → %d", used, got)
	}
	// Rewriting the global member itself is no conflict.
	a.Title = "again"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: a, ExpectedVersion: a.Version, GlobalEmail: true}); err != nil {
		t.Fatalf("UpdateMember(own global address): %v", err)
	}

	// A member written without GlobalEmail is neither refused nor counted.
	plain := newMember(z.ID, "g@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: plain, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("CreateMember(no GlobalEmail, address global elsewhere): %v", err)
	}
	plain2 := newMember(z.ID, "p@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: plain2, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, global(newMember(y.ID, "P@x.test"))); err != nil {
		t.Fatalf("CreateMember(GlobalEmail, address only of a member written without it): %v", err)
	}

	// An email change onto a global address is refused and changes nothing.
	b := newMember(y.ID, "b@x.test")
	if err := s.CreateMember(ctx, global(b)); err != nil {
		t.Fatal(err)
	}
	moved := b.Clone()
	setEmail(moved, "g@X.TEST")
	wantErr(t, "UpdateMember(GlobalEmail, onto another tenant's global address)",
		s.UpdateMember(ctx, sdk.MemberWrite{Member: moved, ExpectedVersion: b.Version, GlobalEmail: true}),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
	if got, err := s.GetMember(ctx, y.ID, b.ID); err != nil || got.EmailKey != "b@x.test" || got.Version != b.Version {
		t.Fatalf("refused email change was written: %+v, %v", got, err)
	}

	// Moving the global member off the address frees it, and the member
	// holds its new address instead.
	off := a.Clone()
	setEmail(off, "g2@x.test")
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: off, ExpectedVersion: a.Version, GlobalEmail: true}); err != nil {
		t.Fatalf("UpdateMember(GlobalEmail, to a free address): %v", err)
	}
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: moved, ExpectedVersion: b.Version, GlobalEmail: true}); err != nil {
		t.Fatalf("UpdateMember(GlobalEmail, onto an address its member left): %v", err)
	}
	wantErr(t, "CreateMember(GlobalEmail, the moved member's new address)", s.CreateMember(ctx, global(newMember(z.ID, "G2@x.test"))),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)

	// Deleting the global member frees the address.
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: y.ID, ID: moved.ID, ExpectedVersion: moved.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, global(newMember(x.ID, "g@x.test"))); err != nil {
		t.Fatalf("CreateMember(GlobalEmail, address of a deleted global member): %v", err)
	}

	// A write without GlobalEmail takes the member out of the set.
	c := newMember(y.ID, "c@x.test")
	if err := s.CreateMember(ctx, global(c)); err != nil {
		t.Fatal(err)
	}
	c.Title = "plain now"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: c, ExpectedVersion: c.Version}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMember(ctx, global(newMember(z.ID, "C@x.test"))); err != nil {
		t.Fatalf("CreateMember(GlobalEmail, address of a member last written without it): %v", err)
	}

	// A tenant's owner written with GlobalEmail holds its address too; a
	// refused creation writes nothing, tenant included.
	ownerTenant := func(slug, email string) (*sdk.Tenant, *sdk.Member) {
		roles, _ := sdk.PresetRoles(sdk.PresetStandard)
		tn := &sdk.Tenant{ID: sdk.NewID(), Slug: slug, Name: slug, IncludedSeats: 5, SeatsUsed: 1, Roles: roles, Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
		o := newMember(tn.ID, email)
		o.Role = "owner"
		tn.OwnerID = o.ID
		return tn, o
	}
	tn, o := ownerTenant("gowner", "owner@g.test")
	if err := s.CreateTenant(ctx, tn, sdk.MemberWrite{Member: o, GlobalEmail: true}); err != nil {
		t.Fatalf("CreateTenant(owner GlobalEmail): %v", err)
	}
	wantErr(t, "CreateMember(GlobalEmail, a global owner's address)", s.CreateMember(ctx, global(newMember(x.ID, "OWNER@g.test"))),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
	tn2, o2 := ownerTenant("gowner2", "Owner@G.test")
	wantErr(t, "CreateTenant(owner GlobalEmail, address held)", s.CreateTenant(ctx, tn2, sdk.MemberWrite{Member: o2, GlobalEmail: true}),
		sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
	if _, err := s.GetTenantBySlug(ctx, "gowner2"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("a refused tenant creation left the tenant: %v", err)
	}
	if _, err := s.GetMember(ctx, tn2.ID, o2.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("a refused tenant creation left the owner: %v", err)
	}

	// Of two concurrent global writes of one address, exactly one lands.
	for round := range 10 {
		email := fmt.Sprintf("race%d@x.test", round)
		ms := []*sdk.Member{newMember(x.ID, email), newMember(y.ID, email)}
		errs := make([]error, len(ms))
		var wg sync.WaitGroup
		for i, m := range ms {
			wg.Go(func() { errs[i] = s.CreateMember(ctx, global(m)) })
		}
		wg.Wait()
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
				continue
			}
			wantErr(t, fmt.Sprintf("round %d, write %d", round, i), err, sdk.ErrAlreadyExists, sdk.ReasonEmailTakenElsewhere)
			if _, err := s.GetMember(ctx, ms[i].TenantID, ms[i].ID); !errors.Is(err, sdk.ErrNotFound) {
				t.Fatalf("round %d: the refused write %d was stored: %v", round, i, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d of 2 concurrent GlobalEmail writes of one address landed, want 1", round, wins)
		}
	}
}
