package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rosterhq/roster/sdk"
)

// Metrics 'roster sync --metrics-file' writes, in the text format of
// node_exporter's textfile collector.
const (
	metricSyncRows        = "roster_sync_rows_total"
	metricSyncDuration    = "roster_sync_duration_seconds"
	metricSyncLastRun     = "roster_sync_last_run_timestamp_seconds"
	metricSyncLastSuccess = "roster_sync_last_success_timestamp_seconds"
)

// syncOutcomes are the values of roster_sync_rows_total's outcome label,
// the counts of a sync report.
var syncOutcomes = []string{"created", "updated", "deactivated", "reactivated", "deleted", "unchanged", "failed", "skipped"}

func outcomeCounts(s *sdk.SyncSummary) map[string]int {
	return map[string]int{
		"created": s.Created, "updated": s.Updated, "deactivated": s.Deactivated, "reactivated": s.Reactivated,
		"deleted": s.Deleted, "unchanged": s.Unchanged, "failed": s.Failed, "skipped": s.Skipped,
	}
}

// sample is one line of a metrics file: a metric's labels and value.
type sample struct {
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^(\w+)\{([^}]*)\} (\S+)`)
	labelPair  = regexp.MustCompile(`(\w+)="([^"\\]*)"`)
)

// readSyncMetrics reads the samples of the sync metrics in a file written
// by writeSyncMetrics; a missing file has none.
func readSyncMetrics(name string) (map[string][]sample, error) {
	out := map[string][]sample{}
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := sampleLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		s := sample{labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out[m[1]] = append(out[m[1]], s)
	}
	return out, sc.Err()
}

// writeSyncMetrics records a sync of tenant slug in the textfile-collector
// file name: the rows by outcome, added to the counts already in the file
// (a counter, reset when the file is deleted), the run's duration and
// time, and, when it succeeded, the time of the last success. The
// samples of other tenants in the file are kept, so that one file may
// serve several nightly syncs. The file is replaced atomically.
func writeSyncMetrics(name, slug string, s *sdk.SyncSummary, took time.Duration, ok bool, now time.Time) error {
	prev, err := readSyncMetrics(name)
	if err != nil {
		return fmt.Errorf("--metrics-file: cannot read %s: %w", name, err)
	}
	reg := prometheus.NewRegistry()
	rows := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricSyncRows,
		Help: "Rows of HR exports 'roster sync' applied, by tenant and outcome (created, updated, deactivated, reactivated, deleted, unchanged, failed, skipped).",
	}, []string{"tenant", "outcome"})
	duration := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: metricSyncDuration,
		Help: "How long the last 'roster sync' of the tenant took.",
	}, []string{"tenant"})
	lastRun := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: metricSyncLastRun,
		Help: "When the last 'roster sync' of the tenant ended (Unix time), whatever its outcome.",
	}, []string{"tenant"})
	lastSuccess := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: metricSyncLastSuccess,
		Help: "When the last 'roster sync' of the tenant that applied every row ended (Unix time).",
	}, []string{"tenant"})
	reg.MustRegister(rows, duration, lastRun, lastSuccess)

	for _, p := range prev[metricSyncRows] {
		rows.WithLabelValues(p.labels["tenant"], p.labels["outcome"]).Add(p.value)
	}
	for metric, g := range map[string]*prometheus.GaugeVec{metricSyncDuration: duration, metricSyncLastRun: lastRun, metricSyncLastSuccess: lastSuccess} {
		for _, p := range prev[metric] {
			g.WithLabelValues(p.labels["tenant"]).Set(p.value)
		}
	}
	counts := outcomeCounts(s)
	for _, o := range syncOutcomes {
		rows.WithLabelValues(slug, o).Add(float64(counts[o]))
	}
	duration.WithLabelValues(slug).Set(took.Seconds())
	lastRun.WithLabelValues(slug).Set(float64(now.UnixMilli()) / 1000)
	if ok {
		lastSuccess.WithLabelValues(slug).Set(float64(now.UnixMilli()) / 1000)
	}
	if err := prometheus.WriteToTextfile(name, reg); err != nil {
		return fmt.Errorf("--metrics-file: cannot write %s: %w", name, err)
	}
	return nil
}
