package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// The interleaving tests run two operations through the public
// [sdk.Client] API, each on its own client (as two servers would), both on
// one store behind gates, and choose the order of their store calls:
//
//   - held at k: one operation makes k-1 store calls and is held before its
//     k-th while the other runs to its end, then finishes; for every k and
//     both ways round, so every gap between two store steps of either
//     operation sees the whole other operation;
//   - lockstep at d: one operation makes d calls, then the two alternate
//     call by call, so both can be between the same two steps at once (two
//     checks before two writes).
//
// After each round the case checks the invariants and the errors. A round
// works on fresh tenants of a store of the family's own: on a store whose
// queries scan what earlier rounds wrote (FerretDB), a round after 40
// others took four times as long as on a new store, while a new store a
// round costs about as much as it saves. A round is bounded by
// roundTimeout.

const (
	// roundTimeout bounds a round so that a hang fails rather than stalls;
	// it is no performance target. The mongo store on FerretDB, the
	// slowest store run, took over 20 s for a churn round while CI ran
	// every package at once on a shared 2-core machine.
	roundTimeout = 90 * time.Second
	// maxCalls bounds the rounds of one family: an operation making more
	// store calls than this is reported.
	maxCalls = 200
)

// race is one interleaving case: prepare makes fresh tenants of s through
// c and returns the two operations and the check of their outcome.
type race struct {
	a, b    string // the operations' names, for subtests and traces
	prepare func(t *testing.T, s sdk.Store, c *sdk.Client) round
}

// round is one run of a race.
type round struct {
	a, b  func(ctx context.Context, c *sdk.Client) error
	check func(t *testing.T, errA, errB error)
}

// schedule drives two started racers to their end, first being the one
// held or leading, and reports whether first was still running at the
// point the schedule names (false: this round and every later one of the
// family ran first to its end before that point).
type schedule func(t *testing.T, first, second *racer) bool

// heldAt holds first before its k-th store call while second runs to its
// end.
func heldAt(k int) schedule {
	return func(t *testing.T, first, second *racer) bool {
		for i := 1; i < k && !first.finished(); i++ {
			first.step(t)
		}
		reached := !first.finished()
		second.finish(t)
		first.finish(t)
		return reached
	}
}

// lockstep lets first make d store calls, then alternates, second first.
func lockstep(d int) schedule {
	return func(t *testing.T, first, second *racer) bool {
		for i := 0; i < d && !first.finished(); i++ {
			first.step(t)
		}
		reached := !first.finished()
		for !first.finished() || !second.finished() {
			second.step(t)
			first.step(t)
		}
		return reached
	}
}

// interleave runs r under every schedule of both families, both ways
// round, each family on a store of its own. A family stops at its first
// failing round.
func interleave(t *testing.T, newStore func(t *testing.T) sdk.Store, r race) {
	families := []struct {
		name     string
		swap     bool // b is first
		from     int
		schedule func(int) schedule
	}{
		{r.a + "_held_at", false, 1, heldAt},
		{r.b + "_held_at", true, 1, heldAt},
		// Lockstep at d with a first and at d-1 with b first are the same
		// order, so b leads from 2 calls on.
		{r.a + "_leads_lockstep_by", false, 0, lockstep},
		{r.b + "_leads_lockstep_by", true, 2, lockstep},
	}
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			s := newStore(t)
			for k := f.from; ; k++ {
				if k > maxCalls {
					t.Fatalf("more than %d store calls in one operation", maxCalls)
				}
				more := true
				if !t.Run(fmt.Sprint(k), func(t *testing.T) { more = runRound(t, s, r, f.swap, f.schedule(k)) }) {
					return
				}
				if !more {
					return
				}
			}
		})
	}
}

// runRound prepares fresh tenants, runs the two operations under sched
// and checks the outcome. It reports whether sched reached its point.
func runRound(t *testing.T, s sdk.Store, r race, swap bool, sched schedule) bool {
	ctx, cancel := context.WithTimeout(t.Context(), roundTimeout)
	defer cancel()
	rd := r.prepare(t, s, sdk.New(s))
	var trace []string
	ga, gb := newGate(ctx, s), newGate(ctx, s)
	ca, cb := sdk.New(ga), sdk.New(gb)
	ra := start(t, r.a, ga, &trace, func() error { return rd.a(ctx, ca) })
	rb := start(t, r.b, gb, &trace, func() error { return rd.b(ctx, cb) })
	first, second := ra, rb
	if swap {
		first, second = rb, ra
	}
	reached := sched(t, first, second)
	rd.check(t, ra.err, rb.err)
	if t.Failed() {
		t.Logf("store calls in order: %s", strings.Join(trace, " "))
		t.Logf("%s returned %v; %s returned %v", r.a, ra.err, r.b, rb.err)
	}
	return reached
}

// racer is an operation in flight through a gate, driven by the test one
// store call at a time. Between two steps it is held before its next store
// call, or finished.
type racer struct {
	name  string
	g     *gate
	done  chan struct{}
	err   error // the operation's result, once finished
	held  *call
	trace *[]string // the calls let through, of both racers, in order
}

// start runs op in its own goroutine and waits until it is held before
// its first store call (or finished without one).
func start(t *testing.T, name string, g *gate, trace *[]string, op func() error) *racer {
	t.Helper()
	r := &racer{name: name, g: g, done: make(chan struct{}), trace: trace}
	go func() {
		defer close(r.done)
		r.err = op()
	}()
	r.next(t)
	return r
}

// next waits until r is held before its next store call or finished.
func (r *racer) next(t *testing.T) {
	t.Helper()
	select {
	case c := <-r.g.arrive:
		r.held = c
	case <-r.done:
		r.held = nil
	case <-r.g.ctx.Done():
		t.Fatalf("%s neither called the store nor finished in time; calls so far: %v", r.name, *r.trace)
	}
}

func (r *racer) finished() bool { return r.held == nil }

// step lets r's held call run and waits until r is held again or
// finished. Stepping a finished racer does nothing.
func (r *racer) step(t *testing.T) {
	t.Helper()
	if r.held == nil {
		return
	}
	*r.trace = append(*r.trace, r.name+"."+r.held.method)
	close(r.held.proceed)
	r.next(t)
}

// finish steps r to its end.
func (r *racer) finish(t *testing.T) {
	t.Helper()
	for !r.finished() {
		r.step(t)
	}
}
