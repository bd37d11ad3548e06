package mongo

import (
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rosterhq/roster/sdk"
)

// The tests of addresses unique across tenants (claims.go) run on FerretDB
// without the serialising wrapper: the claimant and the write it meets take
// turns, one command at a time, through the test hooks.

func global(m *sdk.Member) sdk.MemberWrite {
	return sdk.MemberWrite{Member: m, Seat: sdk.SeatTake, GlobalEmail: true}
}

// storedClaim returns the claim of key, or nil.
func storedClaim(t *testing.T, s *testStore, key string) *claimDoc {
	t.Helper()
	c, err := s.raw().readClaim(t.Context(), "test", key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// emailClaimOf returns the emailClaim field of a member document.
func emailClaimOf(t *testing.T, s *testStore, id string) string {
	t.Helper()
	var d memberDoc
	if err := s.members.FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.EmailClaim
}

// wantHeldBy fails unless the claim of key belongs to m and matches the
// write id on m's document.
func wantHeldBy(t *testing.T, s *testStore, key string, m *sdk.Member) {
	t.Helper()
	c := storedClaim(t, s, key)
	if c == nil || c.MemberID != m.ID || c.TenantID != m.TenantID {
		t.Fatalf("claim of %s = %+v, want member %s of %s", key, c, m.ID, m.TenantID)
	}
	if w := emailClaimOf(t, s, m.ID); w == "" || w != c.WriteID {
		t.Fatalf("member %s: emailClaim %q, claim's write id %q", m.ID, w, c.WriteID)
	}
}

func wantUnclaimed(t *testing.T, s *testStore, key string) {
	t.Helper()
	if c := storedClaim(t, s, key); c != nil {
		t.Fatalf("claim of %s left: %+v", key, c)
	}
}

func wantElsewhere(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, sdk.ErrAlreadyExists) || sdk.ReasonOf(err) != sdk.ReasonEmailTakenElsewhere {
		t.Fatalf("%s = %v, want ReasonEmailTakenElsewhere", what, err)
	}
}

// shortGrace makes claims stale after d for the rest of the test.
func shortGrace(t *testing.T, d time.Duration) {
	old := claimGrace
	claimGrace = d
	t.Cleanup(func() { claimGrace = old })
}

// ageClaim moves the time of the claim of key back beyond claimGrace.
func ageClaim(t *testing.T, s *testStore, key string) {
	t.Helper()
	if _, err := s.claims.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: time.Now().Add(-claimGrace - time.Minute)}}}}); err != nil {
		t.Fatal(err)
	}
}

// TestEmailClaims checks the stored side of GlobalEmail: a claim per
// address held, whose write id the member carries; an email change moves
// it, and a write without GlobalEmail, a deletion and a refused write
// leave none behind.
func TestEmailClaims(t *testing.T) {
	s := openUnserialized(t)
	ctx := t.Context()
	a, _ := newTenant(t, s, "a", 10)
	b, _ := newTenant(t, s, "b", 10)

	m := newMember(a.ID, "Ann@X.test")
	if err := s.CreateMember(ctx, global(m)); err != nil {
		t.Fatal(err)
	}
	wantHeldBy(t, s, "ann@x.test", m)
	wantElsewhere(t, "the address in another tenant", s.CreateMember(ctx, global(newMember(b.ID, "ann@x.test"))))
	checkCounter(t, s, b.ID)

	// In the member's own tenant the address is taken, not elsewhere.
	if err := s.CreateMember(ctx, global(newMember(a.ID, "ann@x.test"))); sdk.ReasonOf(err) != sdk.ReasonEmailTaken {
		t.Fatalf("the address in its own tenant = %v, want ReasonEmailTaken", err)
	}
	wantHeldBy(t, s, "ann@x.test", m)
	// Rewriting the member keeps its claim, under the new write id.
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m, ExpectedVersion: m.Version, GlobalEmail: true}); err != nil {
		t.Fatal(err)
	}
	wantHeldBy(t, s, "ann@x.test", m)
	// A stale rewrite is refused and leaves the claim as it was.
	before := storedClaim(t, s, "ann@x.test")
	err := s.UpdateMember(ctx, sdk.MemberWrite{Member: m.Clone(), ExpectedVersion: m.Version - 1, GlobalEmail: true})
	if sdk.ReasonOf(err) != sdk.ReasonVersionMismatch {
		t.Fatalf("stale UpdateMember = %v", err)
	}
	if after := storedClaim(t, s, "ann@x.test"); after == nil || *after != *before {
		t.Fatalf("a refused rewrite changed the claim: %+v → %+v", before, after)
	}
	wantHeldBy(t, s, "ann@x.test", m)

	// An email change claims the new address and releases the old one.
	moved := m.Clone()
	moved.Email, moved.EmailKey = "ann2@x.test", "ann2@x.test"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: moved, ExpectedVersion: m.Version, GlobalEmail: true}); err != nil {
		t.Fatal(err)
	}
	wantHeldBy(t, s, "ann2@x.test", moved)
	wantUnclaimed(t, s, "ann@x.test")

	// An email change refused by a claim elsewhere claims nothing.
	c := newMember(b.ID, "carl@x.test")
	if err := s.CreateMember(ctx, global(c)); err != nil {
		t.Fatal(err)
	}
	into := moved.Clone()
	into.Email, into.EmailKey = "carl@x.test", "carl@x.test"
	wantElsewhere(t, "an email change onto an address held elsewhere",
		s.UpdateMember(ctx, sdk.MemberWrite{Member: into, ExpectedVersion: moved.Version, GlobalEmail: true}))
	wantHeldBy(t, s, "carl@x.test", c)
	// One refused by the member's own tenant removes the claim it made.
	dup := newMember(a.ID, "dup@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: dup, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	onto := moved.Clone()
	onto.Email, onto.EmailKey = "dup@x.test", "dup@x.test"
	err = s.UpdateMember(ctx, sdk.MemberWrite{Member: onto, ExpectedVersion: moved.Version, GlobalEmail: true})
	if sdk.ReasonOf(err) != sdk.ReasonEmailTaken {
		t.Fatalf("an email change onto an address of the tenant = %v", err)
	}
	wantUnclaimed(t, s, "dup@x.test")
	wantHeldBy(t, s, "ann2@x.test", moved)

	// A write without GlobalEmail releases the claim.
	moved.Title = "plain"
	if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: moved, ExpectedVersion: moved.Version}); err != nil {
		t.Fatal(err)
	}
	wantUnclaimed(t, s, "ann2@x.test")
	if w := emailClaimOf(t, s, moved.ID); w != "" {
		t.Fatalf("emailClaim %q after a write without GlobalEmail", w)
	}
	// Deleting a member releases its claim.
	if err := s.DeleteMember(ctx, sdk.MemberDelete{TenantID: b.ID, ID: c.ID, ExpectedVersion: c.Version, Seat: sdk.SeatRelease}); err != nil {
		t.Fatal(err)
	}
	wantUnclaimed(t, s, "carl@x.test")
	// A create refused in its tenant removes its claim; one refused for
	// want of a seat too.
	wantRefused := func(what string, w sdk.MemberWrite, reason sdk.Reason) {
		t.Helper()
		if err := s.CreateMember(ctx, w); sdk.ReasonOf(err) != reason {
			t.Fatalf("%s = %v, want %s", what, err, reason)
		}
		wantUnclaimed(t, s, w.Member.EmailKey)
	}
	twin := newMember(a.ID, "twin@x.test")
	twin.UserName, twin.UserNameKey = dup.UserName, dup.UserNameKey
	wantRefused("a create whose userName is taken", global(twin), sdk.ReasonUserNameTaken)
	full, _ := newTenant(t, s, "full", 1)
	wantRefused("a create without a free seat", global(newMember(full.ID, "late@x.test")), sdk.ReasonSeatLimit)

	// A tenant's owner written with GlobalEmail holds its address; a
	// refused creation leaves no claim.
	roles, _ := sdk.PresetRoles(sdk.PresetStandard)
	tn := &sdk.Tenant{ID: sdk.NewID(), Slug: "owned", Name: "owned", IncludedSeats: 5, SeatsUsed: 1, Roles: roles, Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
	o := newMember(tn.ID, "boss@x.test")
	o.Role = "owner"
	tn.OwnerID = o.ID
	if err := s.CreateTenant(ctx, tn, sdk.MemberWrite{Member: o, GlobalEmail: true}); err != nil {
		t.Fatal(err)
	}
	wantHeldBy(t, s, "boss@x.test", o)
	tn2 := *tn
	tn2.ID = sdk.NewID()
	o2 := newMember(tn2.ID, "boss2@x.test")
	tn2.OwnerID = o2.ID
	err = s.CreateTenant(ctx, &tn2, sdk.MemberWrite{Member: o2, GlobalEmail: true})
	if sdk.ReasonOf(err) != sdk.ReasonSlugTaken {
		t.Fatalf("CreateTenant(slug taken) = %v", err)
	}
	wantUnclaimed(t, s, "boss2@x.test")

	// A batch claims in one insertMany; an address claimed already goes
	// through the claim path, and refused members leave no claim.
	batch := []sdk.MemberWrite{
		global(newMember(b.ID, "b1@x.test")),
		global(newMember(b.ID, "boss@x.test")), // held by the owner above
		global(newMember(b.ID, "b2@x.test")),
		{Member: newMember(b.ID, "b3@x.test"), Seat: sdk.SeatTake},
	}
	batch[2].Member.UserName, batch[2].Member.UserNameKey = "b1@x.test", "b1@x.test" // refused in the tenant
	errs := s.CreateMembers(ctx, batch)
	if errs[0] != nil || sdk.ReasonOf(errs[1]) != sdk.ReasonEmailTakenElsewhere || sdk.ReasonOf(errs[2]) != sdk.ReasonUserNameTaken || errs[3] != nil {
		t.Fatalf("CreateMembers = %v", errs)
	}
	wantHeldBy(t, s, "b1@x.test", batch[0].Member)
	wantHeldBy(t, s, "boss@x.test", o)
	wantUnclaimed(t, s, "b2@x.test")
	wantUnclaimed(t, s, "b3@x.test")
	checkCounter(t, s, b.ID)
}

// TestClaimAfterCrash stops writes after their claim, as a crash would:
// the next claimant of the address in another tenant takes the stale claim
// over, and the crashed write can never land afterwards.
func TestClaimAfterCrash(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		s := openUnserialized(t)
		ctx := t.Context()
		a, _ := newTenant(t, s, "a", 10)
		b, _ := newTenant(t, s, "b", 10)
		lost := newMember(a.ID, "x@x.test")
		crashAt(t, s, "CreateMember.claimed")
		if err := s.CreateMember(ctx, global(lost)); !errors.Is(err, errCrash) {
			t.Fatalf("CreateMember = %v, want the simulated crash", err)
		}
		if c := storedClaim(t, s, "x@x.test"); c == nil || c.MemberID != lost.ID {
			t.Fatalf("claim after the crash = %+v", c)
		}
		ageClaim(t, s, "x@x.test")
		next := newMember(b.ID, "x@x.test")
		if err := s.CreateMember(ctx, global(next)); err != nil {
			t.Fatalf("CreateMember over a stale claim: %v", err)
		}
		wantHeldBy(t, s, "x@x.test", next)
		// The crashed write's member id is voided: neither its insert nor
		// a create under its id can land.
		if _, err := s.members.InsertOne(ctx, memberWriteDoc(global(lost), "w")); !isDuplicate(err) {
			t.Fatalf("the crashed member's insert = %v, want a duplicate", err)
		}
		err := s.CreateMember(ctx, sdk.MemberWrite{Member: lost, Seat: sdk.SeatTake})
		if sdk.ReasonOf(err) != sdk.ReasonVersionMismatch {
			t.Fatalf("a create under the crashed member's id = %v, want ReasonVersionMismatch", err)
		}
		if _, err := s.GetMember(ctx, a.ID, lost.ID); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("the crashed member landed: %v", err)
		}
		// The SDK's retry under a new id is refused: the address is held.
		lost.ID = sdk.NewID()
		wantElsewhere(t, "the retry of the crashed create", s.CreateMember(ctx, global(lost)))
		checkCounter(t, s, a.ID)
		checkCounter(t, s, b.ID)
	})
	t.Run("email change", func(t *testing.T) {
		s := openUnserialized(t)
		ctx := t.Context()
		a, _ := newTenant(t, s, "a", 10)
		b, _ := newTenant(t, s, "b", 10)
		m := newMember(a.ID, "old@x.test")
		if err := s.CreateMember(ctx, global(m)); err != nil {
			t.Fatal(err)
		}
		moved := m.Clone()
		moved.Email, moved.EmailKey = "new@x.test", "new@x.test"
		crashAt(t, s, "UpdateMember.claimed")
		if err := s.UpdateMember(ctx, sdk.MemberWrite{Member: moved, ExpectedVersion: m.Version, GlobalEmail: true}); !errors.Is(err, errCrash) {
			t.Fatalf("UpdateMember = %v, want the simulated crash", err)
		}
		ageClaim(t, s, "new@x.test")
		next := newMember(b.ID, "new@x.test")
		if err := s.CreateMember(ctx, global(next)); err != nil {
			t.Fatalf("CreateMember over a stale claim: %v", err)
		}
		wantHeldBy(t, s, "new@x.test", next)
		// The member's version moved, so the crashed update cannot land;
		// the member keeps its address and its claim.
		got, err := s.GetMember(ctx, a.ID, m.ID)
		if err != nil || got.Version != m.Version+1 || got.EmailKey != "old@x.test" {
			t.Fatalf("member after the takeover = %+v, %v", got, err)
		}
		err = s.UpdateMember(ctx, sdk.MemberWrite{Member: moved, ExpectedVersion: m.Version})
		if sdk.ReasonOf(err) != sdk.ReasonVersionMismatch {
			t.Fatalf("the crashed update, again = %v, want ReasonVersionMismatch", err)
		}
		wantHeldBy(t, s, "old@x.test", got)
	})
	t.Run("tenant creation", func(t *testing.T) {
		// The owner of a creation stopped after the tenant insert is
		// missing but pending: it holds its address, and Reconcile
		// inserts it.
		s := openUnserialized(t)
		ctx := t.Context()
		b, _ := newTenant(t, s, "b", 10)
		crashAt(t, s, "CreateTenant.tenantInserted")
		c := sdk.New(s, sdk.WithGlobalEmailUniqueness())
		_, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "boss@x.test", IncludedSeats: 3})
		if !errors.Is(err, errCrash) {
			t.Fatalf("CreateTenant = %v, want the simulated crash", err)
		}
		tn, err := s.GetTenantBySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		ageClaim(t, s, "boss@x.test")
		wantElsewhere(t, "the address of a pending owner", s.CreateMember(ctx, global(newMember(b.ID, "boss@x.test"))))
		reconcile(t, s, tn.ID)
		owner, err := s.GetMember(ctx, tn.ID, tn.OwnerID)
		if err != nil {
			t.Fatalf("owner after Reconcile: %v", err)
		}
		wantHeldBy(t, s, "boss@x.test", owner)
	})
	t.Run("young claim", func(t *testing.T) {
		// A claim not yet stale is waited for, then taken over.
		s := openUnserialized(t)
		ctx := t.Context()
		a, _ := newTenant(t, s, "a", 10)
		b, _ := newTenant(t, s, "b", 10)
		crashAt(t, s, "CreateMember.claimed")
		if err := s.CreateMember(ctx, global(newMember(a.ID, "y@x.test"))); !errors.Is(err, errCrash) {
			t.Fatalf("CreateMember = %v, want the simulated crash", err)
		}
		shortGrace(t, 300*time.Millisecond)
		start := time.Now()
		next := newMember(b.ID, "y@x.test")
		if err := s.CreateMember(ctx, global(next)); err != nil {
			t.Fatalf("CreateMember over a young stale claim: %v", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Fatalf("the claim was taken over after %v, before it was stale", d)
		}
		wantHeldBy(t, s, "y@x.test", next)
	})
}

// pauseAndWatch is paused, and closes waiting when a claimant of s first
// waits for a claim in flight.
func pauseAndWatch(t *testing.T, s *Store, point string, write func() error) (waiting <-chan struct{}, finish func() error) {
	t.Helper()
	w := make(chan struct{})
	var waited sync.Once
	finish = paused(t, s, point, write, func(p string) {
		if p == "claim.waiting" {
			waited.Do(func() { close(w) })
		}
	})
	return w, finish
}

// run runs write in a goroutine and returns a function that waits for its
// error.
func run(t *testing.T, write func() error) func() error {
	done := make(chan error, 1)
	go func() { done <- write() }()
	return func() error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatal("the write did not finish")
			return nil
		}
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not happen", what)
	}
}

// TestClaimBesidePausedCreate pauses a create after its claim while
// another tenant's create of the address runs: exactly one ends with the
// address, whether the paused one resumes while the other waits or stays
// stuck past claimGrace.
func TestClaimBesidePausedCreate(t *testing.T) {
	for _, stuck := range []bool{false, true} {
		name := map[bool]string{false: "resumes", true: "stuck"}[stuck]
		t.Run(name, func(t *testing.T) {
			s := openUnserialized(t)
			ctx := t.Context()
			a, _ := newTenant(t, s, "a", 10)
			b, _ := newTenant(t, s, "b", 10)
			first, second := newMember(a.ID, "r@x.test"), newMember(b.ID, "R@x.test")
			waiting, finish := pauseAndWatch(t, s.raw(), "CreateMember.claimed", func() error { return s.CreateMember(ctx, global(first)) })
			var errFirst, errSecond error
			if stuck {
				shortGrace(t, 200*time.Millisecond)
				errSecond = s.CreateMember(ctx, global(second))
				errFirst = finish()
				if sdk.ReasonOf(errFirst) != sdk.ReasonVersionMismatch || errSecond != nil {
					t.Fatalf("paused create = %v, other = %v; want ReasonVersionMismatch, nil", errFirst, errSecond)
				}
			} else {
				other := run(t, func() error { return s.CreateMember(ctx, global(second)) })
				waitFor(t, waiting, "the wait for the paused create")
				errFirst = finish()
				errSecond = other()
				if errFirst != nil {
					t.Fatalf("paused create = %v", errFirst)
				}
				wantElsewhere(t, "the create beside the paused one", errSecond)
			}
			holder := first
			if stuck {
				holder = second
			}
			wantHeldBy(t, s, "r@x.test", holder)
			n := 0
			for _, m := range []*sdk.Member{first, second} {
				if _, err := s.GetMember(ctx, m.TenantID, m.ID); err == nil {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d members with the address, want 1", n)
			}
			checkCounter(t, s, a.ID)
			checkCounter(t, s, b.ID)
		})
	}
}

// TestClaimBesidePausedEmailChange pauses an email change after it claimed
// its new address while another tenant claims it: exactly one holds it,
// and the old address is released after the change.
func TestClaimBesidePausedEmailChange(t *testing.T) {
	for _, stuck := range []bool{false, true} {
		name := map[bool]string{false: "resumes", true: "stuck"}[stuck]
		t.Run(name, func(t *testing.T) {
			s := openUnserialized(t)
			ctx := t.Context()
			a, _ := newTenant(t, s, "a", 10)
			b, _ := newTenant(t, s, "b", 10)
			c, _ := newTenant(t, s, "c", 10)
			m := newMember(a.ID, "old@x.test")
			if err := s.CreateMember(ctx, global(m)); err != nil {
				t.Fatal(err)
			}
			moved := m.Clone()
			moved.Email, moved.EmailKey = "new@x.test", "new@x.test"
			waiting, finish := pauseAndWatch(t, s.raw(), "UpdateMember.claimed", func() error {
				return s.UpdateMember(ctx, sdk.MemberWrite{Member: moved, ExpectedVersion: m.Version, GlobalEmail: true})
			})
			other := newMember(b.ID, "new@x.test")
			if stuck {
				shortGrace(t, 200*time.Millisecond)
				if err := s.CreateMember(ctx, global(other)); err != nil {
					t.Fatalf("the create beside a stuck email change: %v", err)
				}
				if err := finish(); sdk.ReasonOf(err) != sdk.ReasonVersionMismatch {
					t.Fatalf("the stuck email change = %v, want ReasonVersionMismatch", err)
				}
				wantHeldBy(t, s, "new@x.test", other)
				got, _ := s.GetMember(ctx, a.ID, m.ID)
				if got.EmailKey != "old@x.test" {
					t.Fatalf("the voided change landed: %+v", got)
				}
				// The member keeps its old address and claim.
				wantHeldBy(t, s, "old@x.test", got)
				wantElsewhere(t, "the old address", s.CreateMember(ctx, global(newMember(c.ID, "old@x.test"))))
				return
			}
			done := run(t, func() error { return s.CreateMember(ctx, global(other)) })
			waitFor(t, waiting, "the wait for the paused email change")
			if err := finish(); err != nil {
				t.Fatalf("the paused email change: %v", err)
			}
			wantElsewhere(t, "the create beside the email change", done())
			wantHeldBy(t, s, "new@x.test", moved)
			if _, err := s.GetMember(ctx, b.ID, other.ID); !errors.Is(err, sdk.ErrNotFound) {
				t.Fatalf("the refused create landed: %v", err)
			}
			// The old address was released: it is free at once.
			wantUnclaimed(t, s, "old@x.test")
			late := newMember(c.ID, "old@x.test")
			if err := s.CreateMember(ctx, global(late)); err != nil {
				t.Fatalf("the released address: %v", err)
			}
			wantHeldBy(t, s, "old@x.test", late)
		})
	}
}
