package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sqlite"
)

// BenchmarkServeStart measures how long the roster binary takes from its
// start to the first 200 answer of GET /healthz (serve answers 503 until
// its store is open, and nothing before it listens):
//
//   - data-100k: serve --data on a data directory holding a tenant of
//     100,000 members, written once, before the measurement, through the
//     SQLite store directly;
//   - memory: serve --memory, the baseline of a process start with nothing
//     to open.
//
// The binary is built (go build, without -race) once, into a temporary
// directory. Each start is stopped with SIGINT, and waited for, outside
// the timed part.
//
//	go test ./cmd/roster -run '^$' -bench BenchmarkServeStart -benchtime 10x
//
// The bar: healthy in at most 2 s on the 100,000-member directory.
func BenchmarkServeStart(b *testing.B) {
	bin := buildBenchBinary(b)
	dir := filepath.Join(b.TempDir(), "data")
	writeDataDir(b, dir, 100_000)
	for _, s := range []struct {
		name string
		args []string
	}{
		{"memory", []string{"--memory"}},
		{"data-100k", []string{"--data", dir}},
	} {
		b.Run(s.name, func(b *testing.B) {
			var slowest time.Duration
			for range b.N {
				slowest = max(slowest, startUntilHealthy(b, bin, s.args))
			}
			b.ReportMetric(float64(slowest.Milliseconds()), "max-ms")
		})
	}
}

// buildBenchBinary builds the roster binary into a temporary directory.
func buildBenchBinary(b *testing.B) string {
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skip("no go tool in PATH to build the binary")
	}
	bin := filepath.Join(b.TempDir(), "roster")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeDataDir makes dir a data directory holding one tenant of members
// members (and its owner), written through the SQLite store as serve
// would open it.
func writeDataDir(b *testing.B, dir string, members int) {
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, dbFile))
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}()
	c := sdk.New(st, sdk.WithLogger(quietLog))
	t, _, err := c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{Slug: "big", OwnerEmail: "owner@big.test", IncludedSeats: 2 * members})
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]sdk.SyncRecord, members)
	for i := range recs {
		recs[i] = sdk.SyncRecord{Email: fmt.Sprintf("p%06d@big.test", i),
			Profile: sdk.Profile{ExternalID: fmt.Sprintf("E%06d", i), GivenName: "Given", FamilyName: fmt.Sprint("F", i), Title: "Staff"}}
	}
	rep, err := c.Sync(ctx, sdk.SyncActor("bench"), t.ID, recs, sdk.SyncOptions{})
	if err != nil || len(rep.Created) != members {
		b.Fatalf("writing %d members: %v (%d created, failures %v)", members, err, len(rep.Created), rep.Failed)
	}
	if n, err := c.CountMembers(ctx, t.ID, sdk.ListMembersOptions{}); err != nil || n != members+1 {
		b.Fatalf("the data directory holds %d members (%v), want %d", n, err, members+1)
	}
}

// startUntilHealthy starts 'bin serve args' on a free loopback port, times
// it until GET /healthz answers 200, then stops it (SIGINT, untimed) and
// fails the benchmark unless it exits cleanly. It returns the time taken.
func startUntilHealthy(b *testing.B, bin string, args []string) time.Duration {
	b.StopTimer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	var stderr syncBuffer
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = cleanEnv()
	cmd.Stderr = &stderr
	exited := make(chan error, 1)
	client := &http.Client{Timeout: time.Second}
	healthz := "http://" + addr + "/healthz"

	b.StartTimer()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { exited <- cmd.Wait() }()
	for {
		if res, err := client.Get(healthz); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			b.Fatalf("serve exited before it was healthy: %v\n%s", err, stderr.String())
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(start) > time.Minute {
			_ = cmd.Process.Kill()
			b.Fatalf("serve not healthy after a minute:\n%s", stderr.String())
		}
	}
	took := time.Since(start)
	b.StopTimer()

	client.CloseIdleConnections()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			b.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		b.Fatalf("serve did not stop:\n%s", stderr.String())
	}
	b.StartTimer()
	return took
}
