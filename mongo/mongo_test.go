package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rosterhq/roster/sdk"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newTenant stores a tenant with seats seats and its owner.
func newTenant(t *testing.T, s *testStore, slug string, seats int) (*sdk.Tenant, *sdk.Member) {
	t.Helper()
	roles, _ := sdk.PresetRoles(sdk.PresetStandard)
	tn := &sdk.Tenant{
		ID: sdk.NewID(), Slug: slug, Name: slug, IncludedSeats: seats, SeatsUsed: 1,
		Roles: roles, Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
	}
	owner := newMember(tn.ID, "owner@"+slug+".test")
	owner.Role = "owner"
	tn.OwnerID = owner.ID
	if err := s.CreateTenant(t.Context(), tn, sdk.MemberWrite{Member: owner}); err != nil {
		t.Fatalf("CreateTenant(%s): %v", slug, err)
	}
	return tn, owner
}

// newMember returns a member known by email alone, with the profile and
// keys the SDK gives such a member.
func newMember(tenantID, email string) *sdk.Member {
	return &sdk.Member{
		ID: sdk.NewID(), TenantID: tenantID,
		Profile: sdk.Profile{UserName: email, Emails: []sdk.Email{{Value: email, Type: "work", Primary: true}}},
		Email:   email, EmailKey: sdk.NormalizeEmail(email), UserNameKey: sdk.NormalizeUserName(email),
		Role: "standard", Status: sdk.StatusActive, Version: 1, CreatedAt: epoch, UpdatedAt: epoch,
	}
}

func tenantOf(t *testing.T, s *testStore, id string) *sdk.Tenant {
	t.Helper()
	tn, err := s.GetTenant(t.Context(), id)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	return tn
}

// rawTenant reads the stored tenant document, seatsFree and pendingOwner
// included.
func rawTenant(t *testing.T, s *testStore, id string) tenantDoc {
	t.Helper()
	var d tenantDoc
	if err := s.tenants.FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// holders counts the members of the tenant that hold a seat under its
// settings.
func holders(t *testing.T, s *testStore, tenantID string) int {
	t.Helper()
	tn := tenantOf(t, s, tenantID)
	ms, err := s.ListMembers(t.Context(), tenantID, sdk.MemberQuery{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if tn.Settings.HoldsSeat(m.Status) {
			n++
		}
	}
	return n
}

// checkCounter fails unless the stored seat counter matches the members
// holding seats and seatsFree is limit - used.
func checkCounter(t *testing.T, s *testStore, tenantID string) {
	t.Helper()
	held := holders(t, s, tenantID)
	d := rawTenant(t, s, tenantID)
	tn := d.tenant()
	if d.SeatsUsed != held || d.SeatsFree != tn.SeatLimit()-d.SeatsUsed {
		t.Fatalf("seatsUsed %d seatsFree %d limit %d, members holding seats %d", d.SeatsUsed, d.SeatsFree, tn.SeatLimit(), held)
	}
}

func TestOpenUnreachable(t *testing.T) {
	start := time.Now()
	_, err := Open(t.Context(), "mongodb://127.0.0.1:1/", "x", WithServerSelectionTimeout(300*time.Millisecond))
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error does not name the host: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open took %v to fail", d)
	}
}

func TestOpenOptions(t *testing.T) {
	if _, err := Open(t.Context(), "not a uri", "x"); err == nil {
		t.Fatal("Open accepted a malformed URI")
	}
	if _, err := Open(t.Context(), ferretURI, ""); err == nil {
		t.Fatal("Open accepted an empty database name")
	}
	s := openStore(t)
	if _, err := Open(t.Context(), "", "x", WithClient(s.Client()), WithCommandMonitor((&CommandCounter{}).Monitor())); err == nil {
		t.Fatal("Open accepted WithCommandMonitor with WithClient")
	}
	// Reopening the same database with the caller's client is a no-op on
	// the schema, and Close leaves the client connected.
	s2, err := Open(t.Context(), "", s.Database().Name(), WithClient(s.Client()))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if err := s2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Client().Ping(t.Context(), nil); err != nil {
		t.Fatalf("Close disconnected a borrowed client: %v", err)
	}
	cur, err := s.members.Indexes().List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var idx []bson.M
	if err := cur.All(t.Context(), &idx); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, ix := range idx {
		names[fmt.Sprint(ix["name"])] = true
	}
	for _, want := range []string{idxMemberMail, idxMemberExt, "tenantId_id", "emailKey_tenantId"} {
		if !names[want] {
			t.Errorf("members index %s missing (have %v)", want, names)
		}
	}
	// Every unique index of members starts with tenantId, so that members
	// can be sharded by tenant.
	specs, err := s.members.Indexes().ListSpecifications(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range specs {
		first, _ := sp.KeysDocument.IndexErr(0)
		if sp.Unique != nil && *sp.Unique && first.Key() != "tenantId" {
			t.Errorf("members index %s is unique without tenantId in front", sp.Name)
		}
	}
	if names["globalEmailKey_unique"] {
		t.Error("the obsolete index globalEmailKey_unique exists")
	}
}

// TestDropGlobalEmailIndex opens a database that has the unique index of
// addresses across tenants an earlier version built on members: Open drops
// it, and a second Open finds nothing to drop.
func TestDropGlobalEmailIndex(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	if _, err := s.members.Indexes().CreateOne(ctx, driver.IndexModel{
		Keys:    bson.D{{Key: "globalEmailKey", Value: 1}},
		Options: options.Index().SetName("globalEmailKey_unique").SetUnique(true).SetSparse(true),
	}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s2, err := Open(ctx, "", s.Database().Name(), WithClient(s.Client()))
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		specs, err := s2.members.Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range specs {
			if sp.Name == "globalEmailKey_unique" {
				t.Fatal("Open kept globalEmailKey_unique")
			}
		}
	}
}

func TestErrors(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, owner := newTenant(t, s, "acme", 3)
	a := newMember(tn.ID, "ann@x.test")
	a.ExternalID = "EXT"
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: a, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	dupExt := newMember(tn.ID, "other@x.test")
	dupExt.ExternalID = "EXT"
	upd := owner.Clone()
	upd.ExternalID = "EXT"
	updMail := owner.Clone()
	updMail.EmailKey = "ann@x.test"
	dupUser := newMember(tn.ID, "user@x.test")
	dupUser.UserName, dupUser.UserNameKey = "ANN@x.test", "ann@x.test"
	updUser := owner.Clone()
	updUser.UserNameKey = "ann@x.test"
	sameID := newMember(tn.ID, "z@x.test")
	sameID.ID = a.ID
	slug := tn.Clone()
	slug.ID = sdk.NewID()
	cases := []struct {
		name   string
		err    error
		code   error
		reason sdk.Reason
	}{
		{"create same email", s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "ann@x.test"), Seat: sdk.SeatTake}), sdk.ErrAlreadyExists, sdk.ReasonEmailTaken},
		{"create same external id", s.CreateMember(ctx, sdk.MemberWrite{Member: dupExt, Seat: sdk.SeatTake}), sdk.ErrAlreadyExists, sdk.ReasonExternalIDTaken},
		{"create same id", s.CreateMember(ctx, sdk.MemberWrite{Member: sameID}), sdk.ErrAlreadyExists, ""},
		{"update into external id", s.UpdateMember(ctx, sdk.MemberWrite{Member: upd, ExpectedVersion: 1}), sdk.ErrAlreadyExists, sdk.ReasonExternalIDTaken},
		{"update into email", s.UpdateMember(ctx, sdk.MemberWrite{Member: updMail, ExpectedVersion: 1}), sdk.ErrAlreadyExists, sdk.ReasonEmailTaken},
		{"create same userName", s.CreateMember(ctx, sdk.MemberWrite{Member: dupUser, Seat: sdk.SeatTake}), sdk.ErrAlreadyExists, sdk.ReasonUserNameTaken},
		{"update into userName", s.UpdateMember(ctx, sdk.MemberWrite{Member: updUser, ExpectedVersion: 1}), sdk.ErrAlreadyExists, sdk.ReasonUserNameTaken},
		{"create tenant same slug", s.CreateTenant(ctx, slug, sdk.MemberWrite{Member: newMember(slug.ID, "o@x.test")}), sdk.ErrAlreadyExists, sdk.ReasonSlugTaken},
		{"update stale", s.UpdateMember(ctx, sdk.MemberWrite{Member: a, ExpectedVersion: 7}), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch},
		{"update missing", s.UpdateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "q@x.test"), ExpectedVersion: 1}), sdk.ErrNotFound, ""},
		{"delete stale", s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: a.ID, ExpectedVersion: 7, Seat: sdk.SeatRelease}), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch},
		{"delete missing", s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: "nope", ExpectedVersion: 1, Seat: sdk.SeatRelease}), sdk.ErrNotFound, ""},
		{"create releasing a seat", s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "r@x.test"), Seat: sdk.SeatRelease}), sdk.ErrInvalidArgument, sdk.ReasonInvalid},
		{"delete taking a seat", s.DeleteMember(ctx, sdk.MemberDelete{TenantID: tn.ID, ID: a.ID, ExpectedVersion: 1, Seat: sdk.SeatTake}), sdk.ErrInvalidArgument, sdk.ReasonInvalid},
		{"get by unknown key", second(s.GetMemberBy(ctx, tn.ID, 0, "x")), sdk.ErrInvalidArgument, sdk.ReasonInvalid},
		{"create in missing tenant", s.CreateMember(ctx, sdk.MemberWrite{Member: newMember("nope", "q@x.test")}), sdk.ErrNotFound, ""},
		{"set owner stale", second(s.SetOwner(ctx, tn.ID, "nobody", a.ID, epoch)), sdk.ErrFailedPrecondition, sdk.ReasonVersionMismatch},
		{"remove seats in use", second(s.AdjustExtraSeats(ctx, tn.ID, -1, epoch)), sdk.ErrFailedPrecondition, sdk.ReasonSeatsInUse},
		{"get missing", second(s.GetMember(ctx, tn.ID, "nope")), sdk.ErrNotFound, ""},
		{"get member of other tenant", second(s.GetMember(ctx, "other", a.ID)), sdk.ErrNotFound, ""},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.code) || sdk.ReasonOf(c.err) != c.reason {
			t.Errorf("%s: err = %v (reason %q), want %v (reason %q)", c.name, c.err, sdk.ReasonOf(c.err), c.code, c.reason)
		}
		var se *sdk.Error
		if errors.As(c.err, &se) && !strings.HasPrefix(se.Op, "mongo.") {
			t.Errorf("%s: op %q", c.name, se.Op)
		}
	}
	// The refused creates and updates gave their seats back.
	checkCounter(t, s, tn.ID)
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "b@x.test"), Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, "c@x.test"), Seat: sdk.SeatTake})
	if !errors.Is(err, sdk.ErrResourceExhausted) || sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
		t.Fatalf("create beyond the limit: %v", err)
	}
	err = s.CreateMember(ctx, sdk.MemberWrite{Member: newMember("nope", "c@x.test"), Seat: sdk.SeatTake})
	if !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("create with a seat in a missing tenant: %v", err)
	}

	// Context errors pass through untouched.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.GetMember(cctx, tn.ID, a.ID)
	var se *sdk.Error
	if !errors.Is(err, context.Canceled) || errors.As(err, &se) {
		t.Fatalf("GetMember(cancelled) = %v, want the context error untouched", err)
	}
	err = s.CreateMember(cctx, sdk.MemberWrite{Member: newMember(tn.ID, "d@x.test"), Seat: sdk.SeatTake})
	if !errors.Is(err, context.Canceled) || errors.As(err, &se) {
		t.Fatalf("CreateMember(cancelled) = %v, want the context error untouched", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestExternalIDKeys(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "acme", 100)
	// Members without an external id never collide with each other, nor
	// with an external id that looks like a synthetic key.
	plain := newMember(tn.ID, "p@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: plain, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	for i, ext := range []string{"", "", "\x00" + plain.ID, "\x00\x00" + plain.ID, "x"} {
		m := newMember(tn.ID, fmt.Sprintf("m%d@x.test", i))
		m.ExternalID = ext
		if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
			t.Fatalf("CreateMember(ext %q): %v", ext, err)
		}
		if ext == "" {
			continue
		}
		got, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyExternalID, ext)
		if err != nil || got.ID != m.ID {
			t.Fatalf("GetMemberBy(external id %q) = %v, %v", ext, got, err)
		}
	}
	if _, err := s.GetMemberBy(ctx, tn.ID, sdk.KeyExternalID, plain.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("a member without external id was found by its id: %v", err)
	}
}

// TestSeatRace races many goroutines for the last seats of a tenant while
// others buy and remove extra seats, then checks that exactly the free seats
// were taken and the counter agrees with the members.
func TestSeatRace(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "race", 8)
	const racers = 30
	var wins, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			err := s.CreateMember(ctx, sdk.MemberWrite{Member: newMember(tn.ID, fmt.Sprintf("r%d@x.test", i)), Seat: sdk.SeatTake})
			switch {
			case err == nil:
				wins.Add(1)
			case sdk.ReasonOf(err) == sdk.ReasonSeatLimit:
				refused.Add(1)
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		})
	}
	// Seat purchases and removals interleave with the takes; removals may
	// be refused when the seats are in use, purchases never.
	var bought atomic.Int32
	for range 4 {
		wg.Go(func() {
			if _, err := s.AdjustExtraSeats(ctx, tn.ID, 1, epoch); err != nil {
				t.Errorf("buy: %v", err)
				return
			}
			bought.Add(1)
			if _, err := s.AdjustExtraSeats(ctx, tn.ID, -1, epoch); err == nil {
				bought.Add(-1)
			} else if sdk.ReasonOf(err) != sdk.ReasonSeatsInUse {
				t.Errorf("remove: %v", err)
			}
		})
	}
	wg.Wait()
	got := tenantOf(t, s, tn.ID)
	if int(wins.Load()) != got.SeatLimit()-1 || wins.Load()+refused.Load() != racers {
		t.Fatalf("%d won, %d refused, limit %d (extra %d, bought %d)", wins.Load(), refused.Load(), got.SeatLimit(), got.ExtraSeats, bought.Load())
	}
	if got.SeatsUsed != got.SeatLimit() || got.ExtraSeats != int(bought.Load()) {
		t.Fatalf("used %d limit %d extra %d bought %d", got.SeatsUsed, got.SeatLimit(), got.ExtraSeats, bought.Load())
	}
	checkCounter(t, s, tn.ID)
	// Each successful AdjustExtraSeats bumps the version once; seat takes
	// never do.
	if want := int64(1 + 4 + 4 - bought.Load()); got.Version != want {
		t.Fatalf("version %d, want %d", got.Version, want)
	}
}

// TestVersionRace races conditional updates of one member: exactly one
// update per version wins.
func TestVersionRace(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, _ := newTenant(t, s, "race", 8)
	m := newMember(tn.ID, "m@x.test")
	if err := s.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			c := m.Clone()
			c.Title = fmt.Sprint(i)
			err := s.UpdateMember(ctx, sdk.MemberWrite{Member: c, ExpectedVersion: 1})
			switch {
			case err == nil:
				wins.Add(1)
			case sdk.ReasonOf(err) != sdk.ReasonVersionMismatch:
				t.Errorf("update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d updates of version 1 won, want 1", wins.Load())
	}
	if got, _ := s.GetMember(ctx, tn.ID, m.ID); got.Version != 2 {
		t.Fatalf("version %d, want 2", got.Version)
	}

	// Two accepts of one invitation: one wins.
	inv := &sdk.Invitation{ID: sdk.NewID(), TenantID: tn.ID, MemberID: m.ID, State: sdk.InvitationPending, Version: 1}
	if err := s.CreateInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	wins.Store(0)
	for range 10 {
		wg.Go(func() {
			c := *inv
			c.State = sdk.InvitationAccepted
			err := s.UpdateInvitation(ctx, &c, 1)
			switch {
			case err == nil:
				wins.Add(1)
			case sdk.ReasonOf(err) != sdk.ReasonVersionMismatch:
				t.Errorf("accept: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d accepts of one invitation won, want 1", wins.Load())
	}
}

func TestPagingDeep(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	tn, owner := newTenant(t, s, "acme", 1000)
	want := []string{owner.ID}
	// Written in one batch, for the paging is what is tested: with 250
	// single writes the test took 37 s on FerretDB under -race on a loaded
	// machine, 3 s so.
	var ws []sdk.MemberWrite
	for i := range 250 {
		m := newMember(tn.ID, fmt.Sprintf("u%03d@x.test", i))
		m.Status = []sdk.Status{sdk.StatusActive, sdk.StatusDeactivated}[i%2]
		ws = append(ws, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake})
		want = append(want, m.ID)
	}
	for i, err := range s.CreateMembers(ctx, ws) {
		if err != nil {
			t.Fatalf("CreateMembers[%d]: %v", i, err)
		}
	}
	var got []string
	after := ""
	for {
		page, err := s.ListMembers(ctx, tn.ID, sdk.MemberQuery{After: after, Limit: 40, Filter: sdk.MemberFilter{Status: sdk.StatusDeactivated}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if m.Status != sdk.StatusDeactivated {
				t.Fatalf("filter let through %+v", m)
			}
			got = append(got, m.ID)
		}
		if len(page) < 40 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(got) != 125 {
		t.Fatalf("listed %d deactivated members, want 125", len(got))
	}
	n, err := s.CountMembers(ctx, tn.ID, sdk.MemberFilter{Status: sdk.StatusDeactivated})
	if err != nil || n != 125 {
		t.Fatalf("CountMembers = %d, %v", n, err)
	}
}
