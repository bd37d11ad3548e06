package migrate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/rosterhq/roster/mongo"
)

// mongoURI is the MongoDB URI of the FerretDB (SQLite handler) TestMain
// starts in-process; every test copies into a database of its own on it.
// Set ROSTER_TEST_MONGODB_URI to copy into a real MongoDB instead.
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
	mongoURI = f.MongoDBURI()
	code := m.Run()
	cancel()
	<-done
	return code
}

// openTarget opens a mongo store on a database no other test uses.
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
