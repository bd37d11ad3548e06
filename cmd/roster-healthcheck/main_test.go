package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestTarget(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
		err  string
	}{
		{name: "default", want: "http://127.0.0.1:8080/healthz"},
		{name: "argument wins", args: []string{"http://a:1/x"}, env: map[string]string{envURL: "http://b:2/y"}, want: "http://a:1/x"},
		{name: "url variable wins over addr", env: map[string]string{envURL: "http://b:2/y", envAddr: "0.0.0.0:9"}, want: "http://b:2/y"},
		{name: "ipv4 wildcard", env: map[string]string{envAddr: "0.0.0.0:8080"}, want: "http://127.0.0.1:8080/healthz"},
		{name: "empty host", env: map[string]string{envAddr: ":9090"}, want: "http://127.0.0.1:9090/healthz"},
		{name: "ipv6 wildcard", env: map[string]string{envAddr: "[::]:8080"}, want: "http://127.0.0.1:8080/healthz"},
		{name: "own host", env: map[string]string{envAddr: "127.0.0.2:8080"}, want: "http://127.0.0.2:8080/healthz"},
		{name: "ipv6 host", env: map[string]string{envAddr: "[::1]:8080"}, want: "http://[::1]:8080/healthz"},
		{name: "no port", env: map[string]string{envAddr: "0.0.0.0"}, err: "missing port"},
		{name: "free port", env: map[string]string{envAddr: "127.0.0.1:0"}, err: envURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := target(tt.args, func(k string) string { return tt.env[k] })
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("target() = %q, %v; want an error containing %q", got, err, tt.err)
			case tt.err == "" && err != nil:
				t.Fatalf("target() error: %v", err)
			case got != tt.want:
				t.Errorf("target() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	var status atomic.Int32
	var slow atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		if slow.Load() {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name   string
		status int
		slow   bool
		env    map[string]string
		code   int
		stderr string
	}{
		{name: "healthy", status: http.StatusOK, env: map[string]string{envAddr: addr}, code: 0},
		{name: "healthy by url", status: http.StatusOK, env: map[string]string{envURL: srv.URL + "/healthz"}, code: 0},
		{name: "starting", status: http.StatusServiceUnavailable, env: map[string]string{envAddr: addr}, code: 1, stderr: "503"},
		{name: "wrong path", status: http.StatusOK, env: map[string]string{envURL: srv.URL + "/nope"}, code: 1, stderr: "404"},
		{name: "timeout", slow: true, env: map[string]string{envAddr: addr}, code: 1, stderr: "deadline"},
		{name: "bad addr", env: map[string]string{envAddr: "nonsense"}, code: 1, stderr: envAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(int32(tt.status))
			slow.Store(tt.slow)
			var stderr bytes.Buffer
			start := time.Now()
			code := run(nil, func(k string) string { return tt.env[k] }, &stderr)
			if code != tt.code {
				t.Errorf("run() = %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.stderr)
			}
			if d := time.Since(start); d > timeout+2*time.Second {
				t.Errorf("run() took %s, over the %s timeout", d, timeout)
			}
		})
	}

	t.Run("no server", func(t *testing.T) {
		var stderr bytes.Buffer
		if code := run([]string{"http://127.0.0.1:1/healthz"}, func(string) string { return "" }, &stderr); code != 1 {
			t.Errorf("run() = %d, want 1", code)
		}
	})
	t.Run("usage", func(t *testing.T) {
		var stderr bytes.Buffer
		if code := run([]string{"a", "b"}, func(string) string { return "" }, &stderr); code != 2 {
			t.Errorf("run() = %d, want 2", code)
		}
	})
}
