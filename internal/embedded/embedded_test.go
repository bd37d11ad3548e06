package embedded

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// roundTrip inserts a document through uri and reads it back.
func roundTrip(t *testing.T, uri, value string) {
	t.Helper()
	ctx := t.Context()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	defer func() { _ = c.Disconnect(ctx) }()
	coll := c.Database("embedded_test").Collection("docs")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "v", Value: value}}); err != nil {
		t.Fatalf("insert through %s: %v", uri, err)
	}
	var got struct{ V string }
	if err := coll.FindOne(ctx, bson.D{{Key: "v", Value: value}}).Decode(&got); err != nil {
		t.Fatalf("find through %s: %v", uri, err)
	}
	if got.V != value {
		t.Fatalf("got %q, want %q", got.V, value)
	}
}

func count(t *testing.T, uri string) int64 {
	t.Helper()
	ctx := t.Context()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Disconnect(ctx) }()
	n, err := c.Database("embedded_test").Collection("docs").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStartServesAndPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URI(), "mongodb://%2F") {
		t.Errorf("URI = %q, want an escaped socket path", s.URI())
	}
	sockDir := s.sockDir
	roundTrip(t, s.URI(), "one")
	roundTrip(t, s.URI(), "two")
	if _, err := os.Stat(filepath.Join(dir, DBDir)); err != nil {
		t.Errorf("database directory: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(sockDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory after Close: %v, want it removed", err)
	}

	// The data survives a restart, and the lock was released.
	s, err = Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(t, s.URI()); n != 2 {
		t.Errorf("after restart: %d documents, want 2", n)
	}
}

func TestSecondStartFails(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	_, err = Start(t.Context(), Config{Dir: dir})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Start: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "data directory "+dir+": another process holds its lock") {
		t.Errorf("message %q does not say another process holds the lock of %s", err, dir)
	}
	// The first server is unharmed.
	roundTrip(t, s.URI(), "still")
}

func TestUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "data")
	_, err := Start(t.Context(), Config{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "cannot create data directory "+dir) {
		t.Fatalf("Start under a file: %v, want a message naming %s", err, dir)
	}

	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		_, err = Start(t.Context(), Config{Dir: ro})
		if err == nil || !strings.Contains(err.Error(), "data directory "+ro+" is not writable") {
			t.Fatalf("Start on a read-only directory: %v", err)
		}
	}
}

// TestLongDir checks that a data directory whose path is longer than a
// Unix socket's works: FerretDB's socket is not in it.
func TestLongDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	s, err := Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	roundTrip(t, s.URI(), "long")
}
