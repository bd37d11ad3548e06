package integration

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/migrate"
	"github.com/rosterhq/roster/internal/migrate/migratetest"
	"github.com/rosterhq/roster/sqlite"
)

// TestMigrateToMongo moves a data directory into the database container
// with 'roster migrate' as an operator would: a first run killed with
// SIGKILL part-way, a re-run that resumes it (skipping the tenants done)
// and ends with matching counts, the copy then equal record for record and
// working through the SDK, a third run refused on the non-empty target, and
// --allow-non-empty accepted.
func TestMigrateToMongo(t *testing.T) {
	const extra = 40 // small tenants beside the three rich ones, so that the copy can be killed part-way
	d := newDatabase(t)
	src := migratetest.NewSource(t, extra)
	dir := t.TempDir()
	data, err := sqlite.Open(t.Context(), filepath.Join(dir, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Copy(t.Context(), src.Store, data, migrate.Options{}); err != nil {
		t.Fatalf("building the data directory: %v", err)
	}
	if err := data.Close(); err != nil {
		t.Fatal(err)
	}
	args := []string{"migrate", "--to-mongo-uri", d.uri, "--db", d.name, "--data", dir}

	// First run, killed once a few tenants are done.
	cmd := exec.Command(rosterBinary(t), args...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if _, err := out.waitFor(regexp.MustCompile(`tenant 3/\d+ \S+: done`), 3*time.Minute, nil); err != nil {
		t.Fatalf("the first run did not get 3 tenants done: %v\n%s", err, tail(out.String(), 2000))
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	if err := <-exited; err == nil {
		t.Fatalf("the first run finished before the kill:\n%s", tail(out.String(), 2000))
	}

	// The re-run resumes and finishes.
	stdout, stderr := runRoster(t, 5*time.Minute, args...)
	if !regexp.MustCompile(`tenant \d+/\d+ \S+: skipped \(copied by an earlier run\)`).MatchString(stderr) ||
		!strings.Contains(stderr, "Counts match.") {
		t.Errorf("re-run after the kill:\n%s%s", stdout, tail(stderr, 3000))
	}
	for _, kind := range migrate.Collections {
		if !regexp.MustCompile(`(?m)^  ` + kind + ` +(\d+) in the data directory, +(\d+) in MongoDB$`).MatchString(stderr) {
			t.Errorf("no count line for %s:\n%s", kind, tail(stderr, 2000))
		}
	}

	// The snapshot the killed run left is gone with the re-run's own.
	if left, _ := filepath.Glob(filepath.Join(dir, "roster.db.migrate-snapshot*")); len(left) > 0 {
		t.Errorf("snapshots left in the data directory: %v", left)
	}

	// The copy holds every record and behaves as the source.
	_, store := d.open(t)
	data, err = sqlite.Open(t.Context(), filepath.Join(dir, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	migratetest.Compare(t, data, store, src.TenantIDs())

	// The target is not empty any more: a third run is refused, naming the
	// way forward; --allow-non-empty copies again, changing nothing.
	if _, stderr, err := tryRosterArgs(t, 5*time.Minute, args...); err == nil ||
		!strings.Contains(stderr, "already holds Roster data") || !strings.Contains(stderr, "--allow-non-empty") {
		t.Errorf("third run: %v\n%s", err, stderr)
	}
	runRoster(t, 5*time.Minute, append(args, "--allow-non-empty", "--json")...)
	migratetest.Compare(t, data, store, src.TenantIDs())

	// Last, as it writes: the copy works through the SDK as the source did.
	migratetest.Behaves(t, src, serializeOnFerretDB(t, store))
}

// runRoster runs roster with exactly args, bounded by timeout, and returns
// its stdout and stderr; it fails the test if the command fails.
func runRoster(t testing.TB, timeout time.Duration, args ...string) (string, string) {
	t.Helper()
	stdout, stderr, err := tryRosterArgs(t, timeout, args...)
	if err != nil {
		t.Fatalf("roster %s: %v\n%s", redact(strings.Join(args, " ")), err, tail(stderr, 3000))
	}
	return stdout, stderr
}

// tryRosterArgs runs roster with exactly args, bounded by timeout.
func tryRosterArgs(t testing.TB, timeout time.Duration, args ...string) (string, string, error) {
	t.Helper()
	bin := rosterBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return stdout.String(), stderr.String(), err
}
