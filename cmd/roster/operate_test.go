package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// scimDo sends one SCIM request to tenant acme of s and returns the status.
func scimDo(t *testing.T, s *server, method, path, token, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, s.url+"/scim/v2/acme"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// jsonLines parses every line of stderr as a JSON object, failing the test
// on one that is not.
func jsonLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stderr line %d is not JSON: %v\n%s", i+1, err, line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// metricValue returns the value of the sample line of body that starts with
// series (name and labels as Prometheus writes them), or -1.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return -1
}

const userBody = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bo@acme.test","active":true}`

// TestServeAccessLogJSON: with --log-format json every line serve writes
// to stderr is JSON, from the banner to the stop; every request is logged
// once with its route template, status, duration, tenant and token id,
// never the token or the filter's values; health checks at debug level.
func TestServeAccessLogJSON(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("j", 40)
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootToken: token}
	s := startServe(t, env, "--memory", "--log-format", "json", "--log-level", "debug")

	filter := "?filter=" + url.QueryEscape(`userName eq "zed.secret@acme.test"`)
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/Users" + filter, token, "", 200},
		{"GET", "/Users/nope", token, "", 404},
		{"POST", "/Users", token, userBody, 201},
		{"GET", "/Groups", "wrong-" + token, "", 401},
		{"GET", "/ServiceProviderConfig", token, "", 200},
	} {
		if got := scimDo(t, s, c.method, c.path, c.token, c.body); got != c.want {
			t.Fatalf("%s %s: %d, want %d", c.method, c.path, got, c.want)
		}
	}
	if code, _ := get(t, s.url+"/healthz"); code != 200 {
		t.Fatal(code)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}

	out := s.stderr.String()
	for _, secret := range []string{token, "zed.secret", "Bearer", "bo@acme.test"} {
		if strings.Contains(out, secret) {
			t.Errorf("stderr holds %q:\n%s", secret, out)
		}
	}
	lines := jsonLines(t, out)
	var tokenID string
	var requests []map[string]any
	msgs := map[string]bool{}
	for _, l := range lines {
		msg, _ := l["msg"].(string)
		msgs[msg] = true
		switch msg {
		case "bootstrap: SCIM token registered":
			tokenID, _ = l["token"].(string)
		case "request":
			requests = append(requests, l)
		}
	}
	for _, want := range []string{"listening", "ready", "stopped", "Roster is ready at " + s.url + " (in-memory store)."} {
		if !msgs[want] {
			t.Errorf("no JSON line with msg %q", want)
		}
	}
	if tokenID == "" {
		t.Fatalf("no bootstrap token id logged:\n%s", out)
	}
	type line struct {
		level, method, route string
		status               float64
		tenant, token        string
	}
	var got []line
	for _, r := range requests {
		if _, ok := r["duration_ms"].(float64); !ok {
			t.Errorf("request line without duration_ms: %v", r)
		}
		l := line{level: r["level"].(string), method: r["method"].(string), route: r["route"].(string), status: r["status"].(float64)}
		l.tenant, _ = r["tenant"].(string)
		l.token, _ = r["token"].(string)
		got = append(got, l)
	}
	want := []line{
		{"INFO", "GET", "/scim/v2/{tenant}/Users", 200, "acme", tokenID},
		{"INFO", "GET", "/scim/v2/{tenant}/Users/{id}", 404, "acme", tokenID},
		{"INFO", "POST", "/scim/v2/{tenant}/Users", 201, "acme", tokenID},
		{"INFO", "GET", "/scim/v2/{tenant}/Groups", 401, "acme", ""},
		{"INFO", "GET", "/scim/v2/{tenant}/ServiceProviderConfig", 200, "acme", tokenID},
		{"DEBUG", "GET", "/healthz", 200, "", ""},
	}
	// startServe polls nothing over HTTP, so these are all the requests.
	if len(got) != len(want) {
		t.Fatalf("request lines:\n%v\nwant\n%v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestServeAccessLogText: the access log follows --log-format text, and
// health checks stay out of it at the default level.
func TestServeAccessLogText(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("x", 40)
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootToken: token}
	s := startServe(t, env, "--memory")
	scimDo(t, s, "GET", "/Users?count=1", token, "")
	get(t, s.url+"/healthz")
	get(t, s.url+"/metrics")
	s.stop(t)
	out := s.stderr.String()
	if !regexp.MustCompile(`level=INFO msg=request method=GET route=/scim/v2/\{tenant\}/Users status=200 duration_ms=[0-9.]+ bytes=\d+ tenant=acme token=\w+`).MatchString(out) {
		t.Errorf("no access-log line for the SCIM request:\n%s", out)
	}
	if strings.Contains(out, "route=/healthz") || strings.Contains(out, "route=/metrics") {
		t.Errorf("health checks logged at info level:\n%s", out)
	}
	if !strings.Contains(out, "WARNING: --memory keeps all data") {
		t.Errorf("text banner:\n%s", out)
	}
}

// TestServeMetricsSCIM scrapes the SCIM metrics: requests by resource,
// method and outcome, and the throttled counter after a burst beyond
// --scim-rate 1 --scim-burst 1.
func TestServeMetricsSCIM(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("m", 40)
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootToken: token}
	s := startServe(t, env, "--memory", "--scim-rate", "1", "--scim-burst", "1")
	statuses := map[int]int{}
	for range 4 {
		statuses[scimDo(t, s, "GET", "/Users", token, "")]++
	}
	if statuses[200] != 1 || statuses[429] != 3 {
		t.Fatalf("statuses %v, want one 200 then 429s", statuses)
	}
	scimDo(t, s, "GET", "/Groups", "", "")

	_, body := get(t, s.url+"/metrics")
	for series, want := range map[string]float64{
		`roster_scim_requests_total{method="GET",outcome="ok",resource="Users"}`:               1,
		`roster_scim_requests_total{method="GET",outcome="throttled",resource="Users"}`:        3,
		`roster_scim_requests_total{method="GET",outcome="unauthenticated",resource="Groups"}`: 1,
		`roster_scim_throttled_total`:                                                   3,
		`roster_scim_request_duration_seconds_count{resource="Users"}`:                  4,
		`roster_http_requests_total{code="429",method="GET",route="/scim/v2/{tenant}"}`: 3,
		`roster_reconcile_tenants_total{outcome="ok"}`:                                  1,
	} {
		if got := metricValue(t, body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for _, name := range []string{"roster_store_errors_total", "roster_mongo_commands_total"} {
		if !strings.Contains(body, "# HELP "+name) && strings.Contains(body, name+"{") {
			t.Errorf("%s has samples without help", name)
		}
	}
}

// TestServeLimitsFromEnv: every limit comes from its variable, the flag
// winning; serve logs the limits it runs with, and the body cap answers
// 413 beyond it.
func TestServeLimitsFromEnv(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("e", 40)
	env := map[string]string{
		envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootToken: token,
		envSCIMRate: "50", envSCIMBurst: "7", envMaxBodyBytes: "1KiB", envTokenCacheTTL: "0",
		envShutdownTimeout: "3s", envReconcileConcurrency: "1",
	}
	s := startServe(t, env, "--memory", "--log-format", "json", "--scim-burst", "9")
	var ready map[string]any
	for _, l := range jsonLines(t, s.stderr.String()) {
		if l["msg"] == "ready" {
			ready = l
		}
	}
	for k, want := range map[string]any{
		"scim_rate": 50.0, "scim_burst": 9.0, "max_body_bytes": 1024.0, "token_cache_ttl": "0s",
		"shutdown_timeout": "3s", "reconcile_concurrency": 1.0,
	} {
		if ready[k] != want {
			t.Errorf("ready line: %s = %v, want %v", k, ready[k], want)
		}
	}
	big := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big@acme.test","title":"` + strings.Repeat("t", 1100) + `"}`
	if code := scimDo(t, s, "POST", "/Users", token, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over ROSTER_MAX_BODY_BYTES=1KiB: %d, want 413", code)
	}
	if code := scimDo(t, s, "POST", "/Users", token, userBody); code != http.StatusCreated {
		t.Errorf("a body under the cap: %d", code)
	}
	_, body := get(t, s.url+"/metrics")
	if got := metricValue(t, body, `roster_scim_requests_total{method="POST",outcome="too_large",resource="Users"}`); got != 1 {
		t.Errorf("too_large outcome: %v", got)
	}
}

// TestServeLimitErrors: a bad value of a limit is a usage error (exit 2)
// naming the flag or the variable it came from and what is accepted.
func TestServeLimitErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--scim-rate", "ten"}, `--scim-rate "ten": give requests per second per token, a number ≥ 0 (0 turns the limit off)`},
		{map[string]string{envSCIMRate: "-1"}, nil, `ROSTER_SCIM_RATE="-1": give requests per second`},
		{nil, []string{"--scim-burst", "0"}, `--scim-burst "0": give how many requests a token may send at once, a whole number ≥ 1`},
		{map[string]string{envSCIMBurst: "1.5"}, nil, `ROSTER_SCIM_BURST="1.5": give how many requests`},
		{nil, []string{"--max-body-bytes", "2 parsecs"}, `--max-body-bytes "2 parsecs": give a size in bytes ≥ 1, such as 2097152, 2MiB or 500KB`},
		{map[string]string{envMaxBodyBytes: "0"}, nil, `ROSTER_MAX_BODY_BYTES="0": give a size in bytes ≥ 1`},
		{nil, []string{"--token-cache-ttl", "10"}, `--token-cache-ttl "10": give a duration such as 10s or 1m; 0 checks the store on every request`},
		{map[string]string{envTokenCacheTTL: "-5s"}, nil, `ROSTER_TOKEN_CACHE_TTL="-5s": give a duration`},
		{nil, []string{"--shutdown-timeout", "soon"}, `--shutdown-timeout "soon": give a duration such as 15s or 1m`},
		{map[string]string{envShutdownTimeout: "forever"}, nil, `ROSTER_SHUTDOWN_TIMEOUT="forever": give a duration`},
		{nil, []string{"--reconcile-concurrency", "-1"}, `--reconcile-concurrency "-1": give how many tenants the start-up reconcile repairs at once, 1 to 64 (0 skips it)`},
		{map[string]string{envReconcileConcurrency: "1000"}, nil, `ROSTER_RECONCILE_CONCURRENCY="1000": give how many tenants`},
	} {
		r := roster(t, tc.env, append([]string{"serve", "--memory", "--addr", "127.0.0.1:0"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Run 'roster serve --help' for usage.") {
			t.Errorf("%v %v: %s\nwant exit 2 and %q", tc.env, tc.args, r, tc.want)
		}
	}
	// With --log-format json, the error is a JSON line too.
	r := roster(t, nil, "serve", "--memory", "--addr", "127.0.0.1:0", "--log-format", "json", "--scim-rate", "x")
	lines := jsonLines(t, r.stderr)
	if r.code != 2 || len(lines) != 1 || lines[0]["level"] != "ERROR" || !strings.Contains(lines[0]["msg"].(string), `--scim-rate "x"`) {
		t.Errorf("json usage error: %s", r)
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"2097152": 2097152, "2MiB": 2 << 20, "2mib": 2 << 20, "500KB": 500_000, "500k": 500_000,
		"1 GiB": 1 << 30, "1G": 1e9, "10B": 10, "0": 0,
	} {
		if got, ok := parseSize(in); !ok || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.5MiB", "2 parsecs", "99999999999GiB"} {
		if got, ok := parseSize(in); ok {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

// TestTokenRevokeTTL: what 'token revoke' says follows the token cache
// TTL a server uses, from the flag or the variable serve reads; with 0 a
// server refuses the token at once.
func TestTokenRevokeTTL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{envData: dir}
	mustRun(t, env, "tenant", "create", "acme", "--owner-email", "ann@acme.test")
	ids := make([]string, 4)
	secrets := make([]string, 4)
	for i := range ids {
		secrets[i] = strings.TrimSpace(mustRun(t, env, "token", "create", "--tenant", "acme").stdout)
	}
	r := mustRun(t, env, "token", "list", "--tenant", "acme", "--json")
	var toks []struct{ ID, Hint string }
	if err := json.Unmarshal([]byte(r.stdout), &toks); err != nil || len(toks) != 4 {
		t.Fatalf("token list: %v\n%s", err, r)
	}
	for i, s := range secrets {
		for _, k := range toks {
			if strings.HasSuffix(s, k.Hint) {
				ids[i] = k.ID
			}
		}
	}

	r = mustRun(t, env, "token", "revoke", "--tenant", "acme", ids[0])
	if !strings.Contains(r.stderr, "servers stop accepting it within 10s (their token cache TTL, --token-cache-ttl)") {
		t.Errorf("default TTL: %s", r)
	}
	r = mustRun(t, env, "token", "revoke", "--tenant", "acme", ids[1], "--token-cache-ttl", "1m")
	if !strings.Contains(r.stderr, "within 1m (") {
		t.Errorf("--token-cache-ttl 1m: %s", r)
	}
	wantFail(t, roster(t, env, "token", "revoke", "--tenant", "acme", ids[2], "--token-cache-ttl", "soon"), `--token-cache-ttl "soon": give a duration`)

	// A server and the revoke share ROSTER_TOKEN_CACHE_TTL=0: the token
	// fails on the next request, as the message says.
	env[envTokenCacheTTL] = "0"
	s := startServe(t, env)
	if code := scimDo(t, s, "GET", "/Users", secrets[2], ""); code != 200 {
		t.Fatalf("before revoking: %d", code)
	}
	r = mustRun(t, env, "token", "revoke", "--tenant", "acme", ids[2])
	if !strings.Contains(r.stderr, "requests bearing it now fail.") {
		t.Errorf("TTL 0: %s", r)
	}
	if code := scimDo(t, s, "GET", "/Users", secrets[2], ""); code != 401 {
		t.Errorf("after revoking with TTL 0: %d, want 401", code)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := mustRun(t, nil, "version")
	if !strings.HasPrefix(r.stdout, "roster ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Errorf("version: %s", r)
	}
	r2 := mustRun(t, nil, "--version")
	if r2.stdout != r.stdout {
		t.Errorf("--version %q, version %q", r2.stdout, r.stdout)
	}
	r = mustRun(t, nil, "version", "--json")
	var v buildVersion
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Go != runtime.Version() || v.Version == "" {
		t.Errorf("version --json: %+v, %v\n%s", v, err, r)
	}
	for _, tc := range []struct {
		v    buildVersion
		want string
	}{
		{buildVersion{Version: "v1.2.0", Commit: "0a127f7c0a127f7c0a127f7c", Time: "2026-03-01T09:00:00Z", Go: "go1.26.0"}, "v1.2.0 (commit 0a127f7c0a12, 2026-03-01T09:00:00Z; go1.26.0)"},
		{buildVersion{Version: "(devel)", Commit: "abc", Modified: true, Go: "go1.26.0"}, "(devel) (commit abc+modified; go1.26.0)"},
		{buildVersion{Version: "unknown"}, "unknown"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	r := mustRun(t, nil, "completion", "bash")
	if !strings.Contains(r.stdout, "bash completion") || !strings.Contains(r.stdout, "__start_roster") {
		t.Errorf("completion bash:\n%.500s", r.stdout)
	}
	for _, sh := range []string{"zsh", "fish", "powershell"} {
		if r := mustRun(t, nil, "completion", sh); len(r.stdout) < 100 {
			t.Errorf("completion %s: %s", sh, r)
		}
	}
}

// TestSyncMetricsFile: --metrics-file writes the textfile-collector
// format; rows add up across runs, a failed run keeps the last success,
// and another tenant's samples are kept.
func TestSyncMetricsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "10", data)
	metrics := filepath.Join(dir, "roster_sync.prom")
	if err := os.WriteFile(metrics, []byte("roster_sync_rows_total{outcome=\"created\",tenant=\"beta\"} 5\nroster_sync_last_success_timestamp_seconds{tenant=\"beta\"} 1.7e+09\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	people := writeFile(t, dir, "people.csv", "email,given_name\nbob@acme.test,Bob\ncy@acme.test,Cy\n")
	mustRun(t, nil, "sync", "--tenant", "acme", "--file", people, "--metrics-file", metrics, data)
	read := func() string {
		b, err := os.ReadFile(metrics)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	first := read()
	for series, want := range map[string]float64{
		`roster_sync_rows_total{outcome="created",tenant="acme"}`:   2,
		`roster_sync_rows_total{outcome="unchanged",tenant="acme"}`: 0,
		`roster_sync_rows_total{outcome="created",tenant="beta"}`:   5,
		`roster_sync_last_success_timestamp_seconds{tenant="beta"}`: 1.7e9,
	} {
		if got := metricValue(t, first, series); got != want {
			t.Errorf("after the first sync: %s = %v, want %v\n%s", series, got, want, first)
		}
	}
	success := metricValue(t, first, `roster_sync_last_success_timestamp_seconds{tenant="acme"}`)
	if success < 1.7e9 || metricValue(t, first, `roster_sync_duration_seconds{tenant="acme"}`) < 0 {
		t.Errorf("no success time or duration:\n%s", first)
	}

	// A run with a failing row: rows add up, the last success stays.
	people = writeFile(t, dir, "people2.csv", "email,given_name,role\nbob@acme.test,Bob,\ncy@acme.test,Cy,boss\ndee@acme.test,Dee,\n")
	r := roster(t, nil, "sync", "--tenant", "acme", "--file", people, "--metrics-file", metrics, data)
	if r.code != 1 {
		t.Fatalf("sync with a bad role: %s", r)
	}
	second := read()
	for series, want := range map[string]float64{
		`roster_sync_rows_total{outcome="created",tenant="acme"}`:   3,
		`roster_sync_rows_total{outcome="unchanged",tenant="acme"}`: 1,
		`roster_sync_rows_total{outcome="failed",tenant="acme"}`:    1,
		`roster_sync_last_success_timestamp_seconds{tenant="acme"}`: success,
		`roster_sync_rows_total{outcome="created",tenant="beta"}`:   5,
	} {
		if got := metricValue(t, second, series); got != want {
			t.Errorf("after the failing sync: %s = %v, want %v\n%s", series, got, want, second)
		}
	}
	if metricValue(t, second, `roster_sync_last_run_timestamp_seconds{tenant="acme"}`) < success {
		t.Errorf("last run before the last success:\n%s", second)
	}
	// A dry run leaves the file alone.
	roster(t, nil, "sync", "--tenant", "acme", "--file", people, "--metrics-file", metrics, "--dry-run", data)
	if read() != second {
		t.Errorf("a dry run changed the metrics file")
	}
}

// downStore fails every member listing, as a store whose database went
// away does.
type downStore struct{ sdk.Store }

func (downStore) ListMembers(context.Context, string, sdk.MemberQuery) ([]*sdk.Member, error) {
	return nil, errors.New("connection reset by peer")
}

// TestStoreErrorsMetric: a SCIM request answered 500 because the store
// failed counts in roster_store_errors_total{source="scim"}; refusals and
// client errors do not.
func TestStoreErrorsMetric(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	mem := memstore.New()
	c := sdk.New(mem)
	tn, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := c.CreateToken(ctx, sdk.SystemActor(), tn.ID, "t")
	if err != nil {
		t.Fatal(err)
	}
	var ready atomic.Bool
	ready.Store(true)
	m := newMetrics()
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := m.instrument(NewRouter(sdk.New(downStore{mem}), m, &ready, log), log)
	for _, path := range []string{"/scim/v2/acme/Users", "/scim/v2/acme/Users/nope", "/scim/v2/acme/Users"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	body := scrape(t, m)
	if got := metricValue(t, body, `roster_store_errors_total{source="scim"}`); got != 2 {
		t.Errorf("store errors: %v, want 2\n%s", got, body)
	}
	if got := metricValue(t, body, `roster_scim_requests_total{method="GET",outcome="server_error",resource="Users"}`); got != 2 {
		t.Errorf("server errors: %v", got)
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the token in the log:\n%s", logs.String())
	}
}

// TestMongoCommandsMetric: serve on MongoDB (FerretDB in this process)
// counts every database command it sends, by name.
func TestMongoCommandsMetric(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts FerretDB; skipped with -short")
	}
	srv, err := embedded.Start(t.Context(), embedded.Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	token := strings.Repeat("g", 40)
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootToken: token, envMongoURI: srv.URI()}
	s := startServe(t, env)
	_, before := get(t, s.url+"/metrics")
	if code := scimDo(t, s, "GET", "/Users?count=1", token, ""); code != 200 {
		t.Fatalf("GET /Users: %d", code)
	}
	_, after := get(t, s.url+"/metrics")
	total := func(body string) (n float64) {
		for line := range strings.Lines(body) {
			if rest, ok := strings.CutPrefix(line, "roster_mongo_commands_total{"); ok {
				_, v, _ := strings.Cut(rest, "} ")
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					t.Fatal(line)
				}
				n += f
			}
		}
		return n
	}
	if total(before) == 0 || metricValue(t, before, `roster_mongo_commands_total{command="insert"}`) < 1 {
		t.Errorf("no commands counted at start-up (bootstrap inserts a tenant):\n%s", before)
	}
	if total(after) <= total(before) {
		t.Errorf("a SCIM page sent no counted command: %v then %v", total(before), total(after))
	}
}

// TestAdminJSONLog: with --log-format json an admin command's messages,
// its sync report and its error are JSON lines too.
func TestAdminJSONLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	r := mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--log-format", "json", data)
	jsonLines(t, r.stderr)
	people := writeFile(t, dir, "people.csv", "email,role\nbob@acme.test,\ncy@acme.test,boss\n")
	r = roster(t, nil, "sync", "--tenant", "acme", "--file", people, "--log-format", "json", data)
	lines := jsonLines(t, r.stderr)
	var msgs []string
	for _, l := range lines {
		msgs = append(msgs, l["level"].(string)+" "+l["msg"].(string))
	}
	want := []string{"INFO sync report", "WARN sync: row failed", "ERROR roster: 1 of 2 record(s) failed (listed above)"}
	if r.code != 1 || strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("sync --log-format json: %q, want %q\n%s", msgs, want, r)
	}
	if len(lines) > 0 && (lines[0]["created"] != 1.0 || lines[0]["failed"] != 1.0) {
		t.Errorf("sync report: %v", lines[0])
	}
}
