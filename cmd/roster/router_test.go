package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestMetricsMethodLabel checks that a made-up method is counted as
// "other": clients choose methods, and every label value is a series.
func TestMetricsMethodLabel(t *testing.T) {
	m := newMetrics()
	var ready atomic.Bool
	ready.Store(true)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(m.instrument(NewRouter(nil, m, &ready, log), log))
	defer srv.Close()
	for _, method := range []string{"GET", "BREW", "PROPFIND"} {
		req, err := http.NewRequest(method, srv.URL+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	text := string(body)
	for _, bad := range []string{`method="BREW"`, `method="PROPFIND"`} {
		if strings.Contains(text, bad) {
			t.Errorf("/metrics has the label %s", bad)
		}
	}
	if !strings.Contains(text, `method="other"`) || !strings.Contains(text, `method="GET"`) {
		t.Errorf("/metrics lacks method=\"other\" or method=\"GET\":\n%s", text)
	}
}
