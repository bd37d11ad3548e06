package scim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	elim "github.com/elimity-com/scim"
	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/sdk"
)

// contentType is the media type of every response body (RFC 7644 §3.1).
const contentType = "application/scim+json"

// contentTypeHeader is its header value, shared by responses that set the
// header map directly (net/http never modifies it).
var contentTypeHeader = []string{contentType}

// Defaults of the options.
const (
	DefaultPathPrefix   = "/scim/v2"
	DefaultMaxBodyBytes = 2 << 20
	DefaultMaxResults   = 200
	DefaultRatePerToken = 100 // requests per second
	DefaultRateBurst    = 200
	DefaultAuthCacheTTL = 10 * time.Second
	maxFilterLength     = 2 << 10
)

// Handler serves the SCIM 2.0 endpoint of every tenant under
// {prefix}/{tenant slug}. Build it with [NewHandler]; it is safe for
// concurrent use.
type Handler struct {
	client     *sdk.Client
	log        *slog.Logger
	prefix     string
	baseURL    string
	maxBody    int64
	maxResults int
	authTTL    time.Duration
	now        func() time.Time

	router  *mux.Router
	limiter *limiter
	slugs   sync.Map // slug → tenant id (slugs never change)
	auth    authCache
	tenants tenants

	resourceTypes []elim.ResourceType
	spc           elim.ServiceProviderConfig
}

// Option configures a [Handler].
type Option func(*Handler)

// WithLogger sets the logger for server errors (their causes are logged,
// never sent to clients).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithPathPrefix sets the path under which tenants' endpoints live;
// default "/scim/v2", so a tenant's base URL is /scim/v2/{slug}.
func WithPathPrefix(p string) Option {
	return func(h *Handler) { h.prefix = "/" + strings.Trim(p, "/") }
}

// WithBaseURL sets the external origin used in meta.location and Location
// headers, such as "https://roster.example.com", for deployments behind a
// proxy. By default the origin comes from the request's Host.
func WithBaseURL(u string) Option { return func(h *Handler) { h.baseURL = strings.TrimRight(u, "/") } }

// WithMaxBodyBytes caps request bodies; larger ones get 413.
func WithMaxBodyBytes(n int64) Option { return func(h *Handler) { h.maxBody = n } }

// WithMaxResults caps the page size of list responses (count is clamped
// to it, RFC 7644 §3.4.2.4).
func WithMaxResults(n int) Option {
	return func(h *Handler) { h.maxResults = max(1, min(n, sdk.MaxPageSize)) }
}

// WithRateLimit sets the per-token rate limit: a token bucket refilled at
// perSecond requests per second holding up to burst. Beyond it requests get
// 429 with Retry-After. perSecond <= 0 disables the limit.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(h *Handler) { h.limiter = newLimiter(perSecond, burst) }
}

// WithAuthCacheTTL sets how long a successful token check is remembered
// (default 10 s; 0 checks the store on every request). A revoked token
// keeps working on a server for at most this long.
func WithAuthCacheTTL(d time.Duration) Option { return func(h *Handler) { h.authTTL = d } }

// WithClock sets the time source of the rate limiter and caches.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// NewHandler returns the SCIM endpoint of every tenant of client. Mount it
// at its prefix (default /scim/v2):
//
//	mux.PathPrefix("/scim/v2/").Handler(scim.NewHandler(client))
func NewHandler(client *sdk.Client, opts ...Option) *Handler {
	h := &Handler{
		client:     client,
		log:        slog.Default(),
		prefix:     DefaultPathPrefix,
		maxBody:    DefaultMaxBodyBytes,
		maxResults: DefaultMaxResults,
		authTTL:    DefaultAuthCacheTTL,
		now:        time.Now,
		limiter:    newLimiter(DefaultRatePerToken, DefaultRateBurst),
	}
	for _, o := range opts {
		o(h)
	}
	h.limiter.now = h.now
	h.auth.entries = map[string]authEntry{}
	h.resourceTypes = []elim.ResourceType{
		{ID: optionalString("Group"), Name: "Group", Endpoint: "/Groups", Description: optionalString("Groups of the tenant's members"),
			Schema: groupSchema, Handler: groupHandler{h}},
	}
	h.spc = elim.ServiceProviderConfig{MaxResults: h.maxResults, SupportFiltering: true, SupportPatch: true}
	h.router = h.routes()
	return h
}

func (h *Handler) routes() *mux.Router {
	r := mux.NewRouter()
	r.SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, scimError{Status: http.StatusNotFound, Detail: "No SCIM endpoint at this path."})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(h.methodNotAllowed)
	// Routes are registered on the root router: gorilla/mux answers 404
	// instead of 405 for a method mismatch inside a subrouter.
	t := func(path string, fn func(http.ResponseWriter, *http.Request, *request), methods ...string) {
		rt := r.HandleFunc(h.prefix+"/{tenant}"+path, h.wrap(path, fn))
		if len(methods) > 0 {
			rt.Methods(methods...)
		}
	}
	get, post := http.MethodGet, http.MethodPost
	// Most requests first: mux tries routes in order.
	t("/Users", h.listUsers, get)
	t("/Users", h.postUser, post)
	t("/Users/.search", h.searchUsers, post)
	t("/Users/{id}", h.getUser, get)
	t("/Users/{id}", h.patchUser, http.MethodPatch)
	t("/Users/{id}", h.putUser, http.MethodPut)
	t("/Users/{id}", h.deleteUser, http.MethodDelete)
	t("/Groups", h.listGroups, get)
	t("/Groups", h.elimity, post)
	t("/Groups/.search", h.searchGroups, post)
	t("/Groups/{id}", h.getGroup, get)
	t("/Groups/{id}", h.patchGroup, http.MethodPatch)
	t("/Groups/{id}", h.elimity, http.MethodPut, http.MethodDelete)
	t("/ServiceProviderConfig", h.serviceProviderConfig, get)
	t("/Schemas", h.serveSchemas, get)
	t("/Schemas/{id}", h.serveSchemas, get)
	t("/ResourceTypes", h.serveResourceTypes, get)
	t("/ResourceTypes/{id}", h.serveResourceTypes, get)
	// RFC 7644 §3.7 (bulk), §3.11 (/Me) and §3.4.3 (root search) are optional
	// and not offered; ServiceProviderConfig says so.
	for _, p := range []string{"/Bulk", "/Me", "/.search", "", "/"} {
		t(p, func(w http.ResponseWriter, r *http.Request, _ *request) {
			writeError(w, scimError{Status: http.StatusNotImplemented, Detail: "This endpoint is not supported."})
		})
	}
	return r
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

var allMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowed answers 405 with an Allow header and a SCIM error body
// (elimity alone would answer 404).
func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range allMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if h.router.Match(probe, &match) && match.MatchErr == nil {
			allow = append(allow, m)
		}
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, scimError{Status: http.StatusMethodNotAllowed, Detail: fmt.Sprintf("%s is not allowed here.", r.Method)})
}

// request is what the front of the handler established about a request:
// the tenant, the authenticated token and the body read within its cap.
// Handlers receive it as an argument; elimity's resource callbacks find it
// in the request context (the only way to reach them). The SDK still
// receives the actor explicitly.
type request struct {
	tenantID string
	slug     string
	token    *sdk.Token
	actor    sdk.Actor
	base     string // absolute URL of the tenant's SCIM root, for meta.location
	body     []byte
}

type ctxKey struct{}

func reqFrom(r *http.Request) *request {
	req, _ := r.Context().Value(ctxKey{}).(*request)
	return req
}

// wrap runs the front of the endpoint at path (below the tenant): panic
// recovery, tenant and token (401), per-token rate limit (429), body cap
// (413) and UTF-8 check (400). It records what it learns in the request's
// [RequestInfo].
func (h *Handler) wrap(path string, fn func(http.ResponseWriter, *http.Request, *request)) http.HandlerFunc {
	route, resource := h.prefix+"/{tenant}"+path, resourceOf(path)
	return func(w http.ResponseWriter, r *http.Request) {
		info := requestInfo(r.Context())
		info.Route, info.Resource = route, resource
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				h.log.Error("scim: panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				writeError(w, scimError{Status: http.StatusInternalServerError, Detail: detailInternal})
			}
		}()
		slug := mux.Vars(r)["tenant"]
		info.Tenant = slug
		req := &request{slug: slug}
		tenantID, err := h.tenantID(r.Context(), slug)
		if err != nil {
			if sdk.CodeOf(err) == sdk.CodeNotFound {
				err = sdk.E("scim", sdk.CodeUnauthenticated, "", "", nil) // an unknown tenant looks like a bad token
			}
			h.unauthorized(w, r, err)
			return
		}
		req.tenantID = tenantID
		if req.token, err = h.authenticate(r, tenantID); err != nil {
			h.unauthorized(w, r, err)
			return
		}
		req.actor = sdk.TokenActor(req.token.ID)
		info.TokenID = req.token.ID
		if ok, wait := h.limiter.allow(req.token.ID); !ok {
			info.Throttled = true
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeError(w, scimError{Status: http.StatusTooManyRequests, Detail: "Too many requests for this token; retry after the time in Retry-After."})
			return
		}
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			if req.body, err = h.readBody(w, r); err != nil {
				writeError(w, errorFor(err))
				return
			}
		}
		req.base = h.base(r, slug)
		fn(w, r, req)
	}
}

func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	se := h.fail(r, err)
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim"`)
	}
	writeError(w, se)
}

// readBody reads the body within the cap: a larger body is 413, an empty
// one or one that is not UTF-8 is 400 (RFC 7644 §3.12: invalidSyntax).
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := scimError{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("The request body exceeds %d bytes.", h.maxBody)}
	if r.ContentLength > h.maxBody {
		return nil, tooLarge
	}
	var body []byte
	var err error
	if n := r.ContentLength; n > 0 {
		// The usual case: net/http bounds the body to its declared length,
		// so it is read in one allocation.
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, badRequest(typeInvalidSyntax, "The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest(typeInvalidSyntax, "The request body is empty.")
	}
	if !utf8.Valid(body) {
		return nil, badRequest(typeInvalidSyntax, "The request body is not valid UTF-8.")
	}
	return body, nil
}

func (h *Handler) base(r *http.Request, slug string) string {
	origin := h.baseURL
	if origin == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		origin = scheme + "://" + r.Host
	}
	return origin + h.prefix + "/" + slug
}

// tenantID resolves a slug, caching the answer: slugs never change.
func (h *Handler) tenantID(ctx context.Context, slug string) (string, error) {
	if id, ok := h.slugs.Load(slug); ok {
		return id.(string), nil
	}
	if !sdk.ValidSlug(slug) {
		return "", sdk.E("scim", sdk.CodeNotFound, "", "", nil)
	}
	t, err := h.client.TenantBySlug(ctx, slug)
	if err != nil {
		return "", err
	}
	h.slugs.Store(slug, t.ID)
	return t.ID, nil
}

// authCache remembers successful token checks for a short while, so that
// the steady state of a provisioning run costs no store read for
// authentication.
type authCache struct {
	mu      sync.RWMutex
	entries map[string]authEntry
}

type authEntry struct {
	token   *sdk.Token
	expires time.Time
}

const maxAuthEntries = 10000

// authenticate checks the bearer token of r against the tenant (RFC 7644
// §2, RFC 6750).
func (h *Handler) authenticate(r *http.Request, tenantID string) (*sdk.Token, error) {
	authz := r.Header.Get("Authorization")
	scheme, secret, _ := strings.Cut(authz, " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" || len(secret) > sdk.MaxTokenLength {
		return nil, sdk.E("scim", sdk.CodeUnauthenticated, "", "", nil)
	}
	if h.authTTL <= 0 {
		return h.client.AuthenticateToken(r.Context(), tenantID, secret)
	}
	sum := sha256.Sum256([]byte(secret))
	key := tenantID + "\x00" + string(sum[:])
	now := h.now()
	h.auth.mu.RLock()
	e, ok := h.auth.entries[key]
	h.auth.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.token, nil
	}
	tok, err := h.client.AuthenticateToken(r.Context(), tenantID, secret)
	if err != nil {
		return nil, err
	}
	h.auth.mu.Lock()
	if len(h.auth.entries) >= maxAuthEntries {
		clear(h.auth.entries)
	}
	h.auth.entries[key] = authEntry{token: tok, expires: now.Add(h.authTTL)}
	h.auth.mu.Unlock()
	return tok, nil
}

// limiter is a token bucket per SCIM token.
type limiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	return &limiter{rate: perSecond, burst: float64(max(burst, 1)), buckets: map[string]*bucket{}, now: time.Now}
}

// allow takes one request from key's bucket, or says how long to wait.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l.rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxAuthEntries {
			clear(l.buckets)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// elimity hands a group write to elimity's server, which validates the
// body against the Group schema and calls groupHandler.
func (h *Handler) elimity(w http.ResponseWriter, r *http.Request, req *request) {
	srv, err := elim.NewServer(&elim.ServerArgs{ServiceProviderConfig: &h.spc, ResourceTypes: h.resourceTypes},
		elim.WithBaseURL(req.base), elim.WithLogger(elimLogger{h.log}))
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, h.prefix+"/"+req.slug)
	r2 := r.WithContext(context.WithValue(r.Context(), ctxKey{}, req))
	u := *r.URL
	u.Path, u.RawPath = rest, ""
	r2.URL = &u
	if req.body != nil {
		r2.Body = io.NopCloser(bytes.NewReader(req.body))
		r2.ContentLength = int64(len(req.body))
	}
	srv.ServeHTTP(w, r2)
}

type elimLogger struct{ l *slog.Logger }

func (e elimLogger) Error(args ...any) { e.l.Error("scim: elimity: " + fmt.Sprint(args...)) }
