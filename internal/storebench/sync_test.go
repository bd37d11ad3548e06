package storebench

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

// BenchmarkSync100k syncs 100,000 HR rows on each store, in three steps
// on one tenant:
//
//   - first-load: into an empty tenant;
//   - unchanged-rerun: the same input again, which must write nothing;
//   - delta: 1,000 rows with a new title and 500 rows gone, deprovisioned
//     by deactivation (sdk.DeprovisionDeactivate).
//
// Run it with -benchtime 1x (each step is one sync; a later step needs the
// earlier ones, and a step left out by -bench loads the tenant unmeasured).
// The benchmark fails when a step does not do exactly what it should: on
// the re-run that is a single write command (FerretDB), a single call of a
// write method or any change of the database file (SQLite), or a write the
// SDK counts (every store).
func BenchmarkSync100k(b *testing.B) {
	const rows = 100_000
	recs := syncRecords(rows)
	actor := sdk.SyncActor("bench")
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			tg := s.open(b)
			ctx := context.Background()
			var t *sdk.Tenant
			firstLoad := func(b *testing.B) {
				b.StopTimer()
				t, _ = newTenant(b, tg.client, "sync-"+s.name, 200_000)
				b.StartTimer()
				rep, err := tg.client.Sync(ctx, actor, t.ID, slices.Clone(recs), sdk.SyncOptions{})
				if err != nil || len(rep.Created) != rows || len(rep.Failed) != 0 {
					b.Fatalf("first load: %v, created %d, failed %d", err, len(rep.Created), len(rep.Failed))
				}
			}
			loaded := func(b *testing.B) {
				if t == nil {
					firstLoad(b)
					b.ResetTimer()
				}
			}
			b.Run("first-load", func(b *testing.B) {
				for range b.N {
					firstLoad(b)
				}
			})
			b.Run("unchanged-rerun", func(b *testing.B) {
				loaded(b)
				for range b.N {
					b.StopTimer()
					m := tg.mark(b)
					b.StartTimer()
					rep, err := tg.client.Sync(ctx, actor, t.ID, slices.Clone(recs), sdk.SyncOptions{})
					b.StopTimer()
					if err != nil || rep.Writes != 0 || rep.Unchanged != rows {
						b.Fatalf("re-run: %v, writes %d, unchanged %d", err, rep.Writes, rep.Unchanged)
					}
					if w, changed := tg.reportWrites(b, m); w != 0 || changed {
						b.Fatalf("re-run wrote: %d write commands or calls, database changed: %v", w, changed)
					}
					b.StartTimer()
				}
			})
			b.Run("delta", func(b *testing.B) {
				if s.name == "ferretdb" {
					// FerretDB v1 finds a member of a tenant by scanning
					// the tenant (BENCHMARKS.md): at 100,000 members one
					// read takes seconds, 1,500 member writes hours.
					b.Skip("1,500 member writes at 100,000 members take hours on FerretDB")
				}
				loaded(b)
				for k := range b.N {
					b.StopTimer()
					in := deltaInput(recs, k)
					if in == nil {
						b.Fatalf("delta %d: the input has run out of rows to change", k)
					}
					m := tg.mark(b)
					b.StartTimer()
					rep, err := tg.client.Sync(ctx, actor, t.ID, in, sdk.SyncOptions{Deprovision: sdk.DeprovisionDeactivate})
					b.StopTimer()
					if err != nil || len(rep.Updated) != deltaUpdates || len(rep.Deactivated) != deltaLeavers ||
						len(rep.Failed) != 0 || len(rep.Skipped) != 1 || len(rep.Created) != 0 ||
						rep.Unchanged != rows-deltaUpdates-deltaLeavers || rep.Writes != deltaUpdates+deltaLeavers {
						b.Fatalf("delta %d: %v, updated %d, deactivated %d, created %d, failed %d (%v), skipped %d, unchanged %d, writes %d",
							k, err, len(rep.Updated), len(rep.Deactivated), len(rep.Created), len(rep.Failed), rep.Failed, len(rep.Skipped), rep.Unchanged, rep.Writes)
					}
					if _, changed := tg.reportWrites(b, m); !changed && tg.sqlite != nil {
						b.Fatal("delta: the database file did not change")
					}
					b.StartTimer()
				}
			})
		})
	}
}

// syncRecords returns rows HR records: distinct emails and external ids,
// three departments, and the first person managing everyone else.
func syncRecords(rows int) []sdk.SyncRecord {
	recs := make([]sdk.SyncRecord, rows)
	for i := range recs {
		recs[i] = sdk.SyncRecord{
			Line: i + 2, Email: fmt.Sprintf("p%06d@corp.test", i),
			Profile: sdk.Profile{ExternalID: fmt.Sprintf("E%06d", i), GivenName: "Given", FamilyName: fmt.Sprint("F", i),
				Department: []string{"Eng", "Ops", "Sales"}[i%3], Title: "Staff"},
		}
		if i > 0 {
			recs[i].Manager = "E000000"
		}
	}
	return recs
}

// The size of a delta of BenchmarkSync100k.
const (
	deltaUpdates = 1000
	deltaLeavers = 500
)

// deltaInput returns the input of delta k (from 0) of BenchmarkSync100k:
// recs after deltas 0 to k, each of which gave deltaUpdates rows a new
// title and took deltaLeavers rows out, so that delta k changes exactly
// its own rows. Row 0, everyone's manager, stays. It returns nil when recs
// has too few rows for delta k.
func deltaInput(recs []sdk.SyncRecord, k int) []sdk.SyncRecord {
	const per = deltaUpdates + deltaLeavers
	end := 1 + (k+1)*per
	if end > len(recs) {
		return nil
	}
	in := make([]sdk.SyncRecord, 0, len(recs)-(k+1)*deltaLeavers)
	for i, r := range recs {
		if i >= 1 && i < end {
			d, j := (i-1)/per, (i-1)%per
			if j >= deltaUpdates {
				continue // a leaver of delta d
			}
			r.Title = fmt.Sprintf("Senior %d", d)
		}
		in = append(in, r)
	}
	return in
}

// writeMark is where a store's write counts stood before a step.
type writeMark struct{ calls, dataVersion int64 }

// mark starts counting the writes of a step.
func (tg target) mark(tb testing.TB) writeMark {
	switch {
	case tg.counter != nil:
		tg.counter.Reset()
	case tg.sqlite != nil:
		return writeMark{tg.sqlite.calls.Load(), tg.sqlite.dataVersion(tb)}
	}
	return writeMark{}
}

// reportWrites reports what the store was sent since m — the database
// commands on FerretDB, the calls of write methods on SQLite — and returns
// the writes among them (write commands, write calls) and whether the
// database changed (on memstore, which cannot tell, 0 and false).
func (tg target) reportWrites(b *testing.B, m writeMark) (writes int64, changed bool) {
	switch {
	case tg.counter != nil:
		b.ReportMetric(float64(tg.counter.Count()), "db-commands")
		w := writeCommands(tg.counter.ByName())
		b.ReportMetric(float64(w), "write-commands")
		return w, w > 0
	case tg.sqlite != nil:
		w := tg.sqlite.calls.Load() - m.calls
		b.ReportMetric(float64(w), "write-calls")
		return w, tg.sqlite.dataVersion(b) != m.dataVersion
	}
	return 0, false
}

// writeCommands counts the write commands among MongoDB commands by name.
func writeCommands(byName map[string]int64) int64 {
	var n int64
	for name, c := range byName {
		switch name {
		case "insert", "update", "delete", "findAndModify":
			n += c
		}
	}
	return n
}
