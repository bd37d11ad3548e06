package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	elim "github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// BenchmarkSCIM measures requests per second and the 99th percentile
// latency of three SCIM requests on loopback HTTP, for three servers in the
// same run:
//
//   - nethttp: a bare net/http handler that decodes the body and answers
//     JSON from a map (the floor of any Go HTTP JSON endpoint);
//   - elimity: a bare elimity-com/scim server whose in-memory handler
//     answers "userName eq" from a map index (elimity's ceiling, not a
//     linear scan);
//   - roster: this package's Handler on the in-memory store, with
//     authentication, policy, audit and everything else the SDK does.
//
// Run it (with BenchmarkSCIMInProcess below) with
//
//	go test ./scim -run '^$' -bench . -benchtime 2000x -count 3
//
// The bar: roster's req/s for POST, PATCH and GET-by-filter at
// least elimity's in the same run.
//
// Each sub-benchmark sends b.N requests from benchWorkers goroutines over
// keep-alive connections and reports req/s and p99-µs.
func BenchmarkSCIM(b *testing.B) {
	const users = 1000
	servers := []struct {
		name string
		new  func(b *testing.B) *benchServer
	}{
		{"nethttp", newNetHTTPServer},
		{"elimity", newElimityServer},
		{"roster", newRosterServer},
	}
	for _, sc := range []string{"get-by-filter", "post", "patch"} {
		for _, s := range servers {
			b.Run(sc+"/"+s.name, func(b *testing.B) {
				srv := s.new(b)
				defer srv.close()
				ids := srv.seed(b, users)
				var seq atomic.Int64
				req := func(i int) (*http.Request, int) {
					n := seq.Add(1)
					switch sc {
					case "get-by-filter":
						f := url.QueryEscape(fmt.Sprintf(`userName eq "user%04d@bench.test"`, int(n)%users))
						r, _ := http.NewRequest("GET", srv.base+"/Users?filter="+f, nil)
						return srv.auth(r), 200
					case "post":
						body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new%d-%d@bench.test","name":{"givenName":"New","familyName":"User"},"emails":[{"value":"new%d-%d@bench.test","type":"work","primary":true}],"active":true}`, i, n, i, n)
						r, _ := http.NewRequest("POST", srv.base+"/Users", bytes.NewReader([]byte(body)))
						r.Header.Set("Content-Type", "application/scim+json")
						return srv.auth(r), 201
					default:
						body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Title %d"}]}`, n)
						r, _ := http.NewRequest("PATCH", srv.base+"/Users/"+ids[int(n)%len(ids)], bytes.NewReader([]byte(body)))
						r.Header.Set("Content-Type", "application/scim+json")
						return srv.auth(r), 200
					}
				}
				load(b, srv.client, req)
			})
		}
	}
}

// BenchmarkSCIMInProcess runs the same requests through each server's
// handler directly (httptest.ResponseRecorder, no network, one goroutine):
// the server's own CPU time per request, which the loopback figures above
// dilute with the HTTP stack and the client sharing the machine.
//
//	go test ./scim -run '^$' -bench BenchmarkSCIMInProcess -benchmem
func BenchmarkSCIMInProcess(b *testing.B) {
	const users = 1000
	for _, sc := range []string{"get-by-filter", "post", "patch"} {
		for _, name := range []string{"nethttp", "elimity", "roster"} {
			b.Run(sc+"/"+name, func(b *testing.B) {
				var srv *benchServer
				switch name {
				case "nethttp":
					srv = newNetHTTPServer(b)
				case "elimity":
					srv = newElimityServer(b)
				default:
					srv = newRosterServer(b)
				}
				defer srv.close()
				ids := srv.seed(b, users)
				h := srv.srv.Config.Handler
				path := strings.TrimPrefix(srv.base, srv.srv.URL)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					var req *http.Request
					want := 200
					switch sc {
					case "get-by-filter":
						f := url.QueryEscape(fmt.Sprintf(`userName eq "user%04d@bench.test"`, i%users))
						req = httptest.NewRequest("GET", path+"/Users?filter="+f, nil)
					case "post":
						body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new%d@bench.test","name":{"givenName":"New","familyName":"User"},"emails":[{"value":"new%d@bench.test","type":"work","primary":true}],"active":true}`, i, i)
						req, want = httptest.NewRequest("POST", path+"/Users", strings.NewReader(body)), 201
					default:
						body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"Title %d"}]}`, i)
						req = httptest.NewRequest("PATCH", path+"/Users/"+ids[i%len(ids)], strings.NewReader(body))
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, srv.auth(req))
					if rec.Code != want {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}

// benchWorkers is the number of concurrent clients (ROSTER_BENCH_WORKERS,
// default 4).
var benchWorkers = func() int {
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 4
}()

// load sends b.N requests from benchWorkers goroutines and reports req/s
// and the 99th percentile latency.
func load(b *testing.B, client *http.Client, next func(worker int) (*http.Request, int)) {
	lat := make([][]time.Duration, benchWorkers)
	var done atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range benchWorkers {
		wg.Go(func() {
			for done.Add(1) <= int64(b.N) {
				req, want := next(w)
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat[w] = append(lat[w], time.Since(t0))
				if res.StatusCode != want {
					failed.Store(fmt.Sprintf("status %d, want %d", res.StatusCode, want))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	p99 := all[min(len(all)-1, len(all)*99/100)]
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op") // per-request time is req/s; ns/op of a parallel loop misleads
}

type benchServer struct {
	srv    *httptest.Server
	base   string
	client *http.Client
	token  string
	seed   func(b *testing.B, n int) []string
}

func (s *benchServer) auth(r *http.Request) *http.Request {
	if s.token != "" {
		r.Header.Set("Authorization", "Bearer "+s.token)
	}
	return r
}

func (s *benchServer) close() { s.srv.Close() }

func newBenchServer(h http.Handler, path string) *benchServer {
	srv := httptest.NewServer(h)
	tr := &http.Transport{MaxIdleConns: benchWorkers * 2, MaxIdleConnsPerHost: benchWorkers * 2}
	return &benchServer{srv: srv, base: srv.URL + path, client: &http.Client{Transport: tr}}
}

// seedOver creates n users through the server's own POST, so that every
// server starts from the same data.
func seedOver(s *benchServer) func(b *testing.B, n int) []string {
	return func(b *testing.B, n int) []string {
		ids := make([]string, n)
		for i := range n {
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user%04d@bench.test","active":true}`, i)
			req, _ := http.NewRequest("POST", s.base+"/Users", bytes.NewReader([]byte(body)))
			res, err := s.client.Do(s.auth(req))
			if err != nil {
				b.Fatal(err)
			}
			var v struct{ ID string }
			_ = json.NewDecoder(res.Body).Decode(&v)
			res.Body.Close()
			if res.StatusCode != 201 || v.ID == "" {
				b.Fatalf("seeding: status %d", res.StatusCode)
			}
			ids[i] = v.ID
		}
		return ids
	}
}

func newRosterServer(b *testing.B) *benchServer {
	ctx := context.Background()
	c := sdk.New(memstore.New())
	t, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "bench", OwnerEmail: "owner@bench.test", IncludedSeats: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := c.CreateToken(ctx, sdk.SystemActor(), t.ID, "bench")
	if err != nil {
		b.Fatal(err)
	}
	s := newBenchServer(scim.NewHandler(c, scim.WithRateLimit(0, 0), scim.WithLogger(quietLogger())), "/scim/v2/bench")
	s.token = token
	s.seed = seedOver(s)
	return s
}

// newNetHTTPServer is the floor: decode, one map operation, encode.
func newNetHTTPServer(b *testing.B) *benchServer {
	var mu sync.RWMutex
	byID := map[string]map[string]any{}
	byName := map[string]string{}
	var next atomic.Int64
	write := func(w http.ResponseWriter, status int, v any) {
		body, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /Users", func(w http.ResponseWriter, r *http.Request) {
		var u map[string]any
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil {
			w.WriteHeader(400)
			return
		}
		id := strconv.FormatInt(next.Add(1), 10)
		u["id"] = id
		mu.Lock()
		byID[id] = u
		byName[fmt.Sprint(u["userName"])] = id
		mu.Unlock()
		write(w, 201, u)
	})
	mux.HandleFunc("GET /Users", func(w http.ResponseWriter, r *http.Request) {
		// The floor parses nothing: the lookup key is cut out of the filter.
		f := r.URL.Query().Get("filter")
		name := f[len(`userName eq "`) : len(f)-1]
		mu.RLock()
		u := byID[byName[name]]
		mu.RUnlock()
		write(w, 200, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "totalResults": 1, "Resources": []any{u}})
	})
	mux.HandleFunc("PATCH /Users/{id}", func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		u := maps.Clone(byID[r.PathValue("id")])
		u["title"] = p
		byID[r.PathValue("id")] = u
		mu.Unlock()
		write(w, 200, u)
	})
	s := newBenchServer(mux, "")
	s.seed = seedOver(s)
	return s
}

// newElimityServer is a bare elimity server with a map-indexed handler.
func newElimityServer(b *testing.B) *benchServer {
	h := &mapHandler{byID: map[string]elim.ResourceAttributes{}, byName: map[string]string{}}
	srv, err := elim.NewServer(&elim.ServerArgs{
		ServiceProviderConfig: &elim.ServiceProviderConfig{SupportFiltering: true, SupportPatch: true},
		ResourceTypes: []elim.ResourceType{{
			ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Description: optional.NewString("User Account"),
			Schema: schema.CoreUserSchema(), SchemaExtensions: []elim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
			Handler: h,
		}},
	})
	if err != nil {
		b.Fatal(err)
	}
	s := newBenchServer(srv, "")
	s.seed = seedOver(s)
	return s
}

type mapHandler struct {
	mu     sync.RWMutex
	next   int64
	byID   map[string]elim.ResourceAttributes
	byName map[string]string
}

func (m *mapHandler) res(id string, a elim.ResourceAttributes) elim.Resource {
	now := time.Now()
	return elim.Resource{ID: id, Attributes: a, Meta: elim.Meta{Created: &now, LastModified: &now, Version: "1"}}
}

func (m *mapHandler) Create(r *http.Request, a elim.ResourceAttributes) (elim.Resource, error) {
	m.mu.Lock()
	m.next++
	id := strconv.FormatInt(m.next, 10)
	m.byID[id] = a
	m.byName[fmt.Sprint(a["userName"])] = id
	m.mu.Unlock()
	return m.res(id, a), nil
}

func (m *mapHandler) Get(r *http.Request, id string) (elim.Resource, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.res(id, m.byID[id]), nil
}

// GetAll answers "userName eq" from the index.
func (m *mapHandler) GetAll(r *http.Request, p elim.ListRequestParams) (elim.Page, error) {
	page := elim.Page{Resources: []elim.Resource{}}
	if p.FilterValidator != nil {
		if e, ok := p.FilterValidator.GetFilter().(*filter.AttributeExpression); ok {
			m.mu.RLock()
			id, found := m.byName[fmt.Sprint(e.CompareValue)]
			a := m.byID[id]
			m.mu.RUnlock()
			if found {
				page.Resources = append(page.Resources, m.res(id, a))
				page.TotalResults = 1
			}
		}
	}
	return page, nil
}

func (m *mapHandler) Replace(r *http.Request, id string, a elim.ResourceAttributes) (elim.Resource, error) {
	return m.res(id, a), nil
}

func (m *mapHandler) Delete(r *http.Request, id string) error { return nil }

func (m *mapHandler) Patch(r *http.Request, id string, ops []elim.PatchOperation) (elim.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := maps.Clone(m.byID[id])
	for _, op := range ops {
		if op.Path != nil {
			a[op.Path.AttributePath.AttributeName] = op.Value
		}
	}
	m.byID[id] = a
	return m.res(id, a), nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
