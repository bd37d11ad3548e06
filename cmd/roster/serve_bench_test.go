package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
)

// BenchmarkServeSCIM measures requests per second and the 99th percentile
// latency of three SCIM requests to the handler stack of 'roster serve'
// (NewRouter behind the metrics middleware, the SCIM rate limit off) over
// loopback HTTP with keep-alive, from benchClients concurrent clients, in
// a tenant of 10,000 users, on three stores in the same run:
//
//   - memory: the in-memory store, as serve --memory opens it (the
//     baseline);
//   - sqlite: the SQLite store in a new data directory, as serve --data
//     opens it (reserved with the server lock, then opened);
//   - ferretdb: the mongo store on FerretDB in this process, wrapped with
//     embedded.Serialize (the embedded store before the SQLite store).
//
// The requests: GET /Users?filter=userName eq "…" of a user picked at
// random (the answer must hold exactly that user), POST /Users of a new
// user (201), PATCH /Users/{id} replacing the title of a user picked at
// random (200). The 10,000 users are loaded first through the SDK (a sync,
// which gives each member its email as userName). Run it with a time-based
// -benchtime (FerretDB serves a few requests per second at this size):
//
//	go test ./cmd/roster -run '^$' -bench BenchmarkServeSCIM -benchtime 3s
//
// The bar: sqlite at least half the requests/s of memory on each
// request.
func BenchmarkServeSCIM(b *testing.B) {
	const users = 10_000
	for _, s := range []struct {
		name string
		open func(b *testing.B) sdk.Store
	}{
		{"memory", func(b *testing.B) sdk.Store { return openServeStore(b, storeChoice{kind: storeMemory}) }},
		{"sqlite", func(b *testing.B) sdk.Store {
			return openServeStore(b, storeChoice{kind: storeEmbedded, dir: b.TempDir()})
		}},
		{"ferretdb", openFerretStore},
	} {
		b.Run(s.name, func(b *testing.B) {
			srv := newSCIMBenchServer(b, s.open(b), users)
			var seq atomic.Int64
			pick := func() int { return int(seq.Add(1)*7919) % users }
			b.Run("get-by-filter", func(b *testing.B) {
				srv.load(b, func() (*http.Request, int, []byte) {
					i := pick()
					f := url.QueryEscape(fmt.Sprintf(`userName eq "%s"`, benchUserName(i)))
					return srv.request("GET", "/Users?filter="+f, ""), 200, []byte(`"id":"` + srv.ids[i] + `"`)
				})
			})
			b.Run("post", func(b *testing.B) {
				srv.load(b, func() (*http.Request, int, []byte) {
					n := seq.Add(1)
					body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new%d@bench.test","name":{"givenName":"New","familyName":"User"},"emails":[{"value":"new%d@bench.test","type":"work","primary":true}],"active":true}`, n, n)
					return srv.request("POST", "/Users", body), 201, nil
				})
			})
			b.Run("patch", func(b *testing.B) {
				srv.load(b, func() (*http.Request, int, []byte) {
					i := pick()
					body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Title %d"}]}`, seq.Add(1))
					return srv.request("PATCH", "/Users/"+srv.ids[i], body), 200, nil
				})
			})
		})
	}
}

// benchClients is the number of concurrent clients of BenchmarkServeSCIM
// (ROSTER_BENCH_WORKERS, default 4, as in the scim package's benchmark).
var benchClients = func() int {
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 4
}()

var quietLog = slog.New(slog.DiscardHandler)

// openServeStore opens the chosen store as serve does: reserved (for a data
// directory: created and locked) and then opened.
func openServeStore(b *testing.B, c storeChoice) sdk.Store {
	ctx := context.Background()
	res, err := reserveStore(ctx, c, openServe, quietLog)
	if err != nil {
		b.Fatal(err)
	}
	st, err := res.open(ctx)
	if err != nil {
		_ = res.release()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := st.Close(context.Background()); err != nil {
			b.Error(err)
		}
	})
	return st.store
}

// openFerretStore starts FerretDB in a temporary directory and opens the
// mongo store on it, wrapped with embedded.Serialize (FerretDB v1 needs it).
func openFerretStore(b *testing.B) sdk.Store {
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Config{Dir: b.TempDir(), Logger: quietLog})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	st, err := mongo.Open(ctx, srv.URI(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close(context.Background()) })
	return embedded.Serialize(st, nil)
}

// scimBenchServer is the handler stack of 'roster serve' on one store,
// listening on loopback, with a tenant "bench" of seeded users.
type scimBenchServer struct {
	base   string // the tenant's SCIM base URL
	token  string
	client *http.Client
	ids    []string // member ids of the seeded users, by number
}

func benchUserName(i int) string { return fmt.Sprintf("user%05d@bench.test", i) }

// newSCIMBenchServer seeds users users into a new tenant of st through the
// SDK, creates a SCIM token, and serves NewRouter over st on a loopback
// port until the benchmark ends.
func newSCIMBenchServer(b *testing.B, st sdk.Store, users int) *scimBenchServer {
	ctx := context.Background()
	client := sdk.New(st, sdk.WithLogger(quietLog))
	t, _, err := client.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "bench", OwnerEmail: "owner@bench.test", IncludedSeats: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]sdk.SyncRecord, users)
	for i := range recs {
		recs[i] = sdk.SyncRecord{Email: benchUserName(i), Profile: sdk.Profile{GivenName: "User", FamilyName: strconv.Itoa(i)}}
	}
	rep, err := client.Sync(ctx, sdk.SyncActor("seed"), t.ID, recs, sdk.SyncOptions{})
	if err != nil || len(rep.Created) != users {
		b.Fatalf("seeding %d users: %v (%d created, failures %v)", users, err, len(rep.Created), rep.Failed)
	}
	s := &scimBenchServer{ids: make([]string, users)}
	for _, c := range rep.Created {
		i, err := strconv.Atoi(c.Email[len("user") : len("user")+5])
		if err != nil || c.Email != benchUserName(i) {
			b.Fatalf("seeded %q: not a seeded address", c.Email)
		}
		s.ids[i] = c.MemberID
	}
	if s.token, _, err = client.CreateToken(ctx, sdk.SystemActor(), t.ID, "bench"); err != nil {
		b.Fatal(err)
	}

	limits := &serveLimits{maxBodyBytes: scim.DefaultMaxBodyBytes, tokenCacheTTL: scim.DefaultAuthCacheTTL} // no rate limit
	m := newMetrics()
	var ready atomic.Bool
	ready.Store(true)
	srv := &http.Server{
		Handler:           m.instrument(NewRouter(client, m, &ready, quietLog, limits.scimOptions()...), quietLog),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(quietLog.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	b.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			b.Error(err)
		}
	})
	s.base = "http://" + ln.Addr().String() + "/scim/v2/bench"
	tr := &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients}
	b.Cleanup(tr.CloseIdleConnections)
	s.client = &http.Client{Transport: tr}
	return s
}

// request is an authenticated SCIM request to path under the tenant's
// base URL, with body when it is not empty.
func (s *scimBenchServer) request(method, path, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	return req
}

// load sends b.N requests made by next from benchClients goroutines, each
// on its keep-alive connection, and reports req/s and the 99th percentile
// latency. next returns the request, the status it must get and, when not
// nil, a string its body must contain; the benchmark fails on any other
// answer.
func (s *scimBenchServer) load(b *testing.B, next func() (*http.Request, int, []byte)) {
	lat := make([][]time.Duration, benchClients)
	var sent atomic.Int64
	var failed atomic.Pointer[string]
	fail := func(msg string) { failed.CompareAndSwap(nil, &msg) }
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range benchClients {
		wg.Go(func() {
			var body bytes.Buffer
			for sent.Add(1) <= int64(b.N) && failed.Load() == nil {
				req, status, want := next()
				t0 := time.Now()
				res, err := s.client.Do(req)
				if err != nil {
					fail(err.Error())
					return
				}
				body.Reset()
				_, err = body.ReadFrom(res.Body)
				res.Body.Close()
				lat[w] = append(lat[w], time.Since(t0))
				switch {
				case err != nil:
					fail(err.Error())
				case res.StatusCode != status:
					fail(fmt.Sprintf("%s %s: status %d, want %d: %s", req.Method, req.URL, res.StatusCode, status, body.Bytes()))
				case want != nil && !bytes.Contains(body.Bytes(), want):
					fail(fmt.Sprintf("%s %s: the answer lacks %s: %s", req.Method, req.URL, want, body.Bytes()))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f != nil {
		b.Fatal(*f)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[min(len(all)-1, len(all)*99/100)].Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op") // the rate is req/s: ns/op of requests in parallel misleads
}
