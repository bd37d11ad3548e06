package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// syncBuffer is a bytes.Buffer safe to write from a running command while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// roster runs the command in-process with only the given environment.
func roster(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	code := run(t.Context(), args, &app{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }})
	return result{code, out.String(), errb.String()}
}

func mustRun(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	r := roster(t, env, args...)
	if r.code != 0 {
		t.Fatalf("roster %s: %s", strings.Join(args, " "), r)
	}
	return r
}

func wantFail(t *testing.T, r result, msg string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("exit 0, want failure mentioning %q\n%s", msg, r)
	}
	if !strings.Contains(r.stderr, msg) {
		t.Fatalf("stderr does not mention %q\n%s", msg, r)
	}
}

func TestTenantCommands(t *testing.T) {
	t.Parallel()
	data := "--data=" + filepath.Join(t.TempDir(), "data")

	r := roster(t, nil, "tenant", "list", data)
	wantFail(t, r, "does not exist")

	r = mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "3", "--name", "Acme Inc", data)
	if id := strings.TrimSpace(r.stdout); len(id) != 26 {
		t.Errorf("tenant create printed %q on stdout, want the tenant id", r.stdout)
	}
	if !strings.Contains(r.stderr, `Created tenant "acme"`) {
		t.Errorf("stderr: %s", r.stderr)
	}

	wantFail(t, roster(t, nil, "tenant", "create", "acme", "--owner-email", "bob@acme.test", data), `tenant slug "acme" is taken`)
	wantFail(t, roster(t, nil, "tenant", "create", "Acme!", "--owner-email", "ann@acme.test", data), `"Acme!" is not a valid tenant slug: use 1 to 63 lower-case letters`)
	wantFail(t, roster(t, nil, "tenant", "create", "beta", "--owner-email", "not-an-email", data), `--owner-email: "not-an-email" is not a valid email address`)
	wantFail(t, roster(t, nil, "tenant", "create", "beta", "--owner-email", "b@beta.test", "--roles", "nope", data), `--roles: "nope" is not a role preset`)
	wantFail(t, roster(t, nil, "tenant", "create", "beta", data), `required flag(s) "owner-email" not set`)

	mustRun(t, nil, "tenant", "create", "beta", "--owner-email", "bea@beta.test", "--roles", "campaigns", data)
	r = mustRun(t, nil, "tenant", "list", "--json", data)
	var ts []sdk.Tenant
	if err := json.Unmarshal([]byte(r.stdout), &ts); err != nil {
		t.Fatalf("tenant list --json: %v\n%s", err, r.stdout)
	}
	if len(ts) != 2 || ts[0].Slug != "acme" || ts[0].Name != "Acme Inc" || ts[0].SeatLimit() != 3 || ts[1].Roles[1].Name != "account_manager" {
		t.Errorf("tenant list --json = %+v", ts)
	}
	r = mustRun(t, nil, "tenant", "list", data)
	if !regexp.MustCompile(`(?m)^acme\s+Acme Inc\s+ann@acme.test\s+1/3\s`).MatchString(r.stdout) {
		t.Errorf("tenant list table:\n%s", r.stdout)
	}
}

func TestMemberCommands(t *testing.T) {
	t.Parallel()
	data := "--data=" + t.TempDir()
	mustRun(t, nil, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "3", data)

	wantFail(t, roster(t, nil, "member", "list", data), `required flag(s) "tenant" not set`)
	wantFail(t, roster(t, nil, "member", "list", "--tenant", "nope", data), `no tenant with slug "nope"`)

	r := mustRun(t, nil, "member", "add", "--tenant", "acme", "--email", "Bob@acme.test", "--given-name", "Bob", "--family-name", "Jones", "--role", "admin", data)
	bobID := strings.TrimSpace(r.stdout)
	wantFail(t, roster(t, nil, "member", "add", "--tenant", "acme", "--email", "bob@ACME.test", data), `"bob@ACME.test" is already a member of tenant "acme"`)
	wantFail(t, roster(t, nil, "member", "add", "--tenant", "acme", "--email", "cy@acme.test", "--role", "boss", data), `--role "boss": tenant "acme" has no such role; use one of owner, admin, standard`)
	mustRun(t, nil, "member", "add", "--tenant", "acme", "--email", "cy@acme.test", data)
	wantFail(t, roster(t, nil, "member", "add", "--tenant", "acme", "--email", "dee@acme.test", data), `tenant "acme" has no free seat`)
	mustRun(t, nil, "member", "remove", "--tenant", "acme", "cy@acme.test", data)

	r = mustRun(t, nil, "member", "list", "--tenant", "acme", data)
	if !regexp.MustCompile(`(?m)^Bob@acme.test\s+Bob Jones\s+admin\s+active\s+` + bobID).MatchString(r.stdout) {
		t.Errorf("member list:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "2 member(s); 2 of 3 seat(s) used.") {
		t.Errorf("member list summary: %s", r.stderr)
	}

	mustRun(t, nil, "member", "deactivate", "--tenant", "acme", "bob@acme.test", data)
	mustRun(t, nil, "member", "logout", "--tenant", "acme", bobID, data)
	r = mustRun(t, nil, "member", "reactivate", "--tenant", "acme", "BOB@acme.test", "--json", data)
	var m sdk.Member
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatal(err)
	}
	if m.Status != sdk.StatusActive || m.SessionEpoch != 2 {
		t.Errorf("after deactivate, logout, reactivate: status %s, epoch %d", m.Status, m.SessionEpoch)
	}
	wantFail(t, roster(t, nil, "member", "deactivate", "--tenant", "acme", "ann@acme.test", data), `ann@acme.test is the owner of tenant "acme"`)
	wantFail(t, roster(t, nil, "member", "remove", "--tenant", "acme", "zed@acme.test", data), `tenant "acme" has no member "zed@acme.test"`)
	wantFail(t, roster(t, nil, "member", "remove", "--tenant", "acme", data), "expects MEMBER")

	mustRun(t, nil, "member", "remove", "--tenant", "acme", bobID, data)
	r = mustRun(t, nil, "member", "list", "--tenant", "acme", "--json", data)
	var ms []sdk.Member
	if err := json.Unmarshal([]byte(r.stdout), &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Email != "ann@acme.test" {
		t.Errorf("after remove: %+v", ms)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	r := roster(t, nil, "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %s", r)
	}
	r = roster(t, nil, "tenant", "list", "--bogus")
	if r.code != 2 || !strings.Contains(r.stderr, "unknown flag: --bogus") || !strings.Contains(r.stderr, "Run 'roster tenant list --help' for usage.") {
		t.Errorf("unknown flag: %s (want the hint to name the subcommand's help)", r)
	}
	r = roster(t, nil, "serve", "--memory", "--log-level", "loud")
	if r.code != 2 || !strings.Contains(r.stderr, `--log-level "loud"`) {
		t.Errorf("bad log level: %s", r)
	}
	r = mustRun(t, nil)
	if !strings.Contains(r.stdout, "Available Commands") {
		t.Errorf("bare roster: %s", r)
	}
}

func TestUnusableDataDir(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "data")
	wantFail(t, roster(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", dir), "cannot create data directory "+dir)
	wantFail(t, roster(t, nil, "tenant", "create", "acme", "--owner-email", "a@b.test", "--data", dir), "cannot create data directory "+dir)
}

func TestUnreachableMongo(t *testing.T) {
	t.Parallel()
	t.Run("flag", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		r := roster(t, nil, "tenant", "list", "--mongo-uri", "mongodb://127.0.0.1:1/?connectTimeoutMS=2000")
		wantFail(t, r, "cannot reach MongoDB at 127.0.0.1:1")
		if d := time.Since(start); d > 12*time.Second {
			t.Errorf("failing took %v", d)
		}
	})
	t.Run("env", func(t *testing.T) {
		t.Parallel()
		// The environment variable selects MongoDB too, and a password
		// never shows in messages.
		r := roster(t, map[string]string{envMongoURI: "mongodb://ann:s3cret@127.0.0.1:1/"}, "serve", "--addr", "127.0.0.1:0")
		wantFail(t, r, "cannot reach MongoDB at 127.0.0.1:1")
		if strings.Contains(r.stderr, "s3cret") {
			t.Errorf("password in message: %s", r.stderr)
		}
	})
}

func TestChooseStore(t *testing.T) {
	t.Parallel()
	cwdData := "./roster-data"
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		memory bool
		want   storeChoice
	}{
		{"default", nil, nil, false, storeChoice{kind: storeEmbedded, dir: cwdData, db: "roster"}},
		{"data env", map[string]string{envData: "/d", envDB: "x"}, nil, false, storeChoice{kind: storeEmbedded, dir: "/d", db: "x"}},
		{"mongo env beats data env", map[string]string{envData: "/d", envMongoURI: "mongodb://h"}, nil, false, storeChoice{kind: storeMongo, uri: "mongodb://h", dir: cwdData, db: "roster"}},
		{"data flag beats mongo env", map[string]string{envMongoURI: "mongodb://h"}, []string{"--data", "/f"}, false, storeChoice{kind: storeEmbedded, dir: "/f", db: "roster"}},
		{"memory beats data", nil, []string{"--data", "/f"}, true, storeChoice{kind: storeMemory, dir: "/f", db: "roster"}},
		{"memory beats mongo env", map[string]string{envMongoURI: "mongodb://h"}, nil, true, storeChoice{kind: storeMemory, dir: cwdData, db: "roster"}},
		{"mongo flag beats memory", nil, []string{"--mongo-uri", "mongodb://f", "--db", "y"}, true, storeChoice{kind: storeMongo, uri: "mongodb://f", dir: cwdData, db: "y"}},
		{"db flag beats env", map[string]string{envDB: "x"}, []string{"--db", "y"}, false, storeChoice{kind: storeEmbedded, dir: cwdData, db: "y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return tc.env[k] }}
			root := newRootCmd(a)
			cmd, _, err := root.Find([]string{"tenant", "list"})
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := a.chooseStore(cmd, tc.memory); got != tc.want {
				t.Errorf("chooseStore = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestBootstrapFromEnv(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("t", 32)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want *bootstrap
		err  string
	}{
		{"none", nil, nil, ""},
		{"full", map[string]string{envBootTenant: "acme", envBootOwner: "a@b.test", envBootSeats: "7", envBootToken: token},
			&bootstrap{tenant: "acme", owner: "a@b.test", seats: 7, token: token}, ""},
		{"default seats", map[string]string{envBootTenant: "acme", envBootOwner: "a@b.test"},
			&bootstrap{tenant: "acme", owner: "a@b.test", seats: defaultSeats}, ""},
		{"no owner", map[string]string{envBootTenant: "acme"}, nil, "needs " + envBootOwner},
		{"no tenant", map[string]string{envBootOwner: "a@b.test"}, nil, envBootOwner + " is set but " + envBootTenant + " is not"},
		{"bad seats", map[string]string{envBootTenant: "acme", envBootOwner: "a@b.test", envBootSeats: "ten"}, nil, `ROSTER_BOOTSTRAP_SEATS="ten" is not a number`},
		{"short token", map[string]string{envBootTenant: "acme", envBootOwner: "a@b.test", envBootToken: token[1:]}, nil, "must be 32 to 512 printable ASCII characters without spaces (this one has 31)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bootstrapFromEnv(func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRedactURI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"mongodb://h:27017/db":                   "mongodb://h:27017/db",
		"mongodb://ann:pw@h/db?x=1":              "mongodb://ann:xxxxx@h/db?x=1",
		"mongodb+srv://ann:p%40w@c.example.net/": "mongodb+srv://ann:xxxxx@c.example.net/",
	} {
		if got := redactURI(in); got != want {
			t.Errorf("redactURI(%q) = %q, want %q", in, got, want)
		}
	}
}

// server is a 'roster serve' running in this process.
type server struct {
	url    string
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan int
}

var urlRe = regexp.MustCompile(`(http://127\.0\.0\.1:\d+)`)

// startServe runs serve in-process and waits until it is ready.
func startServe(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stderr: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	a := &app{stdout: io.Discard, stderr: s.stderr, getenv: func(k string) string { return env[k] }}
	go func() { s.done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), a) }()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-s.done:
			s.done <- code
			t.Fatalf("serve exited with %d:\n%s", code, s.stderr)
		default:
		}
		if m := urlRe.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = m[1]
			if strings.Contains(s.stderr.String(), "Roster is ready at "+s.url) {
				return s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not become ready:\n%s", s.stderr)
	return nil
}

// stop cancels the server's context (as a signal does) and returns its
// exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop:\n%s", s.stderr)
		return -1
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestServeMemoryBootstrap(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("k", 40)
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootSeats: "4", envBootToken: token}
	s := startServe(t, env, "--memory", "--log-format", "json")
	for _, want := range []string{`"level":"WARN","msg":"--memory keeps all data`, "LOST when it exits", `"level":"WARN","msg":"admin commands (roster tenant ..., roster member ...) cannot reach an in-memory store`, `"msg":"bootstrap: created tenant"`, `"seats":4`} {
		if !strings.Contains(s.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, s.stderr)
		}
	}
	if code, body := get(t, s.url+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	if code, body := get(t, s.url+"/scim/v2/acme/Users"); code != http.StatusUnauthorized || !strings.Contains(body, "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("scim without a token: %d %q", code, body)
	}
	// The bootstrap token provisions the tenant over SCIM.
	req, _ := http.NewRequest(http.MethodGet, s.url+"/scim/v2/acme/Users?filter="+url.QueryEscape(`userName eq "ANN@acme.test"`), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		TotalResults int
		Resources    []struct{ UserName string }
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/scim+json" ||
		list.TotalResults != 1 || list.Resources[0].UserName != "ann@acme.test" {
		t.Errorf("scim with the bootstrap token: %d %s %+v %v", resp.StatusCode, resp.Header.Get("Content-Type"), list, err)
	}
	if code, _ := get(t, s.url+"/nope"); code != http.StatusNotFound {
		t.Errorf("unknown path: %d", code)
	}
	code, body := get(t, s.url+"/metrics")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		`roster_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`roster_http_requests_total{code="401",method="GET",route="/scim/v2/{tenant}"} 1`,
		`roster_http_requests_total{code="200",method="GET",route="/scim/v2/{tenant}"} 1`,
		`roster_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`roster_http_request_duration_seconds_count{code="200",method="GET",route="/healthz"} 1`,
		"roster_ready 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d after cancel:\n%s", code, s.stderr)
	}
}

func TestServeBootstrapErrors(t *testing.T) {
	t.Parallel()
	r := roster(t, map[string]string{envBootTenant: "acme", envBootOwner: "ann.acme.test"}, "serve", "--memory", "--addr", "127.0.0.1:0")
	wantFail(t, r, `ROSTER_BOOTSTRAP_OWNER_EMAIL: "ann.acme.test" is not a valid email address`)
	r = roster(t, map[string]string{envBootTenant: "Acme", envBootOwner: "ann@acme.test"}, "serve", "--memory", "--addr", "127.0.0.1:0")
	wantFail(t, r, `ROSTER_BOOTSTRAP_TENANT: "Acme" is not a valid slug`)
	r = roster(t, map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootToken: "short"}, "serve", "--memory", "--addr", "127.0.0.1:0")
	wantFail(t, r, "ROSTER_BOOTSTRAP_TOKEN: a token must be 32 to 512")
}

func TestServeDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootSeats: "5", envData: dir}
	s := startServe(t, env)
	if !strings.Contains(s.stderr.String(), "roster tenant create acme --owner-email") && !strings.Contains(s.stderr.String(), "roster member add --tenant acme") {
		t.Errorf("no next steps:\n%s", s.stderr)
	}

	// A second server on the same directory fails, and the first is unharmed.
	r := roster(t, env, "serve", "--addr", "127.0.0.1:0")
	wantFail(t, r, "a roster server is already running on data directory "+dir)
	if code, _ := get(t, s.url+"/healthz"); code != 200 {
		t.Fatalf("first server after the second failed: healthz %d", code)
	}

	// Admin commands work beside the running server.
	mustRun(t, env, "member", "add", "--tenant", "acme", "--email", "bob@acme.test")
	mustRun(t, env, "tenant", "create", "beta", "--owner-email", "bea@beta.test")
	r = mustRun(t, env, "tenant", "list", "--json")
	var ts []sdk.Tenant
	if err := json.Unmarshal([]byte(r.stdout), &ts); err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].SeatsUsed != 2 || ts[0].SeatLimit() != 5 {
		t.Fatalf("tenants while serving: %+v", ts)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.stderr)
	}

	// Bootstrap is idempotent across restarts, and the data persisted.
	env[envBootSeats] = "50"
	s = startServe(t, env)
	if !strings.Contains(s.stderr.String(), "bootstrap: tenant exists; left as it is") {
		t.Errorf("second start:\n%s", s.stderr)
	}
	s.stop(t)
	r = mustRun(t, env, "member", "list", "--tenant", "acme", "--json")
	var ms []sdk.Member
	if err := json.Unmarshal([]byte(r.stdout), &ms); err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Errorf("members after restart: %+v", ms)
	}
}

func TestHealthzBeforeReady(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	r := NewRouter(nil, newMetrics(), &ready, slog.New(slog.DiscardHandler))
	for path, want := range map[string]int{"/healthz": 503, "/metrics": 200, "/scim/v2/acme/Users": 503} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("%s before ready: %d, want %d", path, rec.Code, want)
		}
	}
	ready.Store(true)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("/healthz when ready: %d", rec.Code)
	}
}

// scimStatuses sends n GET /Users with the token and counts the statuses.
func scimStatuses(t *testing.T, s *server, token string, n int) map[int]int {
	t.Helper()
	out := map[int]int{}
	for range n {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/scim/v2/acme/Users?count=1", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out[resp.StatusCode]++
	}
	return out
}

func TestServeSCIMRate(t *testing.T) {
	t.Parallel()
	token := strings.Repeat("r", 40)
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envBootToken: token}
	// A rate of 0.5/s allows a burst of 1: the second request at once is 429.
	s := startServe(t, env, "--memory", "--scim-rate", "0.5")
	if got := scimStatuses(t, s, token, 3); got[200] != 1 || got[429] != 2 {
		t.Errorf("--scim-rate 0.5: statuses %v, want one 200 then 429s", got)
	}
	// From the environment, 0 turns the limit off.
	env[envSCIMRate] = "0"
	s = startServe(t, env, "--memory")
	if got := scimStatuses(t, s, token, 250); got[200] != 250 {
		t.Errorf("ROSTER_SCIM_RATE=0: statuses %v, want every request served", got)
	}
	// The flag wins over the environment.
	s = startServe(t, env, "--memory", "--scim-rate", "0.5")
	if got := scimStatuses(t, s, token, 2); got[429] != 1 {
		t.Errorf("--scim-rate over ROSTER_SCIM_RATE: statuses %v", got)
	}
	for _, bad := range []string{"ten", "-1", "NaN"} {
		r := roster(t, nil, "serve", "--memory", "--addr", "127.0.0.1:0", "--scim-rate", bad)
		if r.code != 2 || !strings.Contains(r.stderr, `--scim-rate "`+bad+`"`) {
			t.Errorf("--scim-rate %s: %s", bad, r)
		}
	}
}
