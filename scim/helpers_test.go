package scim_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a tenant "acme" on a memstore, its owner, a SCIM token and the
// endpoint on an httptest server.
type env struct {
	t      *testing.T
	client *sdk.Client
	store  *memstore.Store
	clock  *clock
	tenant *sdk.Tenant
	owner  *sdk.Member
	token  string
	srv    *httptest.Server
	base   string // the tenant's SCIM base URL
	logs   *bytes.Buffer
	ids    int
}

type envOpt struct {
	seats   int
	handler []scim.Option
	custom  []sdk.CustomAttribute // the tenant's custom attributes
}

// withCustom declares custom attributes of every type.
func withCustom(o *envOpt) {
	o.custom = []sdk.CustomAttribute{
		{Name: "badge", Type: sdk.CustomString, Description: "Badge number"},
		{Name: "level", Type: sdk.CustomInteger},
		{Name: "remote", Type: sdk.CustomBoolean},
		{Name: "score", Type: sdk.CustomDecimal},
		{Name: "startDate", Type: sdk.CustomDateTime},
	}
}

// customURN is the schema of the test tenant's custom attributes.
const customURN = "urn:roster:params:scim:schemas:extension:acme:2.0:User"

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func newEnv(t *testing.T, opts ...func(*envOpt)) *env {
	t.Helper()
	o := envOpt{seats: 100}
	for _, f := range opts {
		f(&o)
	}
	e := &env{t: t, store: memstore.New(), clock: &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, logs: &bytes.Buffer{}}
	// Deterministic ids keep golden files stable.
	idMu := sync.Mutex{}
	newID := func() string {
		idMu.Lock()
		defer idMu.Unlock()
		e.ids++
		return fmt.Sprintf("ID%024d", e.ids)
	}
	log := slog.New(slog.NewTextHandler(syncWriter{e}, nil))
	e.client = sdk.New(e.store, sdk.WithClock(e.clock.Now), sdk.WithIDGenerator(newID), sdk.WithLogger(log),
		sdk.WithPasswordParams(64, 1, 1))
	var err error
	e.tenant, e.owner, err = e.client.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", OwnerEmail: "owner@acme.test", OwnerGivenName: "Olivia", OwnerFamilyName: "Owner", IncludedSeats: o.seats,
		Settings: sdk.Settings{CustomAttributes: o.custom},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.token, _, err = e.client.CreateToken(t.Context(), sdk.SystemActor(), e.tenant.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	hopts := append([]scim.Option{scim.WithLogger(log), scim.WithClock(e.clock.Now), scim.WithBaseURL("https://roster.test"),
		scim.WithRateLimit(0, 0)}, o.handler...)
	h := scim.NewHandler(e.client, hopts...)
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", h)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL + "/scim/v2/acme"
	return e
}

type syncWriter struct{ e *env }

var logMu sync.Mutex

func (w syncWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return w.e.logs.Write(p)
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r resp) str(path string) string {
	v := dig(r.body, path)
	s, _ := v.(string)
	return s
}

// ext reads an attribute of the enterprise extension.
func (r resp) ext(path string) string {
	s, _ := dig(r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], path).(string)
	return s
}

// dig walks a decoded JSON value: "a.b", "Resources.0.id".
func dig(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// do sends a request with the tenant's token. body may be a string or a
// value to marshal.
func (e *env) do(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	return e.doAs(e.token, method, path, body, headers...)
}

func (e *env) doAs(token, method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: %d response is not a JSON object: %v\n%s", method, path, res.StatusCode, err, raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/scim+json" {
			e.t.Fatalf("%s %s: content type %q", method, path, ct)
		}
	}
	return r
}

// want fails unless the response has the status; error responses must
// carry the RFC 7644 §3.12 body.
func (r resp) want(t *testing.T, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if status >= 400 {
		checkErrorBody(t, r)
	}
	return r
}

func checkErrorBody(t *testing.T, r resp) {
	t.Helper()
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || r.str("status") != fmt.Sprint(r.status) {
		t.Fatalf("error body is not an RFC 7644 §3.12 error: %s", r.raw)
	}
	if r.header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("error content type %q", r.header.Get("Content-Type"))
	}
}

// createUser POSTs a minimal user and returns its id.
func (e *env) createUser(userName string, extra ...map[string]any) string {
	e.t.Helper()
	u := map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"name":     map[string]any{"givenName": "Given", "familyName": "Family"},
		"active":   true,
	}
	for _, x := range extra {
		for k, v := range x {
			u[k] = v
		}
	}
	r := e.do("POST", "/Users", u).want(e.t, 201)
	return r.str("id")
}

func (e *env) createGroup(name string, members ...string) string {
	e.t.Helper()
	ms := []any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"value": m})
	}
	r := e.do("POST", "/Groups", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": ms,
	}).want(e.t, 201)
	return r.str("id")
}

func patchOp(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": list}
}

var hostRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

// golden compares a response body with testdata/golden/name.json
// (rewritten with -update). Server addresses are normalised.
func golden(t *testing.T, name string, r resp) {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.raw, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	got, _ := json.MarshalIndent(map[string]any{"status": r.status, "body": v}, "", "  ")
	got = hostRe.ReplaceAll(got, []byte("http://roster.test"))
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run go test -update to create it)", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test -update after checking):\ngot:\n%s", name, path, got)
	}
}
