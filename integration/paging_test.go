package integration

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// TestPagingAcrossServers walks the 20,000 users of a tenant in pages of
// 100 as Okta does (GET /Users?startIndex=…&count=100), alternating
// between two 'roster serve' processes on one database, the way a
// round-robin load balancer deals the pages out. Every user must come
// exactly once, and each page must cost its server at most 2 database
// commands (the count and the page, whose member documents carry their
// groups), whatever its position and whichever server served the page
// before: the servers keep no paging state.
// Commands are read from each server's roster_mongo_commands_total
// metric, which counts every command its driver sends.
func TestPagingAcrossServers(t *testing.T) {
	const (
		slug  = "walk"
		users = 20000 // the owner and 19,999 imported members
		page  = 100
	)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Minute)
	defer cancel()
	d := newDatabase(t)
	d.createTenant(t, slug, "owner@walk.test", users)
	tok := d.createToken(t, slug)
	client, store := d.open(t)
	tn, err := client.TenantBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	// The members are imported in bulk (as 'roster migrate' does): the
	// test is about reading them.
	now := time.Now().UTC().Truncate(time.Millisecond)
	batch := make([]*sdk.Member, 0, 1000)
	for i := 1; i < users; i++ {
		email := fmt.Sprintf("user%05d@walk.test", i)
		batch = append(batch, &sdk.Member{
			ID: sdk.NewID(), TenantID: tn.ID,
			Profile: sdk.Profile{UserName: email, Emails: []sdk.Email{{Value: email, Type: "work", Primary: true}}},
			Email:   email, EmailKey: sdk.NormalizeEmail(email), UserNameKey: sdk.NormalizeUserName(email),
			Role: "standard", Status: sdk.StatusActive, Version: 1, CreatedAt: now, UpdatedAt: now,
		})
		if len(batch) == cap(batch) || i == users-1 {
			if err := store.ImportMembers(ctx, batch, false); err != nil {
				t.Fatalf("importing members: %v", err)
			}
			batch = batch[:0]
		}
	}
	want := map[string]bool{}
	for opts := (sdk.ListOptions{PageSize: sdk.MaxPageSize}); ; {
		p, err := client.ListMembers(ctx, tn.ID, sdk.ListMembersOptions{ListOptions: opts})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Items {
			want[m.ID] = true
		}
		if p.NextCursor == "" {
			break
		}
		opts.Cursor = p.NextCursor
	}
	if len(want) != users {
		t.Fatalf("the tenant holds %d members, want %d", len(want), users)
	}

	// A token check is remembered for an hour, the rate limit is off and
	// the start-up reconcile is skipped, so that a page's commands are the
	// paging's alone (and the test database, FerretDB behind a proxy that
	// serves one command at a time, each a scan of the 20,000 members,
	// serves the walk alone).
	servers := make([]*server, 2)
	clients := make([]*scimClient, len(servers))
	for i := range servers {
		s := d.startServer(t, "--token-cache-ttl", "1h", "--scim-rate", "0", "--reconcile-concurrency", "0")
		servers[i] = s
		clients[i] = newSCIMClient(s, slug, tok)
		// The first request of a server resolves the slug and checks the
		// token: commands a walk pays once per server, not per page.
		clients[i].must(t, http.StatusOK, http.MethodGet, "/Users?count=0", "")
	}

	seen := map[string]int{}
	perPage := map[int]int64{} // startIndex → commands, at the positions reported
	report := map[int]bool{1: true, 10001: true, 19901: true}
	var maxCommands int64
	pages := 0
	for start := 1; start <= users; start += page {
		i := pages % len(servers)
		pages++
		before := commandCount(ctx, t, servers[i])
		t0 := time.Now()
		r := clients[i].must(t, http.StatusOK, http.MethodGet,
			fmt.Sprintf("/Users?startIndex=%d&count=%d", start, page), "")
		took := time.Since(t0)
		n := commandCount(ctx, t, servers[i]) - before
		maxCommands = max(maxCommands, n)
		if n > 2 {
			t.Errorf("page at startIndex %d (server %d): %d database commands, want at most 2", start, i+1, n)
		}
		if report[start] {
			perPage[start] = n
			t.Logf("startIndex %5d on server %d: %d database commands, %s", start, i+1, n, took.Round(time.Millisecond))
		}
		if got := r.num("totalResults"); got != users {
			t.Fatalf("page at startIndex %d: totalResults %d, want %d", start, got, users)
		}
		if got := r.num("startIndex"); got != start {
			t.Errorf("page at startIndex %d: startIndex %d in the response", start, got)
		}
		res, _ := r.Body["Resources"].([]any)
		if len(res) != page || r.num("itemsPerPage") != page {
			t.Fatalf("page at startIndex %d: %d resources, itemsPerPage %d, want %d", start, len(res), r.num("itemsPerPage"), page)
		}
		for _, v := range res {
			u, _ := v.(map[string]any)
			id, _ := u["id"].(string)
			seen[id]++
		}
		if ctx.Err() != nil {
			t.Fatalf("the walk ran out of time at startIndex %d", start)
		}
	}
	for id, n := range seen {
		if !want[id] {
			t.Errorf("the walk returned %s, which is not a member of the tenant", id)
		}
		if n != 1 {
			t.Errorf("the walk returned %s %d times", id, n)
		}
	}
	if len(seen) != users {
		t.Errorf("the walk returned %d distinct users, want %d", len(seen), users)
	}
	// Past the end: no resources, the exact total, still two commands at
	// most.
	before := commandCount(ctx, t, servers[0])
	r := clients[0].must(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/Users?startIndex=%d&count=%d", users+1, page), "")
	if n := commandCount(ctx, t, servers[0]) - before; n > 2 {
		t.Errorf("page past the end: %d database commands, want at most 2", n)
	}
	if res, _ := r.Body["Resources"].([]any); len(res) != 0 || r.num("totalResults") != users {
		t.Errorf("page past the end: %d resources, totalResults %d; want none of %d", len(res), r.num("totalResults"), users)
	}
	t.Logf("%d pages over 2 servers; at most %d database commands a page; at startIndex 1, 10001, 19901: %d, %d, %d",
		pages, maxCommands, perPage[1], perPage[10001], perPage[19901])
}

// commandCount scrapes a server's /metrics and returns the sum of
// roster_mongo_commands_total over its labels.
func commandCount(ctx context.Context, t testing.TB, s *server) int64 {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var total float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "roster_mongo_commands_total{") && !strings.HasPrefix(line, "roster_mongo_commands_total ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("/metrics: %q: %v", line, err)
		}
		total += v
		found = true
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading /metrics: %v", err)
	}
	if !found {
		t.Fatalf("/metrics of %s has no roster_mongo_commands_total", s.URL)
	}
	return int64(total)
}
