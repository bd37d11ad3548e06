package ui

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// base is what every page's template reads: the language, the mount
// prefix, the CSRF token, the navigation the actor may use and the
// messages of the request.
type base struct {
	cat   *catalog
	Lang  string
	P     string // the mount prefix, "" at the root
	CSRF  string
	Title string
	// Flash is a status message (announced politely); Error a refusal or
	// failure (announced at once).
	Flash string
	Error string
	// Notice explains a page drawn without any action (an inactive actor).
	Notice string
	Tenant *sdk.Tenant
	Me     *sdk.Member
	Nav    nav
}

// nav says which sections the actor may open.
type nav struct {
	Seats   bool
	Audit   bool
	SignOut bool // the actor's own "sign out everywhere"
}

func (b *base) setError(msg string) { b.Error = msg }

// T returns the message key in the page's language.
func (b *base) T(key string, args ...any) string { return b.cat.T(key, args...) }

// RoleName returns a role's label: the catalog's for the presets' roles,
// the name itself for a tenant's own.
func (b *base) RoleName(role string) string { return b.cat.Role(role) }

// StatusName returns a member state's label.
func (b *base) StatusName(s sdk.Status) string { return b.cat.T("status." + string(s)) }

// Time formats a time for a table cell.
func (b *base) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// view is what a page about the actor's tenant loads: the tenant, the
// acting member and their policy.
type view struct {
	t  *sdk.Tenant
	me *sdk.Member
	p  *sdk.Policy
}

// errNotMember answers a signed-in member the tenant does not know.
var errNotMember = errors.New("ui: the acting member is not a member of the tenant")

// load reads the tenant (one tenant read) and the acting member — from
// loaded when it is there, else with one member read — and builds the
// actor's policy, which every control of the page then asks without I/O.
func (h *Handler) load(ctx context.Context, rq *request, loaded []*sdk.Member) (*view, error) {
	t, err := h.client.Tenant(ctx, rq.id.TenantID)
	if err != nil {
		if errors.Is(err, sdk.ErrNotFound) {
			return nil, errNotMember
		}
		return nil, err
	}
	var me *sdk.Member
	for _, m := range loaded {
		if m.ID == rq.id.MemberID {
			me = m
			break
		}
	}
	if me == nil {
		me, err = h.client.Member(ctx, t.ID, rq.id.MemberID)
		if errors.Is(err, sdk.ErrNotFound) {
			return nil, errNotMember
		}
		if err != nil {
			return nil, err
		}
	}
	return &view{t: t, me: me, p: sdk.NewPolicy(t, rq.actor(), me)}, nil
}

// base fills what every page shows; v is nil on pages drawn before the
// tenant is known (signed out, forbidden).
func (h *Handler) base(rq *request, v *view, title string) base {
	b := h.bare(rq.cat)
	b.CSRF = rq.csrf
	b.Title = rq.cat.T(title)
	if f := rq.r.URL.Query().Get("flash"); f != "" && rq.cat.Has("flash."+f) {
		b.Flash = rq.cat.T("flash." + f)
	}
	if v != nil {
		b.Tenant, b.Me = v.t, v.me
		b.Nav.Seats = v.p.Check(sdk.ActionManageSeats, nil).Allowed
		b.Nav.Audit = v.p.CheckPermission(sdk.PermTeamManage).Allowed
		b.Nav.SignOut = v.p.Check(sdk.ActionForceLogout, v.me).Allowed
		if d := v.p.CheckPermission(sdk.PermTeamManage); d.Reason == sdk.ReasonInactive || d.Reason == sdk.ReasonNotMember {
			b.Notice = rq.cat.Reason(d.Reason, d.Message)
		}
	}
	return b
}

func (h *Handler) bare(cat *catalog) base {
	return base{cat: cat, Lang: cat.lang, P: h.prefix}
}

// messagePage is a page with a heading and a sentence: signed out,
// forbidden, not found, a failure.
type messagePage struct {
	base
	Heading string
	Text    string
	Back    bool // offer a link back to the members list
}

func (h *Handler) message(rq *request, status int, heading, text string) {
	b := h.bare(rq.cat)
	b.CSRF = rq.csrf
	b.Title = rq.cat.T(heading)
	b.Error = rq.cat.T(text)
	h.render(rq.w, status, "message", &messagePage{base: b, Heading: b.Title, Back: true})
}

// fail answers a request whose handler failed with err, on a page of its
// own.
func (h *Handler) fail(rq *request, err error) {
	if errors.Is(err, errNotMember) {
		h.message(rq, http.StatusForbidden, "forbidden_title", "forbidden_text")
		return
	}
	status, msg := h.explain(rq, err)
	b := h.bare(rq.cat)
	b.CSRF = rq.csrf
	b.Title = rq.cat.T("error_title")
	b.Error = msg
	h.render(rq.w, status, "message", &messagePage{base: b, Heading: b.Title, Back: true})
}

// explain returns the status and the message shown for err: a refusal's
// reason in the page's language where the catalog has it, else the SDK's
// own sentence (English), prefixed with the field at fault for bad input.
// Errors the SDK could not classify show a generic message; their detail
// goes to the log only.
func (h *Handler) explain(rq *request, err error) (int, string) {
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code == sdk.CodeUnknown {
		if !errors.Is(err, context.Canceled) {
			h.log.Error("ui: request failed", "method", rq.r.Method, "path", rq.r.URL.Path, "tenant", rq.id.TenantID, "member", rq.id.MemberID, "err", err)
		}
		return http.StatusInternalServerError, rq.cat.T("error_generic")
	}
	status := http.StatusConflict
	switch e.Code {
	case sdk.CodeInvalidArgument:
		status = http.StatusBadRequest
	case sdk.CodeNotFound:
		status = http.StatusNotFound
	case sdk.CodePermissionDenied:
		status = http.StatusForbidden
	case sdk.CodeUnauthenticated:
		status = http.StatusUnauthorized
	case sdk.CodeResourceExhausted:
		if e.Reason == sdk.ReasonResendRateLimited {
			status = http.StatusTooManyRequests
		}
	}
	return status, rq.cat.Error(err)
}
