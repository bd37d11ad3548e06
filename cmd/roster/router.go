package main

import (
	"context"
	"errors"
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
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/sdk"
)

// metrics are the server's Prometheus metrics, on a registry of their own
// so that tests can run several servers in one process. The README lists
// them.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ready    prometheus.Gauge

	scimRequests  *prometheus.CounterVec   // resource, method, outcome
	scimDuration  *prometheus.HistogramVec // resource
	throttled     prometheus.Counter
	storeErrors   *prometheus.CounterVec // source: scim, reconcile
	mongoCommands *prometheus.CounterVec // command
	reconciled    *prometheus.CounterVec // outcome: ok, repaired, failed
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
	m.scimRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roster_scim_requests_total",
		Help: "SCIM requests served, by resource (Users, Groups, discovery, other), method and outcome " +
			"(ok, unauthenticated, forbidden, not_found, conflict, too_large, throttled, client_error, server_error).",
	}, []string{"resource", "method", "outcome"})
	m.scimDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "roster_scim_request_duration_seconds",
		Help:    "Time to serve SCIM requests, by resource (Users, Groups, discovery, other).",
		Buckets: prometheus.DefBuckets,
	}, []string{"resource"})
	m.throttled = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "roster_scim_throttled_total",
		Help: "SCIM requests refused with 429 by the per-token rate limit (--scim-rate, --scim-burst).",
	})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roster_store_errors_total",
		Help: "Operations that failed because the store did, by source: scim (requests answered 500) or reconcile (the start-up reconcile).",
	}, []string{"source"})
	m.mongoCommands = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roster_mongo_commands_total",
		Help: "Database commands sent to MongoDB, by command name (find, aggregate, insert, update, findAndModify, ...); absent on other stores.",
	}, []string{"command"})
	m.reconciled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roster_reconcile_tenants_total",
		Help: "Tenants the start-up reconcile checked, by outcome: ok, repaired or failed.",
	}, []string{"outcome"})
	m.reg.MustRegister(m.requests, m.duration, m.ready,
		m.scimRequests, m.scimDuration, m.throttled, m.storeErrors, m.mongoCommands, m.reconciled,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// routeKey carries a *string through the request context, into which the
// router writes the template of the route it matched: labelling metrics
// by template ("/scim/v2/{tenant}") rather than path keeps their
// cardinality bounded.
type routeKey struct{}

// instrument counts, times and logs every request that reaches next: one
// access-log line per request on log, at info level ("request": method,
// route template, status, duration, tenant slug and token id for SCIM,
// bytes written), except /healthz and /metrics, which load balancers and
// scrapers call every few seconds: those are logged at debug level. It
// never logs the Authorization header, a body or the query (a SCIM filter
// holds email addresses): the route is the template the request matched,
// not its URL.
func (m *metrics) instrument(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := new(string)
		ctx, info := scim.WithRequestInfo(context.WithValue(r.Context(), routeKey{}, route))
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		took := time.Since(start)
		label := *route
		if label == "" {
			label = "unmatched"
		}
		code := strconv.Itoa(rec.code)
		method := methodLabel(r.Method)
		m.requests.WithLabelValues(label, method, code).Inc()
		m.duration.WithLabelValues(label, method, code).Observe(took.Seconds())

		logRoute := label
		if label == scimRoute {
			resource := info.Resource
			if resource == "" {
				resource = "other"
			}
			m.scimRequests.WithLabelValues(resource, method, outcome(rec.code)).Inc()
			m.scimDuration.WithLabelValues(resource).Observe(took.Seconds())
			if info.Throttled {
				m.throttled.Inc()
			}
			if rec.code >= 500 && isStoreError(info.Err) {
				m.storeErrors.WithLabelValues("scim").Inc()
			}
			if info.Route != "" {
				logRoute = info.Route
			}
		}
		level := slog.LevelInfo
		if label == "/healthz" || label == "/metrics" {
			level = slog.LevelDebug
		}
		if !log.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", logRoute),
			slog.Int("status", rec.code),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
		}
		if info.Tenant != "" {
			attrs = append(attrs, slog.String("tenant", info.Tenant))
		}
		if info.TokenID != "" {
			attrs = append(attrs, slog.String("token", info.TokenID))
		}
		log.LogAttrs(context.WithoutCancel(ctx), level, "request", attrs...)
	})
}

// methodLabel is the method label of a request: one of the methods of
// RFC 9110 and PATCH, or "other", so that a client sending made-up
// methods cannot grow the metrics without bound.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// outcome classifies a SCIM response status for roster_scim_requests_total:
// a small fixed set, so that alerts need not list status codes.
func outcome(status int) string {
	switch {
	case status < 400:
		return "ok"
	case status == http.StatusUnauthorized:
		return "unauthenticated"
	case status == http.StatusForbidden: // policy: seat limit, owner protection
		return "forbidden"
	case status == http.StatusNotFound:
		return "not_found"
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return "conflict"
	case status == http.StatusRequestEntityTooLarge:
		return "too_large"
	case status == http.StatusTooManyRequests:
		return "throttled"
	case status < 500:
		return "client_error"
	}
	return "server_error"
}

// isStoreError reports whether err is a failure of the store rather than a
// refusal, a bad request or a request that ended: the SDK classifies what
// it cannot (a driver or database error) as sdk.CodeUnknown.
func isStoreError(err error) bool {
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		sdk.CodeOf(err) == sdk.CodeUnknown
}

// mongoMonitor counts the database commands of a MongoDB store in
// roster_mongo_commands_total, every one the driver starts.
func (m *metrics) mongoMonitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			m.mongoCommands.WithLabelValues(e.CommandName).Inc()
		},
	}
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
	bytes       int64
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
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
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
	r.PathPrefix(scimRoute).Handler(scim.NewHandler(client, append([]scim.Option{scim.WithLogger(log)}, opts...)...))
}

// scimRoute is the route template of every SCIM request in the server's
// router; the SCIM handler reports the finer one ([scim.RequestInfo]).
const scimRoute = "/scim/v2/{tenant}"

// swapHandler serves through a handler that can be replaced while
// serving: the start-up router first, the full router once ready.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}
