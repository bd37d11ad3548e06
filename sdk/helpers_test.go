package sdk_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// world is a tenant with one member of each kind.
type world struct {
	c         *sdk.Client
	store     *memstore.Store
	clock     *fakeClock
	t         *sdk.Tenant
	owner     *sdk.Member
	admin     *sdk.Member
	admin2    *sdk.Member
	std       *sdk.Member
	std2      *sdk.Member
	ownerA    sdk.Actor
	adminA    sdk.Actor
	stdA      sdk.Actor
	system    sdk.Actor
	scimToken sdk.Actor
}

func newWorld(t *testing.T, req sdk.CreateTenantRequest, opts ...sdk.Option) *world {
	t.Helper()
	w := &world{store: memstore.New(), clock: newFakeClock(), system: sdk.SystemActor(), scimToken: sdk.TokenActor("tok1")}
	w.c = sdk.New(w.store, append([]sdk.Option{sdk.WithClock(w.clock.Now)}, opts...)...)
	if req.Slug == "" {
		req.Slug = "acme"
	}
	if req.OwnerEmail == "" {
		req.OwnerEmail = "owner@acme.test"
	}
	if req.IncludedSeats == 0 {
		req.IncludedSeats = 10
	}
	var err error
	w.t, w.owner, err = w.c.CreateTenant(t.Context(), w.system, req)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	w.ownerA = sdk.MemberActor(w.owner.ID)
	top := w.t.Roles[1].Name
	bottom := w.t.Roles[len(w.t.Roles)-1].Name
	w.admin = w.add(t, "admin@acme.test", top)
	w.admin2 = w.add(t, "admin2@acme.test", top)
	w.std = w.add(t, "std@acme.test", bottom)
	w.std2 = w.add(t, "std2@acme.test", bottom)
	w.adminA = sdk.MemberActor(w.admin.ID)
	w.stdA = sdk.MemberActor(w.std.ID)
	return w
}

func (w *world) add(t *testing.T, email, role string) *sdk.Member {
	t.Helper()
	m, err := w.c.AddMember(t.Context(), w.system, sdk.AddMemberRequest{TenantID: w.t.ID, Email: email, Role: role})
	if err != nil {
		t.Fatalf("AddMember(%s): %v", email, err)
	}
	return m
}

func (w *world) tenant(t *testing.T) *sdk.Tenant {
	t.Helper()
	tn, err := w.c.Tenant(t.Context(), w.t.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func (w *world) member(t *testing.T, id string) *sdk.Member {
	t.Helper()
	m, err := w.c.Member(t.Context(), w.t.ID, id)
	if err != nil {
		t.Fatalf("Member(%s): %v", id, err)
	}
	return m
}

func (w *world) count(t *testing.T) int {
	t.Helper()
	n, err := w.c.CountMembers(t.Context(), w.t.ID, sdk.ListMembersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wantRefused fails unless err matches code and carries reason.
func wantRefused(t *testing.T, err error, code error, reason sdk.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded; want %v (%s)", code, reason)
	}
	if !errors.Is(err, code) {
		t.Fatalf("err = %v; want code %v", err, code)
	}
	if got := sdk.ReasonOf(err); got != reason {
		t.Fatalf("reason = %q; want %q (err: %v)", got, reason, err)
	}
	var se *sdk.Error
	if !errors.As(err, &se) || se.Op == "" {
		t.Fatalf("err %v is not an *sdk.Error with an op", err)
	}
}
