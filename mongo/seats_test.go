package mongo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rosterhq/roster/sdk"
)

// pauseAt makes s stop at point, the first time a write gets there (others
// pass), until resume is called (at the latest when the test ends);
// reached is closed when it has stopped. watch, when given, sees every
// point any write of s reaches.
func pauseAt(t *testing.T, s *Store, point string, watch ...func(p string)) (reached <-chan struct{}, resume func()) {
	at, gone := make(chan struct{}), make(chan struct{})
	var resumed sync.Once
	var first atomic.Bool
	hook(t, s, func(p string) error {
		for _, w := range watch {
			w(p)
		}
		if p == point && first.CompareAndSwap(false, true) {
			close(at)
			<-gone
		}
		return nil
	})
	resume = func() { resumed.Do(func() { close(gone) }) }
	t.Cleanup(resume)
	return at, resume
}

// paused runs write until it stops at point in s, and returns a function
// that lets it go on and returns its error. Each wait is bounded.
func paused(t *testing.T, s *Store, point string, write func() error, watch ...func(p string)) (finish func() error) {
	t.Helper()
	reached, resume := pauseAt(t, s, point, watch...)
	done := make(chan error, 1)
	go func() { done <- write() }()
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("the write ended (%v) before %s", err, point)
	case <-time.After(time.Minute):
		t.Fatalf("the write did not reach %s", point)
	}
	return func() error {
		t.Helper()
		resume()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatal("the write did not finish")
			return nil
		}
	}
}

// TestRecountBesideWrites runs RecountSeats while a member write is
// stopped inside the store, between its seat step and its member step,
// then lets the write finish and fills the tenant up: at no point may
// the members holding seats outnumber the limit, and after a last recount
// the counter equals them. The store is not serialised (the recount and
// the paused write take turns, one command at a time, so FerretDB's
// read-then-write updates never overlap): the protocol alone keeps the
// count.
func TestRecountBesideWrites(t *testing.T) {
	holding := []sdk.Status{sdk.StatusActive, sdk.StatusInvited}
	cases := []struct {
		name  string
		point string
		// write is the write to pause; off is a deactivated member, on
		// an active one.
		write func(t *testing.T, s *testStore, tn *sdk.Tenant, on, off *sdk.Member) error
		// wantErr is the reason the paused write ends with; "" for none.
		wantErr sdk.Reason
	}{
		{"create paused after its take", "CreateMember.seatTaken",
			func(t *testing.T, s *testStore, tn *sdk.Tenant, _, _ *sdk.Member) error {
				return s.CreateMember(t.Context(), sdk.MemberWrite{Member: newMember(tn.ID, "late@x.test"), Seat: sdk.SeatTake})
			}, sdk.ReasonVersionMismatch},
		{"reactivation paused after its take", "UpdateMember.seatTaken",
			func(t *testing.T, s *testStore, _ *sdk.Tenant, _, off *sdk.Member) error {
				back := off.Clone()
				back.Status = sdk.StatusActive
				return s.UpdateMember(t.Context(), sdk.MemberWrite{Member: back, ExpectedVersion: off.Version, Seat: sdk.SeatTake})
			}, sdk.ReasonVersionMismatch},
		{"deactivation paused after its release intent", "UpdateMember.releasing",
			func(t *testing.T, s *testStore, _ *sdk.Tenant, on, _ *sdk.Member) error {
				d := on.Clone()
				d.Status = sdk.StatusDeactivated
				return s.UpdateMember(t.Context(), sdk.MemberWrite{Member: d, ExpectedVersion: on.Version, Seat: sdk.SeatRelease})
			}, sdk.ReasonVersionMismatch},
		{"deletion paused before its release", "DeleteMember.deleted",
			func(t *testing.T, s *testStore, tn *sdk.Tenant, on, _ *sdk.Member) error {
				return s.DeleteMember(t.Context(), sdk.MemberDelete{TenantID: tn.ID, ID: on.ID, ExpectedVersion: on.Version, Seat: sdk.SeatRelease})
			}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openUnserialized(t)
			ctx := t.Context()
			tn, _ := newTenant(t, s, "acme", 3)
			tn.Settings.SeatStates = holding
			if err := s.UpdateTenant(ctx, tn, tn.Version); err != nil {
				t.Fatal(err)
			}
			on := newMember(tn.ID, "on@x.test")
			off := newMember(tn.ID, "off@x.test")
			off.Status = sdk.StatusDeactivated
			if err := s.CreateMember(ctx, sdk.MemberWrite{Member: on, Seat: sdk.SeatTake}); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateMember(ctx, sdk.MemberWrite{Member: off}); err != nil {
				t.Fatal(err)
			}
			// Owner and on hold 2 of 3 seats.
			check := func(when string) {
				t.Helper()
				held := holders(t, s, tn.ID)
				if used := tenantOf(t, s, tn.ID).SeatsUsed; held > 3 || used < held {
					t.Fatalf("%s: %d members hold seats (limit 3), counter %d", when, held, used)
				}
			}

			finish := paused(t, s.raw(), c.point, func() error { return c.write(t, s, tn, on, off) })
			if _, _, err := s.RecountSeats(ctx, tn.ID, holding); err != nil {
				t.Fatalf("RecountSeats beside the paused write: %v", err)
			}
			check("after the recount")
			err := finish()
			if sdk.ReasonOf(err) != c.wantErr || (c.wantErr == "") != (err == nil) {
				t.Fatalf("the paused write returned %v, want reason %q", err, c.wantErr)
			}
			check("after the write")
			// Fill the tenant up: the limit must hold.
			for i := range 3 {
				err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "fill"+string(rune('a'+i))+"@x.test"), Seat: sdk.SeatTake})
				if err != nil && sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
					t.Fatal(err)
				}
				check("filling up")
			}
			if held := holders(t, s, tn.ID); held != 3 {
				t.Fatalf("%d members hold seats after filling up, want 3", held)
			}
			if _, _, err := s.RecountSeats(ctx, tn.ID, holding); err != nil {
				t.Fatal(err)
			}
			checkCounter(t, s, tn.ID)
			if d := rawTenant(t, s, tn.ID); len(d.SeatTakes)+len(d.SeatReleases) != 0 {
				t.Fatalf("intents left: takes %v, releases %v", d.SeatTakes, d.SeatReleases)
			}
		})
	}
}

// TestVoidPlaceholders checks what a recount leaves for a create it
// voided: a placeholder no read returns (not even EmailInOtherTenant, nor
// a count), which the create's retry under a new id does not meet, and
// which a recount a day later deletes.
func TestVoidPlaceholders(t *testing.T) {
	s := openUnserialized(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 5)
	holding := []sdk.Status{sdk.StatusActive}
	late := newMember(tn.ID, "late@x.test")
	finish := paused(t, s.raw(), "CreateMember.seatTaken", func() error {
		return s.CreateMember(ctx, sdk.MemberWrite{Member: late, Seat: sdk.SeatTake})
	})
	if _, _, err := s.RecountSeats(ctx, tn.ID, holding); err != nil {
		t.Fatal(err)
	}
	if err := finish(); !errors.Is(err, sdk.ErrFailedPrecondition) || sdk.ReasonOf(err) != sdk.ReasonVersionMismatch {
		t.Fatalf("CreateMember voided by a recount = %v, want ReasonVersionMismatch", err)
	}
	checkCounter(t, s, tn.ID)

	var ph bson.M
	if err := s.members.FindOne(ctx, bson.D{{Key: "_id", Value: late.ID}}).Decode(&ph); err != nil {
		t.Fatalf("no placeholder: %v", err)
	}
	if ph["tenantId"] != voidTenant(tn.ID) {
		t.Fatalf("placeholder %v", ph)
	}
	if _, err := s.GetMember(ctx, tn.ID, late.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("GetMember(placeholder) = %v", err)
	}
	for _, key := range []sdk.MemberKey{sdk.KeyEmail, sdk.KeyUserName, sdk.KeyExternalID} {
		if _, err := s.GetMemberBy(ctx, tn.ID, key, late.ID); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("GetMemberBy(%d, placeholder id) = %v", key, err)
		}
	}
	for _, tenant := range []string{tn.ID, "other"} {
		if in, err := s.EmailInOtherTenant(ctx, tenant, late.ID); err != nil || in {
			t.Fatalf("EmailInOtherTenant(%s) sees the placeholder: %v, %v", tenant, in, err)
		}
	}
	if n, err := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{}); err != nil || n != 1 {
		t.Fatalf("CountMembers = %d, %v; want the owner alone", n, err)
	}
	// The SDK retries under a new id.
	late.ID = sdk.NewID()
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: late, Seat: sdk.SeatTake}); err != nil {
		t.Fatalf("retry under a new id: %v", err)
	}

	// A recount keeps a young placeholder and deletes an old one.
	if _, _, err := s.RecountSeats(ctx, tn.ID, holding); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.members.CountDocuments(ctx, bson.D{{Key: "tenantId", Value: voidTenant(tn.ID)}}); n != 1 {
		t.Fatalf("%d placeholders after a recount, want the young one", n)
	}
	if _, err := s.members.UpdateOne(ctx, bson.D{{Key: "tenantId", Value: voidTenant(tn.ID)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "voidedAt", Value: time.Now().Add(-voidTTL - time.Minute)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecountSeats(ctx, tn.ID, holding); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.members.CountDocuments(ctx, bson.D{{Key: "tenantId", Value: voidTenant(tn.ID)}}); n != 0 {
		t.Fatalf("%d placeholders after a recount a day later, want none", n)
	}
	checkCounter(t, s, tn.ID)
}

// TestRecountGivesUp keeps moving seats while RecountSeats counts: it
// gives up after maxRecounts attempts, lowering nothing.
func TestRecountGivesUp(t *testing.T) {
	s := openUnserialized(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 100)
	// Leak a seat, as a crash after a take would without its intent.
	if _, err := s.tenants.UpdateOne(ctx, bson.D{{Key: "_id", Value: tn.ID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "seatsUsed", Value: 1}, {Key: "seatsFree", Value: -1}}}}); err != nil {
		t.Fatal(err)
	}
	before := rawTenant(t, s, tn.ID).SeatsUsed
	// Every count is followed by a seat take.
	n := 0
	hook(t, s.raw(), func(p string) error {
		if p == "RecountSeats.counted" {
			n++
			return s.raw().CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "m"+string(rune('a'+n))+"@x.test"), Seat: sdk.SeatTake})
		}
		return nil
	})
	_, _, err := s.RecountSeats(ctx, tn.ID, []sdk.Status{sdk.StatusActive})
	if !errors.Is(err, sdk.ErrFailedPrecondition) || sdk.ReasonOf(err) != sdk.ReasonVersionMismatch || n != maxRecounts {
		t.Fatalf("RecountSeats with seats moving = %v after %d attempts, want ReasonVersionMismatch after %d", err, n, maxRecounts)
	}
	if used := rawTenant(t, s, tn.ID).SeatsUsed; used != before+n {
		t.Fatalf("seatsUsed %d, want %d: the recount lowered it", used, before+n)
	}
	testHooks.Delete(s.raw())
	if _, _, err := s.RecountSeats(ctx, tn.ID, []sdk.Status{sdk.StatusActive}); err != nil {
		t.Fatal(err)
	}
	checkCounter(t, s, tn.ID)
}

// TestRecountLegacyTenant recounts a tenant written before the seat
// intents existed: no seatOps, a leaked seat.
func TestRecountLegacyTenant(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 5)
	if _, err := s.tenants.UpdateOne(ctx, bson.D{{Key: "_id", Value: tn.ID}}, bson.D{
		{Key: "$unset", Value: bson.D{{Key: "seatOps", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "seatsUsed", Value: 1}, {Key: "seatsFree", Value: -1}}},
	}); err != nil {
		t.Fatal(err)
	}
	got, prev, err := s.RecountSeats(ctx, tn.ID, []sdk.Status{sdk.StatusActive})
	if err != nil || prev != 2 || got.SeatsUsed != 1 {
		t.Fatalf("RecountSeats = used %v prev %d, %v; want 1, 2", got, prev, err)
	}
	checkCounter(t, s, tn.ID)
}
