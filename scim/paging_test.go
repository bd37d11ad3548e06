package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// countingStore counts the store calls a SCIM list page makes: the lists,
// the counts and the membership reads.
type countingStore struct {
	*memstore.Store
	listMembers, countMembers, memberGroups, listGroups, countGroups atomic.Int64
}

func (s *countingStore) ListMembers(ctx context.Context, tenantID string, q sdk.MemberQuery) ([]*sdk.Member, error) {
	s.listMembers.Add(1)
	return s.Store.ListMembers(ctx, tenantID, q)
}

func (s *countingStore) CountMembers(ctx context.Context, tenantID string, f sdk.MemberFilter) (int, error) {
	s.countMembers.Add(1)
	return s.Store.CountMembers(ctx, tenantID, f)
}

func (s *countingStore) ListMemberGroups(ctx context.Context, tenantID string, memberIDs []string) ([]sdk.GroupEdge, error) {
	s.memberGroups.Add(1)
	return s.Store.ListMemberGroups(ctx, tenantID, memberIDs)
}

func (s *countingStore) ListGroups(ctx context.Context, tenantID string, q sdk.GroupQuery) ([]*sdk.Group, error) {
	s.listGroups.Add(1)
	return s.Store.ListGroups(ctx, tenantID, q)
}

func (s *countingStore) CountGroups(ctx context.Context, tenantID string, where *sdk.Cond) (int, error) {
	s.countGroups.Add(1)
	return s.Store.CountGroups(ctx, tenantID, where)
}

// calls returns the calls counted since the last call of calls, and
// resets them.
func (s *countingStore) calls() (members, groups int64) {
	members = s.listMembers.Swap(0) + s.countMembers.Swap(0) + s.memberGroups.Swap(0)
	groups = s.listGroups.Swap(0) + s.countGroups.Swap(0)
	return members, groups
}

// twoServers is a tenant of n members (the owner included) and 30 groups
// on one counting store, served by two Handlers on one client: two servers
// behind a load balancer.
type twoServers struct {
	t       *testing.T
	store   *countingStore
	servers [2]*scim.Handler
	token   string
	ids     map[string]bool // every member id
	groups  []string        // group ids
}

func newTwoServers(t *testing.T, n int) *twoServers {
	t.Helper()
	ctx := t.Context()
	ts := &twoServers{t: t, store: &countingStore{Store: memstore.New()}, ids: map[string]bool{}}
	c := sdk.New(ts.store, sdk.WithPasswordParams(64, 1, 1))
	tn, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "owner@acme.test", IncludedSeats: n})
	if err != nil {
		t.Fatal(err)
	}
	ts.ids[owner.ID] = true
	// Straight into the store: the test is about reading them.
	for i := 1; i < n; i++ {
		email := fmt.Sprintf("u%05d@acme.test", i)
		m := &sdk.Member{ID: sdk.NewID(), TenantID: tn.ID, Role: "standard", Status: sdk.StatusActive, Version: 1,
			CreatedAt: owner.CreatedAt, UpdatedAt: owner.CreatedAt}
		m.UserName, m.Emails = email, []sdk.Email{{Value: email, Type: "work", Primary: true}}
		m.Email, m.EmailKey, m.UserNameKey = email, sdk.NormalizeEmail(email), sdk.NormalizeUserName(email)
		if err := ts.store.CreateMember(ctx, sdk.MemberWrite{Member: m, Seat: sdk.SeatTake}); err != nil {
			t.Fatal(err)
		}
		ts.ids[m.ID] = true
	}
	for i := range 30 {
		g, err := c.CreateGroup(ctx, sdk.SystemActor(), sdk.CreateGroupRequest{TenantID: tn.ID, DisplayName: fmt.Sprintf("g%02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ts.groups = append(ts.groups, g.ID)
	}
	if ts.token, _, err = c.CreateToken(ctx, sdk.SystemActor(), tn.ID, "walk"); err != nil {
		t.Fatal(err)
	}
	for i := range ts.servers {
		ts.servers[i] = scim.NewHandler(c, scim.WithRateLimit(0, 0), scim.WithBaseURL("https://roster.test"))
	}
	// A first request warms what a server caches that is not paging
	// (the token check, the tenant): the counts below are the pages'.
	for i := range ts.servers {
		ts.do(i, "GET", "/Users?count=0", "")
	}
	ts.store.calls()
	return ts
}

// listBody is the part of a ListResponse the tests read.
type listBody struct {
	TotalResults int `json:"totalResults"`
	StartIndex   int `json:"startIndex"`
	ItemsPerPage int `json:"itemsPerPage"`
	Resources    []struct {
		ID     string           `json:"id"`
		Groups []map[string]any `json:"groups"`
	} `json:"Resources"`
}

// do sends a request to server i and decodes its ListResponse.
func (ts *twoServers) do(i int, method, path, body string) listBody {
	ts.t.Helper()
	req := httptest.NewRequest(method, "https://roster.test/scim/v2/acme"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ts.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	w := httptest.NewRecorder()
	ts.servers[i].ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		ts.t.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	var lb listBody
	if err := json.Unmarshal(w.Body.Bytes(), &lb); err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	if lb.Resources == nil || lb.ItemsPerPage != len(lb.Resources) {
		ts.t.Fatalf("%s %s: Resources %v, itemsPerPage %d", method, path, lb.Resources, lb.ItemsPerPage)
	}
	return lb
}

// TestPagingAcrossServers walks the 20,000 users of a tenant in pages of
// 100 as Okta does, alternating between two Handlers the way a round-robin
// load balancer deals out the pages: every user comes exactly once, and
// every page costs at most 2 store calls wherever it is, whichever server
// served the page before.
func TestPagingAcrossServers(t *testing.T) {
	const users, count = 20_000, 100
	ts := newTwoServers(t, users)
	seen := map[string]int{}
	for i, start := 0, 1; ; i, start = i+1, start+count {
		lb := ts.do(i%2, "GET", fmt.Sprintf("/Users?startIndex=%d&count=%d&excludedAttributes=groups", start, count), "")
		if lb.TotalResults != users || lb.StartIndex != start {
			t.Fatalf("page at %d: totalResults %d, startIndex %d", start, lb.TotalResults, lb.StartIndex)
		}
		if m, _ := ts.store.calls(); m > 2 {
			t.Fatalf("page at %d on server %d: %d store calls, want at most 2", start, i%2, m)
		}
		for _, r := range lb.Resources {
			seen[r.ID]++
		}
		if len(lb.Resources) < count {
			break
		}
	}
	if len(seen) != users {
		t.Errorf("the walk returned %d users, want %d", len(seen), users)
	}
	for id, n := range seen {
		if n != 1 || !ts.ids[id] {
			t.Errorf("user %s came %d times (a member: %v)", id, n, ts.ids[id])
		}
	}
	// Groups page the same way.
	var groups []string
	for i, start := 0, 1; start <= len(ts.groups); i, start = i+1, start+7 {
		lb := ts.do(i%2, "GET", fmt.Sprintf("/Groups?startIndex=%d&count=7&excludedAttributes=members", start), "")
		if _, g := ts.store.calls(); g > 2 || lb.TotalResults != len(ts.groups) {
			t.Fatalf("groups page at %d: %d store calls, totalResults %d", start, g, lb.TotalResults)
		}
		for _, r := range lb.Resources {
			groups = append(groups, r.ID)
		}
	}
	if strings.Join(groups, ",") != strings.Join(ts.groups, ",") {
		t.Errorf("the groups walk returned %v, want %v", groups, ts.groups)
	}
}

// TestPagingCost pins the store calls of a page at the start, middle and
// end of a 20,000-member tenant, by GET and by POST .search, on either
// server: 2 (one list, one count), 3 when the members' groups are
// returned, 1 for count=0; and a page past the end is empty with the
// exact total.
func TestPagingCost(t *testing.T) {
	const users = 20_000
	ts := newTwoServers(t, users)
	for _, start := range []int{1, 10_000, 19_900} {
		for i := range ts.servers {
			cases := []struct {
				name, method, path, body string
				want                     int64
			}{
				{"GET excludedAttributes=groups", "GET", fmt.Sprintf("/Users?startIndex=%d&count=100&excludedAttributes=groups", start), "", 2},
				{"POST .search excludedAttributes=groups", "POST", "/Users/.search",
					fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"startIndex":%d,"count":100,"excludedAttributes":["groups"]}`, start), 2},
				{"GET with groups", "GET", fmt.Sprintf("/Users?startIndex=%d&count=100", start), "", 3},
				{"GET count=0", "GET", fmt.Sprintf("/Users?startIndex=%d&count=0", start), "", 1},
			}
			for _, c := range cases {
				lb := ts.do(i, c.method, c.path, c.body)
				m, _ := ts.store.calls()
				wantItems := 100
				if c.want == 1 {
					wantItems = 0
				}
				if m != c.want || lb.TotalResults != users || len(lb.Resources) != wantItems {
					t.Errorf("%s at %d on server %d: %d store calls (want %d), totalResults %d, %d resources",
						c.name, start, i, m, c.want, lb.TotalResults, len(lb.Resources))
				}
			}
		}
	}
	for _, path := range []string{"/Users?startIndex=20001&count=100", "/Users?startIndex=1000000&count=10&excludedAttributes=groups"} {
		lb := ts.do(1, "GET", path, "")
		m, _ := ts.store.calls()
		if len(lb.Resources) != 0 || lb.TotalResults != users || m > 2 {
			t.Errorf("%s: %d resources, totalResults %d, %d store calls", path, len(lb.Resources), lb.TotalResults, m)
		}
	}
	lb := ts.do(0, "GET", "/Users?startIndex=20000&count=100&excludedAttributes=groups", "")
	if len(lb.Resources) != 1 || lb.TotalResults != users {
		t.Errorf("the last position: %d resources, totalResults %d", len(lb.Resources), lb.TotalResults)
	}
	lb = ts.do(1, "GET", "/Groups?startIndex=31&count=10", "")
	if _, g := ts.store.calls(); len(lb.Resources) != 0 || lb.TotalResults != len(ts.groups) || g > 2 {
		t.Errorf("groups past the end: %d resources, totalResults %d, %d store calls", len(lb.Resources), lb.TotalResults, g)
	}
}
