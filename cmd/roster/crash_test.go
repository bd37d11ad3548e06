package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKill9LosesNoAcknowledgedWrite kills 'roster serve' with SIGKILL while
// SCIM clients create users and an admin command adds members beside it,
// at a different moment each round, and checks after each kill that every
// write the server acknowledged (201) or the command reported is stored,
// and that the seat counter equals the seats members hold: SQLite commits
// each write in one transaction before the response is written, and the
// WAL survives the process. It then kills an HR sync midway and checks
// that a re-run converges.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	bin := buildRoster(t)
	dir := filepath.Join(t.TempDir(), "data")
	data := "--data=" + dir
	token := strings.Repeat("k", 40)
	env := []string{envBootTenant + "=crash", envBootOwner + "=owner@crash.test", envBootSeats + "=100000", envBootToken + "=" + token}

	const rounds, writers = 4, 3
	var acked []string // userNames acknowledged across rounds
	seq := 0
	for round := range rounds {
		srv, url, stderr, exited := startBin(t, bin, env, "serve", "--addr", "127.0.0.1:0", "--scim-rate", "0", data)
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			stop = make(chan struct{})
		)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("r%d-w%d-%d@crash.test", round, w, i)
					body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"active":true,"title":"t%d"}`, name, i)
					req, _ := http.NewRequest(http.MethodPost, url+"/scim/v2/crash/Users", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/scim+json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return // the server is gone
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusCreated {
						mu.Lock()
						acked = append(acked, name)
						mu.Unlock()
					} else {
						t.Errorf("POST %s: %d", name, resp.StatusCode)
					}
				}
			}()
		}
		// An admin command writing beside the server and its SCIM writers.
		seq++
		admin := exec.Command(bin, "member", "add", "--tenant", "crash", "--email", fmt.Sprintf("cli%d@crash.test", seq), data)
		admin.Env = cleanEnv()
		adminOut, adminErr := admin.CombinedOutput()

		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		if err := srv.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-exited
		close(stop)
		wg.Wait()
		if adminErr != nil {
			t.Fatalf("member add beside the server: %v\n%s", adminErr, adminOut)
		}
		acked = append(acked, fmt.Sprintf("cli%d@crash.test", seq))
		checkAfterKill(t, dir, acked, stderr.String())
	}
	if len(acked) < rounds*writers {
		t.Fatalf("only %d writes acknowledged in %d rounds: the test did not exercise the server", len(acked), rounds)
	}
	t.Logf("%d acknowledged writes survived %d kills", len(acked), rounds)

	// An HR sync killed midway: the store stays consistent, and a re-run
	// finishes the job.
	var csv strings.Builder
	csv.WriteString("email,givenName,familyName,title\n")
	const rows = 5000
	for i := range rows {
		fmt.Fprintf(&csv, "hr%d@crash.test,Given%d,Family%d,Title %d\n", i, i, i, i)
	}
	people := writeFile(t, t.TempDir(), "people.csv", csv.String())
	before := seatsUsed(t, dir)
	sync := exec.Command(bin, "sync", "--tenant", "crash", "--file", people, data)
	sync.Env = cleanEnv()
	if err := sync.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once some rows are in, at a random moment after.
	for deadline := time.Now().Add(2 * time.Minute); seatsUsed(t, dir) < before+1000; {
		if time.Now().After(deadline) {
			t.Fatal("the sync wrote nothing within 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
	_ = sync.Process.Kill()
	if err := sync.Wait(); err == nil {
		t.Fatal("the sync finished before the kill reached it")
	}
	t.Logf("killed the sync with %d of %d rows in", seatsUsed(t, dir)-before, rows)
	checkAfterKill(t, dir, acked, "")
	r := runBin(t, bin, "sync", "--tenant", "crash", "--file", people, "--json", data)
	if sm := summary(t, r); r.code != 0 || sm.Created+sm.Unchanged != rows || sm.Failed != 0 {
		t.Fatalf("sync re-run after the kill: %+v\n%s", sm, r)
	}
	r = runBin(t, bin, "sync", "--tenant", "crash", "--file", people, "--json", data)
	if sm := summary(t, r); r.code != 0 || sm.Unchanged != rows {
		t.Fatalf("third sync: %+v\n%s", sm, r)
	}
	checkAfterKill(t, dir, acked, "")
}

// seatsUsed returns the seat counter of tenant "crash" (every member of it holds a seat).
func seatsUsed(t *testing.T, dir string) int {
	t.Helper()
	c, done := openDirect(t, dir)
	defer done()
	tn, err := c.TenantBySlug(t.Context(), "crash")
	if err != nil {
		t.Fatal(err)
	}
	return tn.SeatsUsed
}

// checkAfterKill opens the data directory's store and checks that each
// acknowledged userName is a member of tenant "crash" and that the seat
// counter is exact without any repair.
func checkAfterKill(t *testing.T, dir string, acked []string, log string) {
	t.Helper()
	c, done := openDirect(t, dir)
	defer done()
	ctx := t.Context()
	tn, err := c.TenantBySlug(ctx, "crash")
	if err != nil {
		t.Fatalf("after the kill: %v\n%s", err, log)
	}
	for _, name := range acked {
		if _, err := c.MemberByUserName(ctx, tn.ID, name); err != nil {
			t.Errorf("acknowledged member %s lost after kill -9: %v", name, err)
		}
	}
	res, err := c.Reconcile(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.SeatsBefore != res.SeatsAfter {
		t.Errorf("seat counter %d after kill -9, members hold %d", res.SeatsBefore, res.SeatsAfter)
	}
}
