package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// staffCSV is an HR export of n people, p0000@acme.test on, with a
// column the sync ignores.
func staffCSV(n int) string {
	var b strings.Builder
	b.WriteString("email,given_name,status,Favourite Colour\n")
	for i := range n {
		fmt.Fprintf(&b, "p%05d@acme.test,P%d,active,blue\n", i, i)
	}
	return b.String()
}

// runBinIn runs the binary to completion with stdin as its input.
func runBinIn(t *testing.T, bin, stdin string, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// TestSyncGuardsBinary drives the built binary through each guard of a
// deprovisioning sync on the embedded store.
func TestSyncGuardsBinary(t *testing.T) {
	t.Parallel()
	bin := buildRoster(t)
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	run := func(args ...string) result {
		t.Helper()
		return runBin(t, bin, append(append([]string{"sync", "--tenant", "acme"}, args...), data)...)
	}
	if r := runBin(t, bin, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", "200", data); r.code != 0 {
		t.Fatal(r)
	}
	// 120 members: the owner and 119 from the file.
	all := writeFile(t, dir, "all.csv", staffCSV(119))
	if r := run("--file", all); r.code != 0 {
		t.Fatal(r)
	}
	// active counts the tenant's active members, failing the test unless
	// there are 120 members in all.
	active := func() int {
		t.Helper()
		r := runBin(t, bin, "member", "list", "--tenant", "acme", "--json", data)
		var ms []sdk.Member
		if err := json.Unmarshal([]byte(r.stdout), &ms); err != nil {
			t.Fatalf("member list: %v\n%s", err, r)
		}
		n := 0
		for _, m := range ms {
			if m.Status == sdk.StatusActive {
				n++
			}
		}
		if len(ms) != 120 {
			t.Fatalf("%d members, want 120", len(ms))
		}
		return n
	}
	refused := func(what string, r result, msgs ...string) {
		t.Helper()
		if r.code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s", what, r.code, r)
		}
		for _, m := range msgs {
			if !strings.Contains(r.stderr, m) {
				t.Errorf("%s: stderr lacks %q\n%s", what, m, r.stderr)
			}
		}
	}

	// A header-only file never deprovisions, not even forced.
	header := writeFile(t, dir, "header-only.csv", "email,given_name\n")
	refused("header only", run("--file", header, "--deprovision", "delete"), "empty-input guard (empty_input)", "nothing was written")
	refused("header only, forced", run("--file", header, "--deprovision", "delete", "--force"), "empty-input guard (empty_input)")
	refused("header only, stdin", runBinIn(t, bin, "email\n", "sync", "--tenant", "acme", "--file", "-", "--deprovision", "deactivate", data),
		"stdin: refused by the empty-input guard")
	// An empty file is refused by the reader.
	empty := writeFile(t, dir, "empty.csv", "")
	refused("empty", run("--file", empty, "--deprovision", "delete"), "the file is empty", "nothing was written")
	if n := active(); n != 120 {
		t.Fatalf("after the empty inputs %d active, want 120", n)
	}

	// A file of 10 would deactivate 109 (the owner stays): over the
	// default limit of max(12, 50).
	few := writeFile(t, dir, "few.csv", staffCSV(10))
	guard := []string{"deprovisioning guard (deprovision_limit)", "109", "limit of 50", "--max-deprovision", "--force", "nothing was written"}
	refused("default limit", run("--file", few, "--deprovision", "deactivate"), guard...)
	r := run("--file", few, "--deprovision", "deactivate", "--dry-run")
	refused("dry run", r, guard...)
	if !strings.Contains(r.stderr, "Dry run of") || !strings.Contains(r.stderr, "deactivated  109") || strings.Contains(r.stderr, "without --dry-run") {
		t.Errorf("dry run does not show its plan with the guard:\n%s", r.stderr)
	}
	refused("5%", run("--file", few, "--deprovision", "deactivate", "--max-deprovision", "5%"), "limit of 6")
	refused("108", run("--file", few, "--deprovision", "delete", "--max-deprovision", "108"), "limit of 108")
	if n := active(); n != 120 {
		t.Fatalf("after the refusals %d active, want 120", n)
	}
	if r := run("--file", few, "--deprovision", "deactivate", "--max-deprovision", "200"); r.code != 0 || !strings.Contains(r.stderr, "deactivated  109") {
		t.Fatalf("--max-deprovision 200: %s", r)
	}
	if n := active(); n != 11 {
		t.Fatalf("after deactivating %d active, want 11", n)
	}

	// From stdin, the whole file reactivates everyone; then --force lets
	// a deprovisioning past the limit through.
	r = runBinIn(t, bin, staffCSV(119), "sync", "--tenant", "acme", "--file", "-", data)
	if r.code != 0 || !strings.Contains(r.stderr, `Synced stdin into tenant "acme"`) || !strings.Contains(r.stderr, "reactivated  109") {
		t.Fatalf("stdin: %s", r)
	}
	if n := active(); n != 120 {
		t.Fatalf("after the stdin sync %d active, want 120", n)
	}
	if r := run("--file", few, "--deprovision", "deactivate", "--force"); r.code != 0 || !strings.Contains(r.stderr, "deactivated  109") {
		t.Fatalf("--force: %s", r)
	}
	if n := active(); n != 11 {
		t.Fatalf("after --force %d active, want 11", n)
	}
}

// TestSyncSIGINT interrupts a running sync of the binary: it exits 130
// and says what it did not process; a re-run finishes the job.
func TestSyncSIGINT(t *testing.T) {
	t.Parallel()
	bin := buildRoster(t)
	dir := t.TempDir()
	data := "--data=" + filepath.Join(dir, "data")
	const n = 3000
	if r := runBin(t, bin, "tenant", "create", "acme", "--owner-email", "ann@acme.test", "--seats", fmt.Sprint(n+10), data); r.code != 0 {
		t.Fatal(r)
	}
	big := writeFile(t, dir, "big.csv", staffCSV(n))
	var out, errb syncBuffer
	cmd := exec.Command(bin, "sync", "--tenant", "acme", "--file", big, "--json", data)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The ignored column is reported once the file is read, just before
	// the sync starts.
	for deadline := time.Now().Add(time.Minute); !strings.Contains(errb.String(), "ignored columns"); {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the sync did not start:\n%s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "run the sync again") {
		t.Errorf("stderr does not say a re-run finishes the job:\n%s", errb.String())
	}
	var s sdk.SyncSummary
	if out.String() != "" {
		if err := json.Unmarshal([]byte(out.String()), &s); err != nil {
			t.Fatalf("report: %v\n%s", err, out.String())
		}
		t.Logf("interrupted: %d created, %d not processed", s.Created, s.NotProcessed)
		if !s.Interrupted || s.NotProcessed == 0 || s.Failed != 0 || s.Created+s.NotProcessed != n {
			t.Fatalf("report of the interrupted sync: %+v", s)
		}
	}
	// Re-running finishes the job; once more changes nothing.
	r := runBin(t, bin, "sync", "--tenant", "acme", "--file", big, "--json", data)
	var again sdk.SyncSummary
	if err := json.Unmarshal([]byte(r.stdout), &again); r.code != 0 || err != nil || again.Created != n-s.Created {
		t.Fatalf("re-run (%d created before): %+v\n%s", s.Created, again, r)
	}
	r = runBin(t, bin, "sync", "--tenant", "acme", "--file", big, "--json", data)
	if err := json.Unmarshal([]byte(r.stdout), &again); r.code != 0 || err != nil || again.Unchanged != n || again.Created != 0 {
		t.Fatalf("third run: %+v\n%s", again, r)
	}
}

// cancelAfter is a store that cancels the command's context after its
// n-th create, as Ctrl-C between two writes would.
type cancelAfter struct {
	*memstore.Store
	n      atomic.Int32
	at     int32
	cancel context.CancelFunc
}

func (s *cancelAfter) CreateMember(ctx context.Context, w sdk.MemberWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.Store.CreateMember(ctx, w)
	if s.n.Add(1) == s.at {
		s.cancel()
	}
	return err
}

// TestSyncInterruptedExitCode checks, in-process, the report and the exit
// status of a sync whose context is cancelled while it writes, and of one
// cancelled before it starts.
func TestSyncInterruptedExitCode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := memstore.New()
	c := sdk.New(st)
	if _, _, err := c.CreateTenant(t.Context(), sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "acme", OwnerEmail: "ann@acme.test", IncludedSeats: 3000}); err != nil {
		t.Fatal(err)
	}
	big := writeFile(t, dir, "big.csv", staffCSV(2500))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb syncBuffer
	a := &app{stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
		open: func(context.Context, storeChoice, openMode, *slog.Logger) (*openedStore, error) {
			return &openedStore{store: &cancelAfter{Store: st, at: 1000, cancel: cancel}, where: "test store"}, nil
		}}
	code := run(ctx, []string{"sync", "--tenant", "acme", "--file", big}, a)
	if code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, errb.String())
	}
	for _, want := range []string{"created        1000", "failed         0", "not processed  1500",
		"Interrupted: the sync stopped after the batch in flight; 1000 change(s) written, 1500 not processed. Run the same sync again",
		"roster: interrupted: 1500 change(s) not processed; run the sync again"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}

	// Cancelled before it writes: nothing written, still 130.
	r := rosterCancelled(t, st, "sync", "--tenant", "acme", "--file", big)
	if r.code != 130 || !strings.Contains(r.stderr, "run the sync again") {
		t.Fatalf("cancelled before the start: %s", r)
	}
	// The re-run finishes the job.
	r = rosterOn(t, st, "sync", "--tenant", "acme", "--file", big, "--json")
	if s := summary(t, r); r.code != 0 || s.Created != 1500 || s.Unchanged != 1000 {
		t.Fatalf("re-run: %+v\n%s", s, r)
	}
}

// rosterCancelled runs a command on st with an already cancelled context.
func rosterCancelled(t *testing.T, st sdk.Store, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	a := &app{stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
		open: func(context.Context, storeChoice, openMode, *slog.Logger) (*openedStore, error) {
			return &openedStore{store: st, where: "test store"}, nil
		}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	code := run(ctx, args, a)
	return result{code, out.String(), errb.String()}
}
