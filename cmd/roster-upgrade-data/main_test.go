package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/embedded"
	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/internal/migrate/migratetest"
	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sqlite"
)

// TestConvert writes a data directory as the earlier Roster did (the mongo
// store on the embedded FerretDB, database "roster"), converts it, and
// checks that the SQLite store holds the same records and behaves as the
// source; the earlier files stay, and a second run changes nothing.
func TestConvert(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	src := migratetest.NewSource(t, 2)
	srv, err := embedded.Start(ctx, embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	old, err := mongo.Open(ctx, srv.URI(), "roster")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Copy(ctx, src.Store, old, migrate.Options{}); err != nil {
		t.Fatalf("writing the earlier data directory: %v", err)
	}
	_ = old.Close(ctx)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	var out, errb bytes.Buffer
	// A --db the earlier roster did not use holds nothing: refused, and
	// nothing put in place.
	if code := run(ctx, []string{"--data", dir, "--db", "other"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), `database "other"`) || !strings.Contains(errb.String(), "roster") {
		t.Errorf("a wrong --db: exit %d\n%s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "roster.db")); !os.IsNotExist(err) {
		t.Fatalf("roster.db after a refused conversion: %v", err)
	}
	errb.Reset()
	if code := run(ctx, []string{"--data", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "Converted 5 tenant(s)") || !strings.Contains(out.String(), "roster serve --data "+dir) {
		t.Errorf("output:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); err != nil {
		t.Errorf("the earlier files are gone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "roster.db.partial")); !os.IsNotExist(err) {
		t.Errorf("roster.db.partial left behind: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	migratetest.Compare(t, src.Store, st, src.TenantIDs())

	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"--data", dir}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "already in the SQLite format") {
		t.Errorf("second run: exit %d\n%s", code, errb.String())
	}
	migratetest.Behaves(t, src, st)
}

func TestConvertRefusals(t *testing.T) {
	var out, errb bytes.Buffer
	empty := t.TempDir()
	if code := run(t.Context(), []string{"--data", empty}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no earlier embedded database") {
		t.Errorf("a directory without db/: exit %d\n%s", code, errb.String())
	}
	errb.Reset()
	if code := run(t.Context(), []string{"--data", empty, "extra"}, &out, &errb); code != 2 {
		t.Errorf("an extra argument: exit %d\n%s", code, errb.String())
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("the refused directory was written to: %v", entries)
	}
}
