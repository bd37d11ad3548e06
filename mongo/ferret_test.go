package mongo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/sdk"
)

// ferretURI is the MongoDB URI of the FerretDB (SQLite handler) that
// TestMain starts for the whole test binary; every test gets a database of
// its own on it. FerretDB runs as a process of its own built without the
// race detector (mongo/internal/ferretserver; in-process when no go tool
// is at hand): what the tests check is this package and the driver, and
// under -race FerretDB's debug build took a stack trace for every iterator
// it opened. Set ROSTER_TEST_MONGODB_URI to run the tests against a real
// MongoDB instead. The slowest tests, which change no package state, run
// in parallel (t.Parallel).
var ferretURI string

var dbSeq atomic.Int64

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if uri := os.Getenv("ROSTER_TEST_MONGODB_URI"); uri != "" {
		ferretURI = uri
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "roster-mongo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	stop, err := startFerretProcess(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FerretDB in a process of its own:", err, "- running it in-process")
		stop, err = startFerretInProcess(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting FerretDB:", err)
		return 1
	}
	defer stop()
	return m.Run()
}

// startFerretProcess builds mongo/internal/ferretserver without the race
// detector (the build cache makes it a link after the first time), runs
// it on dir and sets ferretURI. stop ends it by closing its standard
// input, then kills it if it does not exit.
func startFerretProcess(dir string) (stop func(), err error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "ferretserver")
	if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/rosterhq/roster/mongo/internal/ferretserver").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-data", data)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return nil, fmt.Errorf("reading its URI: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	ferretURI = strings.TrimSpace(line)
	return stop, nil
}

// startFerretInProcess runs FerretDB in this process on dir and sets
// ferretURI.
func startFerretInProcess(dir string) (stop func(), err error) {
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	ferretURI = f.MongoDBURI()
	return func() { cancel(); <-done }, nil
}

func newDBName() string { return fmt.Sprintf("roster_test_%03d", dbSeq.Add(1)) }

// testStore is a store as the tests use it: the contract's methods go
// through embedded.Serialize, as those of the embedded server's store do
// (FerretDB v1 needs it), while the mongo store itself — its collections,
// Client, Database and the methods outside the contract — is reachable
// one level down.
type testStore struct {
	sdk.Store
	*mongoStore
}

// mongoStore holds the mongo store one level below testStore's sdk.Store,
// so that the contract's methods resolve to the latter.
type mongoStore struct{ *Store }

// raw returns the mongo store.
func (s *testStore) raw() *Store { return s.mongoStore.Store }

// CreateMembers and AppendAudits write: they go through the wrapper too.
func (s *testStore) CreateMembers(ctx context.Context, ws []sdk.MemberWrite) []error {
	return s.Store.(sdk.BulkMemberStore).CreateMembers(ctx, ws)
}

func (s *testStore) AppendAudits(ctx context.Context, es []*sdk.AuditEvent) error {
	return s.Store.(sdk.BulkMemberStore).AppendAudits(ctx, es)
}

// openStore opens a store on a fresh database, serialised as the embedded
// server's is, and closes it when the test ends.
func openStore(t testing.TB, opts ...Option) *testStore {
	t.Helper()
	s := openUnserialized(t, opts...)
	s.Store = embedded.Serialize(s.raw(), nil)
	return s
}

// openUnserialized is openStore without the serialisation: the tests of
// the seat protocol race its steps against each other on purpose, one
// command at a time, and need no serialisation (and must not have it).
func openUnserialized(t testing.TB, opts ...Option) *testStore {
	t.Helper()
	s, err := Open(t.Context(), ferretURI, newDBName(), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return &testStore{Store: s, mongoStore: &mongoStore{s}}
}
