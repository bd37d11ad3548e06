package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
)

// database is one MongoDB database of the server under test, fresh for
// the test that asked for it and dropped when it ends.
type database struct {
	uri  string
	name string
}

// newDatabase returns a database of its own for t.
func newDatabase(t testing.TB) database {
	t.Helper()
	d := database{uri: mongoURI(t), name: dbName(t)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := mongo.Open(ctx, d.uri, d.name)
		if err != nil {
			t.Logf("dropping database %s: %v", d.name, err)
			return
		}
		defer func() { _ = s.Close(ctx) }()
		if err := s.Database().Drop(ctx); err != nil {
			t.Logf("dropping database %s: %v", d.name, err)
		}
	})
	return d
}

// dbName is a database name unique to this run, derived from the test's
// name (MongoDB database names are at most 63 bytes).
func dbName(t testing.TB) string {
	var b strings.Builder
	b.WriteString("it_")
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	return b.String() + "_" + hex.EncodeToString(rnd[:])
}

// open opens the database as a store, for the tests' own checks, and a
// client on it (on FerretDB, through embedded.Serialize: see
// serializeOnFerretDB).
func (d database) open(t testing.TB) (*sdk.Client, *mongo.Store) {
	t.Helper()
	s, err := mongo.Open(t.Context(), d.uri, d.name)
	if err != nil {
		t.Fatalf("mongo.Open(%s): %v", d.name, err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return sdk.New(serializeOnFerretDB(t, s)), s
}

// serializeOnFerretDB returns s wrapped with embedded.Serialize when the
// server is FerretDB, whose conditional updates are not atomic (the
// wrapper exists for it alone), and s itself on MongoDB.
func serializeOnFerretDB(t testing.TB, s *mongo.Store) sdk.Store {
	t.Helper()
	var info bson.M
	if err := s.Database().RunCommand(t.Context(), bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatalf("buildInfo: %v", err)
	}
	if _, ferret := info["ferretdbVersion"]; ferret {
		return embedded.Serialize(s, nil)
	}
	return s
}

// args prefixes a roster command line with the database flags.
func (d database) args(args ...string) []string {
	return append([]string{"--mongo-uri", d.uri, "--db", d.name}, args...)
}

// roster runs one roster command on the database, bounded by timeout, and
// returns its stdout; it fails the test if the command fails.
func (d database) roster(t testing.TB, timeout time.Duration, args ...string) string {
	t.Helper()
	out, errOut, err := d.tryRoster(t, timeout, args...)
	if err != nil {
		t.Fatalf("roster %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// tryRoster runs one roster command on the database and returns its
// stdout, stderr and error.
func (d database) tryRoster(t testing.TB, timeout time.Duration, args ...string) (string, string, error) {
	t.Helper()
	bin := rosterBinary(t) // built on first use, outside the command's timeout
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, d.args(args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timeout %s)", ctx.Err(), timeout)
	}
	return stdout.String(), stderr.String(), err
}

// createTenant creates a tenant with the CLI and returns it.
func (d database) createTenant(t testing.TB, slug, owner string, seats int) {
	t.Helper()
	d.roster(t, time.Minute, "tenant", "create", slug, "--owner-email", owner, "--seats", strconv.Itoa(seats))
}

// createToken creates a SCIM token with the CLI and returns it.
func (d database) createToken(t testing.TB, slug string) string {
	t.Helper()
	tok := strings.TrimSpace(d.roster(t, time.Minute, "token", "create", "--tenant", slug))
	if tok == "" || strings.ContainsAny(tok, " \n") {
		t.Fatalf("roster token create printed %q, want the token alone", tok)
	}
	return tok
}

// server is a 'roster serve' process on 127.0.0.1.
type server struct {
	t      testing.TB
	cmd    *exec.Cmd
	URL    string
	log    *syncBuffer
	exited chan struct{}
	err    error // the process's exit, once exited is closed
}

var listenLine = regexp.MustCompile(`msg=listening url=(http://127\.0\.0\.1:\d+)`)

// startServer starts 'roster serve' on the database, on a free port of
// 127.0.0.1, and waits until it answers /healthz with 200. The test's
// cleanup kills it if it still runs, and shows its log if the test failed.
// extra are more serve flags.
func (d database) startServer(t testing.TB, extra ...string) *server {
	t.Helper()
	args := append(d.args("serve", "--addr", "127.0.0.1:0", "--shutdown-timeout", "5s"), extra...)
	cmd := exec.Command(rosterBinary(t), args...)
	s := &server{t: t, cmd: cmd, log: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting roster serve: %v", err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("roster serve (pid %d) log:\n%s", cmd.Process.Pid, tail(s.log.String(), 4000))
		}
	})
	m, err := s.log.waitFor(listenLine, 60*time.Second, s.exited)
	if err != nil {
		t.Fatalf("roster serve did not start listening: %v\n%s", err, s.log.String())
	}
	s.URL = m[1]
	if err := s.waitHealthy(60 * time.Second); err != nil {
		t.Fatalf("roster serve at %s: %v\n%s", s.URL, err, s.log.String())
	}
	return s
}

// waitHealthy polls /healthz until it answers 200.
func (s *server) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get(s.URL + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited: %v", s.err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill kills the server with SIGKILL and waits for it to exit.
func (s *server) Kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// Stop asks the server to shut down with SIGTERM and waits up to 20 s
// before killing it.
func (s *server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.t.Errorf("roster serve did not stop within 20s of SIGTERM")
		s.Kill()
	}
}

// waitLog waits until the server's log matches re.
func (s *server) waitLog(re *regexp.Regexp, timeout time.Duration) []string {
	s.t.Helper()
	m, err := s.log.waitFor(re, timeout, s.exited)
	if err != nil {
		s.t.Fatalf("roster serve log: waiting for %q: %v\n%s", re, err, tail(s.log.String(), 4000))
	}
	return m
}

// syncBuffer is a bytes.Buffer safe for one writer and many readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls until the buffer matches re, the timeout passes or done
// is closed.
func (b *syncBuffer) waitFor(re *regexp.Regexp, timeout time.Duration, done <-chan struct{}) ([]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m, nil
		}
		select {
		case <-done:
			if m := re.FindStringSubmatch(b.String()); m != nil {
				return m, nil
			}
			return nil, errors.New("the process exited")
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("not within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// scimClient sends SCIM requests to one tenant of one server.
type scimClient struct {
	base  string // .../scim/v2/SLUG
	token string
	hc    *http.Client
}

func newSCIMClient(s *server, slug, token string) *scimClient {
	return &scimClient{
		base:  s.URL + "/scim/v2/" + slug,
		token: token,
		hc: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 16},
		},
	}
}

// scimResponse is a decoded SCIM response.
type scimResponse struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// do sends one request; body is JSON or "", header holds pairs of extra
// header names and values. A 429 is retried after its Retry-After, a few
// times.
func (c *scimClient) do(ctx context.Context, method, path, body string, header ...string) (*scimResponse, error) {
	for attempt := 0; ; attempt++ {
		r, err := c.once(ctx, method, path, body, header...)
		if err != nil || r.Status != http.StatusTooManyRequests || attempt == 5 {
			return r, err
		}
		wait, _ := strconv.Atoi(r.Header.Get("Retry-After"))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(max(wait, 1)) * time.Second):
		}
	}
}

func (c *scimClient) once(ctx context.Context, method, path, body string, header ...string) (*scimResponse, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/scim+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	r := &scimResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			return r, fmt.Errorf("%s %s: %d with a body that is not a JSON object: %w: %s", method, path, resp.StatusCode, err, raw)
		}
	}
	if r.Status != http.StatusNoContent && ct(resp) != "application/scim+json" {
		return r, fmt.Errorf("%s %s: %d with Content-Type %q", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return r, nil
}

func ct(resp *http.Response) string {
	v, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(v)
}

// must sends a request and fails the test unless it answers want.
func (c *scimClient) must(t testing.TB, want int, method, path, body string, header ...string) *scimResponse {
	t.Helper()
	r, err := c.do(t.Context(), method, path, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// str returns the string at a dotted path of the body ("" if absent).
func (r *scimResponse) str(path string) string {
	s, _ := dig(r.Body, path).(string)
	return s
}

// num returns the number at a dotted path of the body (-1 if absent).
func (r *scimResponse) num(path string) int {
	f, ok := dig(r.Body, path).(float64)
	if !ok {
		return -1
	}
	return int(f)
}

// dig walks a decoded JSON value along a dotted path; numeric segments
// index arrays.
func dig(v any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

const (
	schemaUser    = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup   = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// userJSON is a minimal SCIM User.
func userJSON(userName string) string {
	b, _ := json.Marshal(map[string]any{
		"schemas":  []string{schemaUser},
		"userName": userName,
		"name":     map[string]string{"givenName": "Given", "familyName": "Family"},
		"emails":   []map[string]any{{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	})
	return string(b)
}

// membersPatch is a PatchOp adding ("add") or removing ("remove") members.
func membersPatch(op string, ids []string) string {
	vals := make([]map[string]string, len(ids))
	for i, id := range ids {
		vals[i] = map[string]string{"value": id}
	}
	b, _ := json.Marshal(map[string]any{
		"schemas":    []string{schemaPatchOp},
		"Operations": []map[string]any{{"op": op, "path": "members", "value": vals}},
	})
	return string(b)
}

// tenantState is what the checks read back from the database.
type tenantState struct {
	tenant  *sdk.Tenant
	members []*sdk.Member
}

// readTenant reads a tenant and all its members from the database in one
// streamed query.
func readTenant(t testing.TB, c *sdk.Client, s *mongo.Store, slug string) tenantState {
	t.Helper()
	ctx := t.Context()
	tn, err := c.TenantBySlug(ctx, slug)
	if err != nil {
		t.Fatalf("TenantBySlug(%s): %v", slug, err)
	}
	var ms []*sdk.Member
	if err := s.ScanMembers(ctx, tn.ID, func(m *sdk.Member) error {
		ms = append(ms, m)
		return nil
	}); err != nil {
		t.Fatalf("ScanMembers(%s): %v", slug, err)
	}
	return tenantState{tenant: tn, members: ms}
}

// checkInvariants checks what must hold of a tenant at rest: unique
// emails and external ids, exactly one owner (the tenant's), a seat
// counter equal to the members holding a seat, and no more of those than
// the seat limit.
func (st tenantState) checkInvariants(t testing.TB) {
	t.Helper()
	emails := map[string]string{}
	ext := map[string]string{}
	owners := 0
	for _, m := range st.members {
		key := strings.ToLower(m.Email)
		if prev, dup := emails[key]; dup {
			t.Errorf("email %s held by members %s and %s", m.Email, prev, m.ID)
		}
		emails[key] = m.ID
		if m.ExternalID != "" {
			if prev, dup := ext[m.ExternalID]; dup {
				t.Errorf("external id %s held by members %s and %s", m.ExternalID, prev, m.ID)
			}
			ext[m.ExternalID] = m.ID
		}
		if m.Role == st.tenant.OwnerRole() {
			owners++
			if m.ID != st.tenant.OwnerID {
				t.Errorf("member %s (%s) has the owner role but the tenant's owner is %s", m.ID, m.Email, st.tenant.OwnerID)
			}
		}
	}
	if owners != 1 {
		t.Errorf("%d members have the owner role, want exactly 1", owners)
	}
	if _, ok := emailsByID(st.members)[st.tenant.OwnerID]; !ok {
		t.Errorf("the tenant's owner %s is not a member", st.tenant.OwnerID)
	}
	held := st.seatsHeld()
	if st.tenant.SeatsUsed != held {
		t.Errorf("seat counter %d, but %d members hold a seat", st.tenant.SeatsUsed, held)
	}
	if held > st.tenant.SeatLimit() {
		t.Errorf("%d members hold a seat, over the limit of %d", held, st.tenant.SeatLimit())
	}
}

// seatsHeld counts the members holding a seat under the tenant's setting.
func (st tenantState) seatsHeld() int {
	n := 0
	for _, m := range st.members {
		if st.tenant.Settings.HoldsSeat(m.Status) {
			n++
		}
	}
	return n
}

func emailsByID(ms []*sdk.Member) map[string]string {
	out := make(map[string]string, len(ms))
	for _, m := range ms {
		out[m.ID] = m.Email
	}
	return out
}

// groupMembers returns a group's member ids, all pages, and fails the test
// if an id appears twice.
func groupMembers(t testing.TB, c *sdk.Client, tenantID, groupID string) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	opts := sdk.ListOptions{PageSize: sdk.MaxPageSize}
	for range 1000 {
		p, err := c.GroupMembers(t.Context(), tenantID, groupID, opts)
		if err != nil {
			t.Fatalf("GroupMembers: %v", err)
		}
		for _, id := range p.Items {
			if seen[id] {
				t.Errorf("member %s listed twice in group %s", id, groupID)
			}
			seen[id] = true
			ids = append(ids, id)
		}
		if p.NextCursor == "" {
			return ids
		}
		opts.Cursor = p.NextCursor
	}
	t.Fatal("GroupMembers: more than 1000 pages")
	return nil
}
