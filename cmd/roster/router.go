package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
)

// metrics are the server's Prometheus metrics, on a registry of their own
// so that tests can run several servers in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ready    prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_http_requests_total",
			Help: "HTTP requests served, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roster_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route template, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "roster_ready",
			Help: "1 when the server is ready to serve requests, 0 while it starts or shuts down.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.ready,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// routeKey carries a *string through the request context, into which the
// router writes the template of the route it matched: labelling metrics
// by template ("/scim/v2/{tenant}") rather than path keeps their
// cardinality bounded.
type routeKey struct{}

// instrument counts and times every request that reaches next.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := new(string)
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, route)))
		label := *route
		if label == "" {
			label = "unmatched"
		}
		code := strconv.Itoa(rec.code)
		m.requests.WithLabelValues(label, r.Method, code).Inc()
		m.duration.WithLabelValues(label, r.Method, code).Observe(time.Since(start).Seconds())
	})
}

// recordRoute is router middleware that reports the matched route's
// template to instrument.
func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := r.Context().Value(routeKey{}).(*string); ok {
			if tpl, err := mux.CurrentRoute(r).GetPathTemplate(); err == nil {
				*p = tpl
			}
		}
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.code, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// NewRouter returns the routes of 'roster serve': /healthz, which answers
// 200 while ready reports true and 503 otherwise, /metrics, and — when
// client is non-nil — the endpoints that serve tenants through it, logging
// to log, with the SCIM handler configured by scimOpts. The server routes
// requests to NewRouter(nil, …) until its store is open.
func NewRouter(client *sdk.Client, m *metrics, ready *atomic.Bool, log *slog.Logger, scimOpts ...scim.Option) *mux.Router {
	r := mux.NewRouter()
	r.Use(recordRoute)
	r.Handle("/healthz", healthz(ready)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	if client == nil {
		r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "roster is starting", http.StatusServiceUnavailable)
		})
		return r
	}
	mountSCIM(r, client, log, scimOpts...)
	return r
}

func healthz(ready *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
}

// mountSCIM serves SCIM 2.0 provisioning of every tenant under
// /scim/v2/{tenant} ([scim.Handler], which reads the tenant from the path
// itself). The route is a template so that metrics count SCIM requests
// under one label, whatever the tenant.
func mountSCIM(r *mux.Router, client *sdk.Client, log *slog.Logger, opts ...scim.Option) {
	r.PathPrefix("/scim/v2/{tenant}").Handler(scim.NewHandler(client, append([]scim.Option{scim.WithLogger(log)}, opts...)...))
}

// swapHandler serves through a handler that can be replaced while
// serving: the start-up router first, the full router once ready.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}
