package mongo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/sdk"
)

// ferretURI is the MongoDB URI of the FerretDB (SQLite handler) that
// TestMain starts in-process for the whole test binary; every test gets a
// database of its own on it. Set ROSTER_TEST_MONGODB_URI to run the tests
// against a real MongoDB instead. The slowest tests, which change no
// package state, run in parallel (t.Parallel): a test on FerretDB under
// -race keeps about one processor busy.
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
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting FerretDB:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	ferretURI = f.MongoDBURI()
	code := m.Run()
	cancel()
	<-done
	return code
}

// newDBName returns a database name no other test uses.
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
