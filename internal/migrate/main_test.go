package migrate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/mongo"
)

// mongoURI is the URI of the FerretDB, the mongo store's test double,
// that TestMain starts in-process; every test copies into a database of
// its own on it. Set ROSTER_TEST_MONGODB_URI to copy into a real MongoDB
// instead.
var mongoURI string

var dbSeq atomic.Int64

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	if uri := os.Getenv("ROSTER_TEST_MONGODB_URI"); uri != "" {
		mongoURI = uri
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "roster-migrate-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(context.Background(), embedded.Config{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting FerretDB:", err)
		return 1
	}
	defer srv.Close()
	mongoURI = srv.URI()
	return m.Run()
}

// openTarget opens a mongo store on a database no other test uses. The
// copy writes one command at a time, so the store needs no
// embedded.Serialize.
func openTarget(t *testing.T) *mongo.Store {
	t.Helper()
	s, err := mongo.Open(t.Context(), mongoURI, fmt.Sprintf("roster_migrate_%03d", dbSeq.Add(1)),
		mongo.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("mongo.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}
