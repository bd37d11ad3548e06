package sqlite

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// TestGroupCommit queues writes while the write connection is held, so
// that one transaction commits them all, half of them refused (a
// duplicate address each, and one over the seat limit): each caller gets
// its own outcome, the refused writes leave nothing, and the others are
// stored with the seat counter exact.
func TestGroupCommit(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir()+"/roster.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const pairs = 20
	tn := newTenant(t, s, "acme", 1+pairs, false) // the owner and one of each pair
	s.wsem <- struct{}{}                          // hold the write connection
	var wg sync.WaitGroup
	errs := make([]error, 2*pairs+1)
	ms := make([]*sdk.Member, 2*pairs+1)
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateMember(t.Context(), sdk.MemberWrite{Member: ms[i], Seat: sdk.SeatTake})
		}()
	}
	queued := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			s.qmu.Lock()
			n := len(s.queue)
			s.qmu.Unlock()
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d writes queued", n, want)
			}
		}
	}
	for i := range 2 * pairs {
		ms[i] = member(tn.ID, fmt.Sprintf("p%02d@acme.test", i/2))
		start(i)
	}
	queued(2 * pairs)
	// Last in the queue, when every seat is taken.
	ms[2*pairs] = member(tn.ID, "over@acme.test")
	start(2 * pairs)
	queued(2*pairs + 1)
	<-s.wsem // let one of them lead
	wg.Wait()

	won := 0
	for p := range pairs {
		a, b := errs[2*p], errs[2*p+1]
		switch {
		case a == nil && b == nil:
			t.Errorf("pair %d: both writes of one address succeeded", p)
		case a != nil && b != nil:
			t.Errorf("pair %d: both failed: %v / %v", p, a, b)
		default:
			won++
			loser, lost := a, ms[2*p]
			if a == nil {
				loser, lost = b, ms[2*p+1]
			}
			if !errors.Is(loser, sdk.ErrAlreadyExists) {
				t.Errorf("pair %d: the loser got %v, want the address taken", p, loser)
			}
			if _, err := s.GetMember(t.Context(), tn.ID, lost.ID); !errors.Is(err, sdk.ErrNotFound) {
				t.Errorf("pair %d: the refused member is stored (%v)", p, err)
			}
		}
	}
	var se *sdk.Error
	if last := errs[2*pairs]; !errors.As(last, &se) || se.Reason != sdk.ReasonSeatLimit {
		t.Errorf("the write over the limit = %v, want ReasonSeatLimit", last)
	}
	got, err := s.GetTenant(t.Context(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.CountMembers(t.Context(), tn.ID, sdk.MemberFilter{})
	if err != nil || n != 1+won || got.SeatsUsed != n {
		t.Errorf("members %d (%v), seat counter %d, want %d", n, err, got.SeatsUsed, 1+won)
	}
}
