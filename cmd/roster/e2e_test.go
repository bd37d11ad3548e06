package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// raceEnabled makes the binary under test build with -race when the tests
// do, so that it reuses their compiled packages.
var raceEnabled bool

// built is the roster binary this test process builds once, for every
// test that drives it.
var built struct {
	once sync.Once
	dir  string // removed by TestMain
	bin  string
	err  error
	out  []byte // go build's output when it failed
}

// TestMain removes the binary buildRoster built. Under -race it also
// turns off the second a race-built binary sleeps before exiting (the race
// runtime's atexit_sleep_ms, which leaves other threads time to report),
// so that the binary's hundreds of runs take milliseconds each; a race is
// still reported, and fails the run with exit status 66.
func TestMain(m *testing.M) {
	if g := os.Getenv("GORACE"); raceEnabled && !strings.Contains(g, "atexit_sleep_ms") {
		_ = os.Setenv("GORACE", strings.TrimSpace(g+" atexit_sleep_ms=0"))
	}
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildRoster builds the roster binary, once per test process, and returns
// its path. Tests run it but must not change it.
func buildRoster(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH to build the binary")
	}
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "roster-test-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		bin := filepath.Join(dir, "roster")
		args := []string{"build", "-o", bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		built.out, built.err = exec.Command(goTool, append(args, ".")...).CombinedOutput()
		built.bin = bin
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// cleanEnv is the test process's environment without ROSTER_ settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROSTER_") {
			env = append(env, kv)
		}
	}
	return env
}

// runBin runs the binary to completion.
func runBin(t *testing.T, bin string, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// startBin starts 'roster serve' (args) from the binary with env added to
// a clean environment, and waits until it says it is ready. It returns the
// process, its URL, its stderr, and a channel receiving its exit.
func startBin(t *testing.T, bin string, env []string, args ...string) (*exec.Cmd, string, *syncBuffer, chan error) {
	t.Helper()
	stderr := &syncBuffer{}
	srv := exec.Command(bin, args...)
	srv.Env = append(cleanEnv(), env...)
	srv.Stderr = stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); ; {
		if m := urlRe.FindStringSubmatch(stderr.String()); m != nil && strings.Contains(stderr.String(), "Roster is ready at "+m[1]) {
			return srv, m[1], stderr, exited
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = srv.Process.Kill()
			t.Fatalf("serve not ready:\n%s", stderr.String())
		}
	}
}

func TestBinaryEndToEnd(t *testing.T) {
	t.Parallel()
	bin := buildRoster(t)
	dir := filepath.Join(t.TempDir(), "data")
	data := "--data=" + dir

	scimToken := strings.Repeat("s", 40)
	srv, url, stderr, exited := startBin(t, bin, []string{envBootTenant + "=boot", envBootOwner + "=owner@boot.test", envBootSeats + "=6", envBootToken + "=" + scimToken}, "serve", "--addr", "127.0.0.1:0", data)
	defer func() {
		_ = srv.Process.Kill()
	}()
	if code, _ := get(t, url+"/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}

	// The binary knows the commit it was built from: go build stamps it in
	// a git checkout, unless GOFLAGS has -buildvcs=false.
	r := runBin(t, bin, "version", "--json")
	var v buildVersion
	if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 0 || err != nil || v.Go == "" {
		t.Errorf("version --json: %v\n%s", err, r)
	}
	goflags, _ := exec.Command("go", "env", "GOFLAGS").Output()
	if _, err := exec.LookPath("git"); err == nil && !strings.Contains(string(goflags), "buildvcs=false") && len(v.Commit) != 40 {
		t.Errorf("version --json: commit %q, want the checkout's", v.Commit)
	}

	// Admin commands while the server runs.
	r = runBin(t, bin, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "5", data)
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) != 26 {
		t.Fatalf("tenant create: %s", r)
	}
	if r := runBin(t, bin, "member", "add", "--tenant", "acme", "--email", "bob@acme.test", "--given-name", "Bob", data); r.code != 0 {
		t.Fatalf("member add: %s", r)
	}
	r = runBin(t, bin, "member", "list", "--tenant", "acme", "--json", data)
	var ms []sdk.Member
	if err := json.Unmarshal([]byte(r.stdout), &ms); r.code != 0 || err != nil {
		t.Fatalf("member list --json: %v\n%s", err, r)
	}
	if len(ms) != 2 || ms[1].Email != "bob@acme.test" || ms[1].GivenName != "Bob" {
		t.Errorf("members: %+v", ms)
	}
	// A sync from another process, beside the server.
	people := writeFile(t, t.TempDir(), "people.csv", peopleCSV)
	r = runBin(t, bin, "sync", "--tenant", "acme", "--file", people, "--json", data)
	if sm := summary(t, r); r.code != 0 || sm.Created != 2 || sm.Updated != 1 || strings.Contains(r.stderr, "%") {
		t.Errorf("sync: %+v\n%s", sm, r)
	}
	r = runBin(t, bin, "tenant", "create", "Bad_Slug", "--owner-email", "x@y.test", data)
	if r.code != 1 || !strings.Contains(r.stderr, `"Bad_Slug" is not a valid tenant slug`) {
		t.Errorf("bad slug: %s", r)
	}

	seatsAcrossProcesses(t, bin, url, scimToken, data)

	// A second server on the same directory fails clearly; the first
	// keeps serving.
	r = runBin(t, bin, "serve", "--addr", "127.0.0.1:0", data)
	if r.code != 1 || !strings.Contains(r.stderr, "a roster server is already running on data directory "+dir) {
		t.Errorf("second serve: %s", r)
	}
	if code, _ := get(t, url+"/healthz"); code != 200 {
		t.Fatalf("healthz after second serve: %d", code)
	}

	code, body := get(t, url+"/metrics")
	if code != 200 || !strings.Contains(body, `roster_http_requests_total{code="200",method="GET",route="/healthz"}`) {
		t.Errorf("metrics: %d\n%s", code, body)
	}

	// SIGTERM stops the server cleanly and releases the directory.
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit after SIGTERM:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Errorf("no clean stop logged:\n%s", stderr.String())
	}
	if b, err := os.ReadFile(filepath.Join(dir, lockFile)); err != nil || len(b) != 0 {
		t.Errorf("lock file after the stop: %q, %v (want it emptied of the pid)", b, err)
	}
	r = runBin(t, bin, "tenant", "list", data)
	if r.code != 0 || !strings.Contains(r.stdout, "acme") || !strings.Contains(r.stdout, "4/5") {
		t.Errorf("tenant list after the server stopped: %s", r)
	}

	// An unwritable data directory fails clearly.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, bin, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(file, "d"))
	if r.code != 1 || !strings.Contains(r.stderr, "roster: cannot create data directory "+filepath.Join(file, "d")+": not a directory") {
		t.Errorf("unusable data dir: %s", r)
	}
}

// seatsAcrossProcesses takes the seats of tenant boot (6, one the owner's)
// at once from inside the server (SCIM requests) and from other processes
// ('roster member add', beside it on the same SQLite file): the limit holds and
// the seat counter equals the members holding seats.
func seatsAcrossProcesses(t *testing.T, bin, url, token, data string) {
	t.Helper()
	const scimUsers, adders = 8, 5
	var wg sync.WaitGroup
	codes := make(chan int, scimUsers)
	for i := range scimUsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"scim%d@boot.test","active":true}`, i)
			req, _ := http.NewRequest(http.MethodPost, url+"/scim/v2/boot/Users", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	results := make(chan result, adders)
	for i := range adders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- runBin(t, bin, "member", "add", "--tenant", "boot", "--email", fmt.Sprintf("cli%d@boot.test", i), data)
		}()
	}
	wg.Wait()
	close(codes)
	close(results)
	created := 0
	for c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusForbidden: // the seat limit
		default:
			t.Errorf("SCIM POST: %d", c)
		}
	}
	for r := range results {
		switch {
		case r.code == 0:
			created++
		case !strings.Contains(r.stderr, "has no free seat"):
			t.Errorf("member add: %s", r)
		}
	}
	r := runBin(t, bin, "tenant", "reconcile", "boot", "--json", data)
	var rec reconcileResult
	if err := json.Unmarshal([]byte(r.stdout), &rec); r.code != 0 || err != nil {
		t.Fatalf("tenant reconcile: %v\n%s", err, r)
	}
	if rec.SeatsBefore != rec.SeatsAfter || rec.SeatsAfter != 1+created || rec.SeatsAfter > 6 {
		t.Errorf("after %d creates: seat counter %d, members holding seats %d, limit 6", created, rec.SeatsBefore, rec.SeatsAfter)
	}
}
