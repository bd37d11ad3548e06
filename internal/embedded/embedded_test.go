package embedded

import (
	"errors"
	"net"
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
	s, err := Start(t.Context(), Config{Dir: dir, TCP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URI(), "mongodb://%2F") {
		t.Errorf("URI = %q, want an escaped socket path", s.URI())
	}
	roundTrip(t, s.URI(), "private")
	if !strings.HasPrefix(s.ProxyURI(), "mongodb://%2F") || s.ProxyURI() == s.URI() {
		t.Errorf("ProxyURI = %q, want the escaped path of another socket than %q", s.ProxyURI(), s.URI())
	}
	roundTrip(t, s.ProxyURI(), "socket")
	if s.TCPURI() == "" {
		t.Fatal("TCPURI is empty with Config.TCP set")
	}
	roundTrip(t, s.TCPURI(), "tcp")
	if _, err := os.Stat(filepath.Join(dir, DBDir)); err != nil {
		t.Errorf("database directory: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(s.Socket()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Close: %v, want it removed", err)
	}

	// The data survives a restart, and the lock was released.
	s, err = Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(t, s.URI()); n != 3 {
		t.Errorf("after restart: %d documents, want 3", n)
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
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || le.Dir != dir {
		t.Errorf("second Start: %#v, want LockedError{Dir: %s, PID: %d}", le, dir, os.Getpid())
	}
	if !strings.Contains(err.Error(), "already running on data directory "+dir) {
		t.Errorf("message %q does not say a server is running on %s", err, dir)
	}
	// The first server is unharmed.
	roundTrip(t, s.URI(), "still")
}

func TestConnectUsesRunningServer(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	c, err := Connect(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server() != nil {
		t.Fatal("Connect started a server although one is running")
	}
	if c.URI() != s.ProxyURI() || c.Gate() != nil {
		t.Errorf("Connect URI = %q, gate %p; want the running server's proxy %q and no gate", c.URI(), c.Gate(), s.ProxyURI())
	}
	roundTrip(t, c.URI(), "via connect")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s.URI()); n != 1 {
		t.Errorf("server sees %d documents, want 1", n)
	}
}

func TestConnectStartsServer(t *testing.T) {
	dir := t.TempDir()
	c, err := Connect(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server() == nil {
		t.Fatal("Connect did not start a server on an idle directory")
	}
	if c.URI() != c.Server().URI() || c.Gate() != c.Server().Gate() {
		t.Errorf("Connect on an idle directory: URI %q, want the private %q, with the server's gate", c.URI(), c.Server().URI())
	}
	roundTrip(t, c.URI(), "own")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// The lock is free again.
	s, err := Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestStaleSocketRemoved(t *testing.T) {
	dir := t.TempDir()
	// A crashed server leaves its socket file and lock file contents.
	sock := filepath.Join(dir, SocketFile)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if err := os.WriteFile(filepath.Join(dir, LockFile), []byte(`{"pid":1,"socket":"`+sock+`","uri":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Connect(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Server() == nil {
		t.Fatal("Connect trusted a stale lock file")
	}
	roundTrip(t, c.URI(), "fresh")
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

func TestLongPathFallsBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	s, err := Start(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if strings.HasPrefix(s.Socket(), dir) {
		t.Fatalf("socket %s is inside the long data directory", s.Socket())
	}
	c, err := Connect(t.Context(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server() != nil || c.URI() != s.ProxyURI() {
		t.Fatalf("Connect did not find the fallback socket: %q", c.URI())
	}
	roundTrip(t, c.URI(), "long")
}

func TestSocketURI(t *testing.T) {
	got := SocketURI("/tmp/a b+c/mongod.sock")
	want := "mongodb://%2Ftmp%2Fa+b%2Bc%2Fmongod.sock/"
	if got != want {
		t.Errorf("SocketURI = %q, want %q", got, want)
	}
}
