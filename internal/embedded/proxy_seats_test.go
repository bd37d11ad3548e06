package embedded_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
)

// TestSeatsThroughProxy takes seats of one tenant near its limit from
// several clients at once, none of them wrapped with Serialize, all through
// the proxy, as 'roster serve' processes sharing the integration image do.
// FerretDB v1 runs a conditional update as a read then a write, so without
// the proxy's one request at a time two seat increments can both read the
// same counter and one be lost; with it the limit holds and the counter
// equals the members holding seats.
func TestSeatsThroughProxy(t *testing.T) {
	ctx := t.Context()
	srv, err := embedded.Start(ctx, embedded.Config{Dir: t.TempDir(), TCP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() }) // after the stores close
	open := func() *sdk.Client {
		st, err := mongo.Open(ctx, srv.URI(), "roster")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close(context.Background()) })
		return sdk.New(st)
	}
	clients := []*sdk.Client{open(), open(), open()}
	first := clients[0]

	const seats = 12
	tn, _, err := first.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "owner@acme.test", IncludedSeats: seats,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Members to remove while others are added, so that seats move both
	// ways.
	var leaving []*sdk.Member
	for i := range 4 {
		m, err := first.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: fmt.Sprintf("leaver%d@acme.test", i)})
		if err != nil {
			t.Fatal(err)
		}
		leaving = append(leaving, m)
	}

	const perSide = 14
	var wg sync.WaitGroup
	errs := make(chan error, 2*perSide+len(leaving))
	add := func(c *sdk.Client, email string) {
		defer wg.Done()
		_, err := c.AddMember(ctx, sdk.SystemActor(), sdk.AddMemberRequest{TenantID: tn.ID, Email: email})
		if err != nil && sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
			errs <- fmt.Errorf("add %s: %w", email, err)
		}
	}
	for i := range perSide {
		wg.Add(2)
		go add(clients[i%len(clients)], fmt.Sprintf("a%d@acme.test", i))
		go add(clients[(i+1)%len(clients)], fmt.Sprintf("b%d@acme.test", i))
	}
	for i, m := range leaving {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := clients[i%len(clients)].RemoveMember(ctx, sdk.SystemActor(), tn.ID, m.ID); err != nil {
				errs <- fmt.Errorf("remove %s: %w", m.Email, err)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("writers did not finish")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	got, err := first.Tenant(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	held, err := first.CountMembers(ctx, tn.ID, sdk.ListMembersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if held > seats {
		t.Errorf("%d members hold seats, over the limit of %d", held, seats)
	}
	if got.SeatsUsed != held {
		t.Errorf("seat counter %d, but %d members hold seats", got.SeatsUsed, held)
	}
	if held < seats-len(leaving) {
		// 28 adds compete for the 7 free seats and the 4 the leavers free.
		t.Errorf("only %d seats taken of %d", held, seats)
	}
}
