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
)

// ferretURI is the MongoDB URI of the FerretDB (SQLite handler) that
// TestMain starts in-process for the whole test binary; every test gets a
// database of its own on it. Set ROSTER_TEST_MONGODB_URI to run the tests
// against a real MongoDB instead.
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

// openStore opens a store on a fresh database and closes it when the test
// ends.
func openStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), ferretURI, newDBName(), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}
