package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// TestTwoServersOneDatabase runs two 'roster serve' processes on one
// database and sends both of them SCIM traffic at once — the same
// userNames to both, seat churn, membership changes of one group, attacks
// on the owner — and checks afterwards (and, for the seat limit, all
// along) that userNames stayed unique, the seat limit was never exceeded,
// the tenant has exactly one owner and the group holds exactly the
// members it should.
func TestTwoServersOneDatabase(t *testing.T) {
	const (
		slug    = "duo"
		seats   = 40 // the owner and 39 more
		names   = 100
		workers = 6 // concurrent requests per server
	)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	d := newDatabase(t)
	d.createTenant(t, slug, "owner@duo.test", seats)
	tok := d.createToken(t, slug)
	a, b := d.startServer(t), d.startServer(t)
	ca, cb := newSCIMClient(a, slug, tok), newSCIMClient(b, slug, tok)
	client, store := d.open(t)
	tn, err := client.TenantBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))

	// The seat limit is checked all along: a watcher counts the members
	// (all of them hold a seat under the default setting) while the
	// traffic runs.
	var maxSeen atomic.Int64
	stopWatch := watch(ctx, 100*time.Millisecond, func(ctx context.Context) {
		if n, err := client.CountMembers(ctx, tn.ID, sdk.ListMembersOptions{}); err == nil {
			if int64(n) > maxSeen.Load() {
				maxSeen.Store(int64(n))
			}
		}
	})
	var total atomic.Int64
	send := func(c *scimClient, method, path, body string, ok ...int) func(context.Context) (*scimResponse, error) {
		return func(ctx context.Context) (*scimResponse, error) {
			total.Add(1)
			r, err := c.do(ctx, method, path, body)
			if err != nil {
				return r, err
			}
			if !slices.Contains(ok, r.Status) {
				return r, fmt.Errorf("%s %s: status %d: %s", method, path, r.Status, r.Raw)
			}
			return r, nil
		}
	}

	// Phase 1: both servers create the same userNames (one in lower, one
	// in upper case). Each name is created once; once the seats are
	// taken, the rest are refused.
	created := map[string]string{} // lower-case userName -> id
	var mu sync.Mutex
	var qa, qb []task
	for i := range names {
		name := fmt.Sprintf("user%03d@duo.test", i)
		for _, side := range []struct {
			c    *scimClient
			q    *[]task
			name string
		}{{ca, &qa, name}, {cb, &qb, strings.ToUpper(name)}} {
			req := send(side.c, "POST", "/Users", userJSON(side.name), 201, 403, 409)
			*side.q = append(*side.q, func(ctx context.Context) error {
				r, err := req(ctx)
				if err != nil {
					return err
				}
				switch r.Status {
				case 201:
					mu.Lock()
					defer mu.Unlock()
					key := strings.ToLower(r.str("userName"))
					if prev, dup := created[key]; dup {
						return fmt.Errorf("userName %s created twice: %s and %s", key, prev, r.str("id"))
					}
					created[key] = r.str("id")
				case 403:
					if !strings.Contains(r.str("detail"), "seat limit") {
						return fmt.Errorf("403 that is not the seat limit: %s", r.Raw)
					}
				case 409:
					if r.str("scimType") != "uniqueness" {
						return fmt.Errorf("409 that is not uniqueness: %s", r.Raw)
					}
				}
				return nil
			})
		}
	}
	shuffle(rng, qa, qb)
	failOn(t, runQueues(ctx, workers, qa, qb))
	if len(created) != seats-1 {
		t.Fatalf("phase 1: %d users created, want exactly %d (the free seats)", len(created), seats-1)
	}
	readTenant(t, client, store, slug).checkInvariants(t)

	// Phase 2: a group; both servers add the same members to it in
	// chunks; meanwhile both delete the same other members while both
	// create new users that want the freed seats, and both try to
	// deactivate and delete the owner.
	ids := make([]string, 0, len(created))
	for _, id := range created {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	inGroup, toDelete := ids[:30], ids[30:]
	gid := ca.must(t, 201, "POST", "/Groups", `{"schemas":["`+schemaGroup+`"],"displayName":"Engineering"}`).str("id")
	qa, qb = nil, nil
	for chunk := range slices.Chunk(inGroup, 5) {
		body := membersPatch("add", chunk)
		qa = append(qa, discard(send(ca, "PATCH", "/Groups/"+gid, body, 204)))
		qb = append(qb, discard(send(cb, "PATCH", "/Groups/"+gid, body, 204)))
	}
	for _, id := range toDelete {
		qa = append(qa, discard(send(ca, "DELETE", "/Users/"+id, "", 204, 404)))
		qb = append(qb, discard(send(cb, "DELETE", "/Users/"+id, "", 204, 404)))
	}
	var newCreated atomic.Int64
	for i := range 15 {
		name := fmt.Sprintf("late%02d@duo.test", i)
		for _, side := range []struct {
			c    *scimClient
			q    *[]task
			name string
		}{{ca, &qa, name}, {cb, &qb, strings.ToUpper(name)}} {
			req := send(side.c, "POST", "/Users", userJSON(side.name), 201, 403, 409)
			*side.q = append(*side.q, func(ctx context.Context) error {
				r, err := req(ctx)
				if err == nil && r.Status == 201 {
					newCreated.Add(1)
				}
				return err
			})
		}
	}
	deactivate := `{"schemas":["` + schemaPatchOp + `"],"Operations":[{"op":"replace","value":{"active":false}}]}`
	for _, c := range []*scimClient{ca, cb} {
		q := &qa
		if c == cb {
			q = &qb
		}
		*q = append(*q,
			discard(send(c, "PATCH", "/Users/"+tn.OwnerID, deactivate, 403)),
			discard(send(c, "DELETE", "/Users/"+tn.OwnerID, "", 403)))
	}
	shuffle(rng, qa, qb)
	failOn(t, runQueues(ctx, workers, qa, qb))
	st := readTenant(t, client, store, slug)
	st.checkInvariants(t)
	if n := newCreated.Load(); n > int64(len(toDelete)) {
		t.Errorf("phase 2: %d new users created for %d freed seats", n, len(toDelete))
	}
	if want := seats - len(toDelete) + int(newCreated.Load()); len(st.members) != want {
		t.Errorf("phase 2: %d members, want %d", len(st.members), want)
	}
	if got := groupMembers(t, client, tn.ID, gid); !sameSet(got, inGroup) {
		t.Errorf("phase 2: group has %d members %v, want %d %v", len(got), got, len(inGroup), inGroup)
	}

	// Phase 3: both servers remove the same 10 members (by value array
	// and by filter) while both re-add the other 20.
	removed, kept := inGroup[:10], inGroup[10:]
	qa, qb = nil, nil
	for i, id := range removed {
		byValue := membersPatch("remove", []string{id})
		byFilter := `{"schemas":["` + schemaPatchOp + `"],"Operations":[{"op":"remove","path":"members[value eq \"` + id + `\"]"}]}`
		if i%2 == 1 {
			byValue, byFilter = byFilter, byValue
		}
		qa = append(qa, discard(send(ca, "PATCH", "/Groups/"+gid, byValue, 204)))
		qb = append(qb, discard(send(cb, "PATCH", "/Groups/"+gid, byFilter, 204)))
	}
	for chunk := range slices.Chunk(kept, 5) {
		body := membersPatch("add", chunk)
		qa = append(qa, discard(send(ca, "PATCH", "/Groups/"+gid, body, 204)))
		qb = append(qb, discard(send(cb, "PATCH", "/Groups/"+gid, body, 204)))
	}
	shuffle(rng, qa, qb)
	failOn(t, runQueues(ctx, workers, qa, qb))
	stopWatch()

	st = readTenant(t, client, store, slug)
	st.checkInvariants(t)
	if got := groupMembers(t, client, tn.ID, gid); !sameSet(got, kept) {
		t.Errorf("group has %d members %v, want %d %v", len(got), got, len(kept), kept)
	}
	// Both servers serve the same membership.
	for _, c := range []*scimClient{ca, cb} {
		r := c.must(t, 200, "GET", "/Groups/"+gid, "")
		ms, _ := r.Body["members"].([]any)
		var got []string
		for i := range ms {
			id, _ := dig(ms, fmt.Sprintf("%d.value", i)).(string)
			got = append(got, id)
		}
		if !sameSet(got, kept) {
			t.Errorf("%s: GET group lists %v, want %v", c.base, got, kept)
		}
	}
	if m := maxSeen.Load(); m > seats {
		t.Errorf("the watcher saw %d members, over the seat limit of %d", m, seats)
	}
	t.Logf("%d requests over two servers; %d created in phase 1, %d in phase 2; at most %d members seen (limit %d)",
		total.Load(), len(created), newCreated.Load(), maxSeen.Load(), seats)
}

// task is one unit of concurrent work.
type task func(context.Context) error

func discard(f func(context.Context) (*scimResponse, error)) task {
	return func(ctx context.Context) error {
		_, err := f(ctx)
		return err
	}
}

// runQueues runs every queue with its own pool of workers, all queues at
// once, and returns the tasks' errors.
func runQueues(ctx context.Context, workers int, queues ...[]task) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, q := range queues {
		ch := make(chan task)
		for range workers {
			wg.Go(func() {
				for f := range ch {
					if err := f(ctx); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			})
		}
		wg.Go(func() {
			defer close(ch)
			for _, f := range q {
				select {
				case ch <- f:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

func failOn(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if i == 10 {
			t.Fatalf("… and %d more errors", len(errs)-i)
		}
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
}

func shuffle(rng *rand.Rand, qs ...[]task) {
	for _, q := range qs {
		rng.Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
	}
}

// watch calls f every interval until the returned stop is called.
func watch(ctx context.Context, interval time.Duration, f func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			f(ctx)
			select {
			case <-ctx.Done():
				return
			case <-time.After(interval):
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}
