package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// twoStores opens two stores on one new file, as a server and an admin
// command would: they share nothing but the file, so only SQLite's locks
// order their writes.
func twoStores(t *testing.T) (*Store, *Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "roster.db")
	var ss [2]*Store
	for i := range ss {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ss[i] = s
	}
	return ss[0], ss[1]
}

// newTenant creates a tenant with seats seats directly through the store.
func newTenant(t testing.TB, s sdk.Store, slug string, seats int, global bool) *sdk.Tenant {
	t.Helper()
	roles, _ := sdk.PresetRoles(sdk.PresetStandard)
	tn := &sdk.Tenant{ID: sdk.NewID(), Slug: slug, Name: slug, IncludedSeats: seats, SeatsUsed: 1, Roles: roles, Version: 1}
	tn.Settings.UniqueEmailAcrossTenants = global
	owner := member(tn.ID, "owner@"+slug+".test")
	owner.Role = "owner"
	tn.OwnerID = owner.ID
	if err := s.CreateTenant(t.Context(), tn, sdk.MemberWrite{Member: owner, GlobalEmail: global}); err != nil {
		t.Fatal(err)
	}
	return tn
}

func member(tenantID, email string) *sdk.Member {
	m := &sdk.Member{ID: sdk.NewID(), TenantID: tenantID, Role: "standard", Status: sdk.StatusActive, Version: 1}
	m.Emails = []sdk.Email{{Value: email, Type: "work", Primary: true}}
	m.UserName = email
	m.Email = m.MemberEmail()
	m.EmailKey = sdk.NormalizeEmail(m.Email)
	m.UserNameKey = sdk.NormalizeUserName(m.UserName)
	return m
}

// race runs n goroutines, half on each store, and returns their errors.
func race(n int, a, b *Store, f func(i int, s *Store) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			errs[i] = f(i, s)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// outcomes counts the errors by reason ("" for success); anything that is
// not an sdk refusal fails the test.
func outcomes(t *testing.T, errs []error) map[sdk.Reason]int {
	t.Helper()
	out := map[sdk.Reason]int{}
	for _, err := range errs {
		var se *sdk.Error
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("unexpected error: %v", err)
		}
		if err != nil && se.Reason == "" {
			t.Fatalf("refusal without a reason: %v", err)
		}
		out[sdk.ReasonOf(err)]++
	}
	return out
}

func TestTwoStoresLastSeats(t *testing.T) {
	a, b := twoStores(t)
	const free, tries = 5, 24
	tn := newTenant(t, a, "acme", 1+free, false)
	errs := race(tries, a, b, func(i int, s *Store) error {
		return s.CreateMember(t.Context(), sdk.MemberWrite{Member: member(tn.ID, fmt.Sprintf("m%d@acme.test", i)), Seat: sdk.SeatTake})
	})
	if got := outcomes(t, errs); got[""] != free || got[sdk.ReasonSeatLimit] != tries-free {
		t.Errorf("outcomes %v, want %d created and the rest refused for the seat limit", got, free)
	}
	for _, s := range []*Store{a, b} {
		got, err := s.GetTenant(t.Context(), tn.ID)
		if err != nil || got.SeatsUsed != 1+free {
			t.Errorf("seats used %+v, %v; want %d", got, err, 1+free)
		}
		if n, err := s.CountMembers(t.Context(), tn.ID, sdk.MemberFilter{}); err != nil || n != 1+free {
			t.Errorf("%d members, %v; want %d", n, err, 1+free)
		}
	}
}

func TestTwoStoresOneEmail(t *testing.T) {
	a, b := twoStores(t)
	tn := newTenant(t, a, "acme", 100, false)
	const tries = 16
	errs := race(tries, a, b, func(i int, s *Store) error {
		return s.CreateMember(t.Context(), sdk.MemberWrite{Member: member(tn.ID, "Same@ACME.test"), Seat: sdk.SeatTake})
	})
	if got := outcomes(t, errs); got[""] != 1 || got[sdk.ReasonEmailTaken] != tries-1 {
		t.Errorf("outcomes %v, want one created and the rest refused with %s", got, sdk.ReasonEmailTaken)
	}
	if got, _ := b.GetTenant(t.Context(), tn.ID); got.SeatsUsed != 2 {
		t.Errorf("seats used %d, want 2", got.SeatsUsed)
	}
}

func TestTwoStoresGlobalEmail(t *testing.T) {
	a, b := twoStores(t)
	tenants := []*sdk.Tenant{newTenant(t, a, "x", 100, true), newTenant(t, b, "y", 100, true), newTenant(t, a, "z", 100, true)}
	const tries = 18
	errs := race(tries, a, b, func(i int, s *Store) error {
		tn := tenants[i%len(tenants)]
		return s.CreateMember(t.Context(), sdk.MemberWrite{Member: member(tn.ID, "shared@global.test"), Seat: sdk.SeatTake, GlobalEmail: true})
	})
	got := outcomes(t, errs)
	if got[""] != 1 || got[sdk.ReasonEmailTaken]+got[sdk.ReasonEmailTakenElsewhere] != tries-1 {
		t.Errorf("outcomes %v, want one created and the rest refused", got)
	}
	holders := 0
	for _, tn := range tenants {
		if _, err := a.GetMemberBy(t.Context(), tn.ID, sdk.KeyEmail, "shared@global.test"); err == nil {
			holders++
		}
	}
	if holders != 1 {
		t.Errorf("%d tenants hold the address, want 1", holders)
	}
}

// childEnv names the database a child process of TestTwoProcesses works
// on, and childN how many members it tries to create.
const (
	childEnv = "ROSTER_SQLITE_TEST_CHILD"
	childN   = "ROSTER_SQLITE_TEST_TRIES"
)

// TestTwoProcesses races two processes (this test binary, started again)
// for the last seats of one tenant, as a server and an admin command
// would: exactly the free seats are taken.
func TestTwoProcesses(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		child(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "roster.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const free, tries = 7, 20
	tn := newTenant(t, s, "acme", 1+free, false)
	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range outs {
		wg.Go(func() {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestTwoProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+path, childN+"="+strconv.Itoa(tries), "ROSTER_SQLITE_TEST_TENANT="+tn.ID, "ROSTER_SQLITE_TEST_PREFIX="+strconv.Itoa(i))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("child %d: %v\n%s", i, err, out)
			}
			outs[i] = string(out)
		})
	}
	wg.Wait()
	created := 0
	for _, out := range outs {
		for line := range strings.Lines(out) {
			if n, ok := strings.CutPrefix(strings.TrimSpace(line), "created "); ok {
				k, _ := strconv.Atoi(n)
				created += k
			}
		}
	}
	got, err := s.GetTenant(t.Context(), tn.ID)
	if err != nil || got.SeatsUsed != 1+free || created != free {
		t.Errorf("children created %d, seats used %+v, %v; want %d and %d", created, got, err, free, 1+free)
	}
	if n, err := s.CountMembers(t.Context(), tn.ID, sdk.MemberFilter{}); err != nil || n != 1+free {
		t.Errorf("%d members, %v; want %d", n, err, 1+free)
	}
}

// child is the body of a child process: it tries to create members, from
// several goroutines, and prints how many it created.
func child(t *testing.T, path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tries, _ := strconv.Atoi(os.Getenv(childN))
	tenantID, prefix := os.Getenv("ROSTER_SQLITE_TEST_TENANT"), os.Getenv("ROSTER_SQLITE_TEST_PREFIX")
	errs := race(tries, s, s, func(i int, s *Store) error {
		return s.CreateMember(ctx, sdk.MemberWrite{Member: member(tenantID, fmt.Sprintf("p%s-%d@acme.test", prefix, i)), Seat: sdk.SeatTake})
	})
	got := outcomes(t, errs)
	if got[""]+got[sdk.ReasonSeatLimit] != tries {
		t.Fatalf("outcomes %v", got)
	}
	fmt.Printf("created %d\n", got[""])
}
