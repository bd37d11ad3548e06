package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataDirectoryRefusals checks that a data directory Roster cannot use
// is refused by serve and by the admin commands with an error naming its
// path, exit 1, and nothing written.
func TestDataDirectoryRefusals(t *testing.T) {
	t.Parallel()

	// The earlier embedded format (FerretDB's files under db/).
	legacy := t.TempDir()
	if err := os.MkdirAll(filepath.Join(legacy, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(legacy, "db", "roster.sqlite"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0"},
		{"tenant", "list"},
		{"tenant", "create", "acme", "--owner-email", "ann@acme.test"},
	} {
		r := roster(t, nil, append(args, "--data", legacy)...)
		if r.code != 1 || !strings.Contains(r.stderr, "data directory "+legacy+" holds the embedded database of an earlier Roster") ||
			!strings.Contains(r.stderr, "go run ./cmd/roster-upgrade-data --data "+legacy) {
			t.Errorf("%v on the earlier format: %s", args, r)
		}
	}
	if _, err := os.Stat(filepath.Join(legacy, dbFile)); !os.IsNotExist(err) {
		t.Errorf("%s created in a refused directory: %v", dbFile, err)
	}

	// A roster.db that is not a Roster database is left byte for byte.
	foreign := t.TempDir()
	junk := bytes.Repeat([]byte("not a database\n"), 300)
	if err := os.WriteFile(filepath.Join(foreign, dbFile), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"tenant", "list"}} {
		r := roster(t, nil, append(args, "--data", foreign)...)
		if r.code != 1 || !strings.Contains(r.stderr, filepath.Join(foreign, dbFile)) {
			t.Errorf("%v on a foreign file: %s", args, r)
		}
	}
	if b, err := os.ReadFile(filepath.Join(foreign, dbFile)); err != nil || !bytes.Equal(b, junk) {
		t.Errorf("the foreign file was changed: %v", err)
	}

	// A missing directory, for an admin command that only reads.
	missing := filepath.Join(t.TempDir(), "nope")
	wantFail(t, roster(t, nil, "tenant", "list", "--data", missing), "data directory "+missing+" does not exist")
}

// TestBackup copies a data directory with 'roster backup' beside a running
// server, restores the copy into a new directory and finds the data there.
func TestBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{envBootTenant: "acme", envBootOwner: "ann@acme.test", envData: dir}
	s := startServe(t, env)
	mustRun(t, env, "member", "add", "--tenant", "acme", "--email", "bob@acme.test")

	file := filepath.Join(t.TempDir(), "backup.db")
	r := mustRun(t, env, "backup", "--to", file, "--json")
	var out struct {
		File          string
		Bytes         int64
		SchemaVersion int
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.File != file || out.Bytes <= 0 || out.SchemaVersion < 1 {
		t.Fatalf("backup --json: %v %+v\n%s", err, out, r)
	}
	// Never over an existing file.
	wantFail(t, roster(t, env, "backup", "--to", file), file+" exists: roster backup never overwrites")
	wantFail(t, roster(t, env, "backup"), "--to FILE is required")
	wantFail(t, roster(t, env, "backup", "--to", filepath.Join(t.TempDir(), "b.db"), "--mongo-uri", "mongodb://127.0.0.1:1"), "works on a data directory")
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}

	restored := t.TempDir()
	if err := os.Rename(file, filepath.Join(restored, dbFile)); err != nil {
		t.Fatal(err)
	}
	ms := members(t, nil, "--data="+restored, "acme")
	if _, ok := ms["bob@acme.test"]; len(ms) != 2 || !ok {
		t.Errorf("members in the restored copy: %v", ms)
	}
}
