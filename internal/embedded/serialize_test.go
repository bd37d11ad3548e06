package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
	"github.com/rosterhq/roster/sdk/storetest"
)

// TestConformance runs the store conformance suite's races on the mongo
// store over FerretDB behind Serialize, a database per store: the proof
// that the mongo store's invariants hold under concurrency on its test
// double. The rest of the suite runs on the same stack in the mongo
// package's TestConformance; running it twice under -race took the two
// packages past go test's 10-minute limit on a 2-core machine.
func TestConformance(t *testing.T) {
	srv, err := embedded.Start(t.Context(), embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() }) // after the stores close
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) sdk.Store {
		st, err := mongo.Open(t.Context(), srv.URI(), fmt.Sprintf("conformance_%03d", n.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close(context.Background()) })
		return embedded.Serialize(st, nil)
	}, storetest.Only("Interleaving", "Concurrency"))
}

// inline is a store that keeps memberships on its members.
type inline struct{ sdk.Store }

func (inline) MemberGroupsInline() bool { return true }

// TestSerializeForwards checks that the wrapper has exactly the optional
// interfaces of the store it wraps, and answers MemberGroupsInline for it.
func TestSerializeForwards(t *testing.T) {
	ms := memstore.New()
	cases := []struct {
		name             string
		s                sdk.Store
		bulk, scan, hash bool
		inline           bool
	}{
		{"none", struct{ sdk.Store }{ms}, false, false, false, false},
		{"bulk", struct {
			sdk.Store
			sdk.BulkMemberStore
		}{ms, nil}, true, false, false, false},
		{"scan", struct {
			sdk.Store
			sdk.MemberScanner
		}{ms, nil}, false, true, false, false},
		{"hash", struct {
			sdk.Store
			sdk.PasswordHashReader
		}{ms, nil}, false, false, true, false},
		{"bulk+scan", struct {
			sdk.Store
			sdk.BulkMemberStore
			sdk.MemberScanner
		}{ms, nil, nil}, true, true, false, false},
		{"bulk+hash", struct {
			sdk.Store
			sdk.BulkMemberStore
			sdk.PasswordHashReader
		}{ms, nil, nil}, true, false, true, false},
		{"scan+hash", struct {
			sdk.Store
			sdk.MemberScanner
			sdk.PasswordHashReader
		}{ms, nil, nil}, false, true, true, false},
		{"all", struct {
			inline
			sdk.BulkMemberStore
			sdk.MemberScanner
			sdk.PasswordHashReader
		}{inline{ms}, nil, nil, nil}, true, true, true, true},
		{"inline", inline{ms}, false, false, false, true},
		{"memstore", ms, false, true, true, false},
	}
	for _, c := range cases {
		w := embedded.Serialize(c.s, nil)
		_, bulk := w.(sdk.BulkMemberStore)
		_, scan := w.(sdk.MemberScanner)
		_, hash := w.(sdk.PasswordHashReader)
		ig, ok := w.(sdk.InlineMemberGroups)
		if bulk != c.bulk || scan != c.scan || hash != c.hash || !ok || ig.MemberGroupsInline() != c.inline {
			t.Errorf("%s: wrapper has bulk %v scan %v hash %v, inline groups %v; want %v %v %v, %v",
				c.name, bulk, scan, hash, ok && ig.MemberGroupsInline(), c.bulk, c.scan, c.hash, c.inline)
		}
	}

	// The mongo store has them all.
	srv, err := embedded.Start(t.Context(), embedded.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st, err := mongo.Open(t.Context(), srv.URI(), "roster")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	w := embedded.Serialize(st, nil)
	_, bulk := w.(sdk.BulkMemberStore)
	_, scan := w.(sdk.MemberScanner)
	_, hash := w.(sdk.PasswordHashReader)
	if ig, ok := w.(sdk.InlineMemberGroups); !bulk || !scan || !hash || !ok || !ig.MemberGroupsInline() {
		t.Errorf("Serialize(mongo store): bulk %v scan %v hash %v inline groups %v, want all", bulk, scan, hash, ok)
	}
}

// slowStore records how many of its writes and reads run at once.
type slowStore struct {
	sdk.Store
	mu              sync.Mutex
	writes, maxW    int
	reads, maxR     int
	entered, leave  chan struct{}
	blockNextWrites bool
}

func (s *slowStore) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	s.mu.Lock()
	s.writes++
	s.maxW = max(s.maxW, s.writes)
	block := s.blockNextWrites
	s.mu.Unlock()
	if block {
		s.entered <- struct{}{}
		<-s.leave
	} else {
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	s.writes--
	s.mu.Unlock()
	return nil
}

func (s *slowStore) GetMember(ctx context.Context, tenantID, id string) (*sdk.Member, error) {
	s.mu.Lock()
	s.reads++
	s.maxR = max(s.maxR, s.reads)
	s.mu.Unlock()
	time.Sleep(time.Millisecond)
	s.mu.Lock()
	s.reads--
	s.mu.Unlock()
	return nil, nil
}

// TestSerializeLocks checks that the writes of one tenant run one at a
// time, across wrappers, that waiting for the lock honours the context,
// that reads are not held up, and that a write waits while the gate is
// held exclusively.
func TestSerializeLocks(t *testing.T) {
	ctx := t.Context()
	fake := &slowStore{Store: memstore.New(), entered: make(chan struct{}), leave: make(chan struct{})}
	a, b := embedded.Serialize(fake, nil), embedded.Serialize(fake, nil)
	write := func(s sdk.Store, ctx context.Context, tenant string) error {
		return s.CreateMember(ctx, sdk.MemberWrite{Member: &sdk.Member{ID: sdk.NewID(), TenantID: tenant}})
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			s := a
			if i%2 == 1 {
				s = b
			}
			if err := write(s, ctx, "t1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if fake.maxW != 1 {
		t.Fatalf("%d writes of one tenant ran at once", fake.maxW)
	}

	// A write in progress holds up the next write of its tenant (until
	// the caller gives up) but no read.
	fake.blockNextWrites = true
	done := make(chan error, 1)
	go func() { done <- write(a, ctx, "t1") }()
	<-fake.entered
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := write(b, short, "t1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write waiting for its tenant = %v, want the context's error", err)
	}
	for range 8 {
		wg.Go(func() {
			if _, err := a.GetMember(ctx, "t1", "x"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	fake.leave <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fake.blockNextWrites = false
	if fake.maxR < 2 {
		t.Logf("reads never overlapped (%d at most); they are not serialised, but this run did not show it", fake.maxR)
	}

	// The gate held exclusively holds up writes, not reads.
	var gate sync.RWMutex
	g := embedded.Serialize(fake, &gate)
	gate.Lock()
	go func() { done <- write(g, ctx, "t2") }()
	select {
	case err := <-done:
		t.Fatalf("a write ran while the gate was held: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := g.GetMember(ctx, "t2", "x"); err != nil {
		t.Fatal(err)
	}
	gate.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
