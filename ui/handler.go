package ui

import (
	"bytes"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// Identity is who is acting, as the host's own sign-in decided.
type Identity struct {
	TenantID string
	MemberID string
}

// IdentifyFunc returns the acting member for a request. An error (such as
// [ErrSignedOut]) answers 401 with a page saying so, or redirects to the
// URL given with [WithSignInURL].
type IdentifyFunc func(r *http.Request) (Identity, error)

// ErrSignedOut is what an [IdentifyFunc] returns for a request without a
// signed-in member.
var ErrSignedOut = errors.New("ui: signed out")

// Option configures a [Handler].
type Option func(*Handler)

// WithLanguage fixes the language of every page: "en" or "fr". By default
// a page follows the request's Accept-Language, else English. Another
// language changes nothing, and [New] logs a warning naming it.
func WithLanguage(lang string) Option {
	return func(h *Handler) {
		if l, ok := catalogs[strings.ToLower(lang)]; ok {
			h.lang = l
		} else {
			h.langUnknown = lang
		}
	}
}

// WithSignInURL makes a request the [IdentifyFunc] refuses redirect to u
// (with the page asked for in the query parameter "next") instead of
// answering 401.
func WithSignInURL(u string) Option { return func(h *Handler) { h.signIn = u } }

// WithLogger sets where failures the screen cannot explain to the user go
// (the user sees a generic message). Default: [slog.Default].
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithCSRFKey sets the HMAC key of the CSRF tokens. Several instances of a
// host behind one load balancer must share it; by default each Handler
// draws a random key, so its tokens die with the process.
func WithCSRFKey(key []byte) Option {
	return func(h *Handler) { h.csrfKey = append([]byte(nil), key...) }
}

// WithSignOutHook runs f after the acting member's own "sign out
// everywhere" succeeded (a force logout of themself), so the host can drop
// its session cookie; the screen then redirects to its members list.
func WithSignOutHook(f func(w http.ResponseWriter, r *http.Request)) Option {
	return func(h *Handler) { h.signOut = f }
}

// WithInviteLink sets how an invitation's secret becomes the link shown
// (once) to the member who invited: typically the host's accept page with
// the secret in its query. By default the link is the request's origin
// followed by /accept?secret=SECRET.
func WithInviteLink(f func(r *http.Request, secret string) string) Option {
	return func(h *Handler) { h.inviteLink = f }
}

// WithLastActivity lets the host, which knows when its members were last
// active, fill the members list's "Last activity" column: f receives the
// ids of the page's members and returns the times it knows (missing ids
// are shown as unknown). Without it the column is not drawn.
func WithLastActivity(f func(r *http.Request, tenantID string, memberIDs []string) map[string]time.Time) Option {
	return func(h *Handler) { h.lastActivity = f }
}

// Handler is the team-management screen. It implements [http.Handler];
// build one with [New].
type Handler struct {
	prefix       string
	client       *sdk.Client
	identify     IdentifyFunc
	lang         *catalog // nil: follow Accept-Language
	langUnknown  string   // a language WithLanguage has no catalog for
	signIn       string
	log          *slog.Logger
	csrfKey      []byte
	signOut      func(http.ResponseWriter, *http.Request)
	inviteLink   func(*http.Request, string) string
	lastActivity func(*http.Request, string, []string) map[string]time.Time
	mux          *http.ServeMux
	static       http.Handler
	origin       *http.CrossOriginProtection
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns the team-management handler for requests under prefix (such
// as "/team"; "" or "/" mounts it at the root):
//
//	mux.Handle("/team/", ui.New("/team", client, identify))
//
// A request for the prefix itself is redirected to the prefix with a
// trailing slash.
func New(prefix string, c *sdk.Client, identify IdentifyFunc, opts ...Option) *Handler {
	h := &Handler{
		prefix:   strings.TrimRight(prefix, "/"),
		client:   c,
		identify: identify,
		log:      slog.Default(),
		origin:   http.NewCrossOriginProtection(),
	}
	for _, o := range opts {
		o(h)
	}
	if h.langUnknown != "" {
		h.log.Warn("ui: WithLanguage: no catalog for this language (there are en and fr); it is not applied", "language", h.langUnknown)
	}
	if h.csrfKey == nil {
		h.csrfKey = make([]byte, 32)
		_, _ = rand.Read(h.csrfKey)
	}
	if h.inviteLink == nil {
		h.inviteLink = defaultInviteLink
	}
	sub, _ := fs.Sub(staticFS, "static")
	h.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	h.mux = http.NewServeMux()
	h.routes()
	return h
}

func defaultInviteLink(r *http.Request, secret string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/accept?secret=" + url.QueryEscape(secret)
}

// routes registers the screen's routes, each file its own.
func (h *Handler) routes() {
	h.listRoutes()
	h.memberRoutes()
	h.adminRoutes()
}

// ServeHTTP serves the screen.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		http.NotFound(w, r)
		return
	}
	if rest == "" {
		http.Redirect(w, r, h.prefix+"/", http.StatusMovedPermanently)
		return
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.URL = new(url.URL)
	*r2.URL = *r.URL
	r2.URL.Path, r2.URL.RawPath = rest, ""
	secure(w.Header())
	if strings.HasPrefix(rest, "/static/") {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.static.ServeHTTP(w, r2)
		return
	}
	h.mux.ServeHTTP(w, r2)
}

// secure sets the headers every answer carries: no framing (clickjacking),
// no content sniffing, no referrer leaking a page's query, and a content
// security policy admitting only the screen's own script and style.
func secure(hd http.Header) {
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
}

// request is one request to the screen, once its actor is known.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	id   Identity
	cat  *catalog
	csrf string
}

func (rq *request) actor() sdk.Actor { return sdk.MemberActor(rq.id.MemberID) }

// start identifies the actor and picks the language; it answers the
// request itself (401, redirect) and returns nil when identification
// failed.
func (h *Handler) start(w http.ResponseWriter, r *http.Request) *request {
	cat := h.lang
	if cat == nil {
		cat = negotiate(r.Header.Get("Accept-Language"))
	}
	id, err := h.identify(r)
	if err == nil && (id.TenantID == "" || id.MemberID == "") {
		err = ErrSignedOut
	}
	if err != nil {
		if h.signIn != "" {
			http.Redirect(w, r, h.signIn+"?next="+url.QueryEscape(h.prefix+r.URL.RequestURI()), http.StatusSeeOther)
			return nil
		}
		h.render(w, http.StatusUnauthorized, "message", &messagePage{base: h.bare(cat), Heading: cat.T("signed_out_title"), Text: cat.T("signed_out_text")})
		return nil
	}
	return &request{w: w, r: r, id: id, cat: cat, csrf: h.token(id, time.Now())}
}

// page adapts a GET handler.
func (h *Handler) page(fn func(*request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if rq := h.start(w, r); rq != nil {
			if err := fn(rq); err != nil {
				h.fail(rq, err)
			}
		}
	}
}

// maxForm bounds a form body: the largest form is a bulk action on
// sdk.MaxBulkItems ids.
const maxForm = 1 << 20

// post adapts a POST handler: the request must come from the screen's own
// origin and carry the actor's CSRF token, else it is refused with 403
// before anything is read or written.
func (h *Handler) post(fn func(*request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := h.start(w, r)
		if rq == nil {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			h.message(rq, http.StatusBadRequest, "bad_request_title", "bad_request_text")
			return
		}
		if h.origin.Check(r) != nil || !h.validToken(rq.id, r.PostFormValue("csrf"), time.Now()) {
			h.message(rq, http.StatusForbidden, "csrf_title", "csrf_text")
			return
		}
		if err := fn(rq); err != nil {
			h.fail(rq, err)
		}
	}
}

// redirect ends a successful POST: back to path (under the prefix) with a
// flash message key the next page shows.
func (h *Handler) redirect(rq *request, path, flash string) error {
	u := h.prefix + path
	if flash != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "flash=" + url.QueryEscape(flash)
	}
	http.Redirect(rq.w, rq.r, u, http.StatusSeeOther)
	return nil
}

// render executes a page template into a buffer first, so that a template
// failure still answers a clean 500 (and is logged) rather than half a
// page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "layout", data); err != nil {
		h.log.Error("ui: rendering a page failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = b.WriteTo(w)
}

// redraw draws a page again, as view builds it, with msg in its error
// region: how a form the SDK refused comes back.
func redraw[P interface{ setError(string) }](h *Handler, rq *request, page string, view func(*request) (P, error), status int, msg string) error {
	p, err := view(rq)
	if err != nil {
		return err
	}
	p.setError(msg)
	h.render(rq.w, status, page, p)
	return nil
}

// pages holds one template set per page: the layout plus the page's
// "content".
var pages = func() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	m := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		m[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return m
}()
