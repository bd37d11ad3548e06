package ui

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

// fx is a tenant with one member of each kind, served by a Handler
// mounted at /team whose identify reads the acting member's id from the
// X-Member header.
type fx struct {
	c       *sdk.Client
	t       *sdk.Tenant
	h       *Handler
	owner   *sdk.Member
	admin   *sdk.Member // "admin2" in primary_admin tenants
	admin2  *sdk.Member
	std     *sdk.Member // nil in primary_admin tenants
	invited *sdk.Member
	deact   *sdk.Member
	logs    *strings.Builder
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newFx(t *testing.T, preset sdk.RolePreset, opts ...Option) *fx {
	t.Helper()
	return newFxWith(t, preset, nil, opts...)
}

// newFxWith is newFx with options for the client.
func newFxWith(t *testing.T, preset sdk.RolePreset, sdkOpts []sdk.Option, opts ...Option) *fx {
	t.Helper()
	ctx := t.Context()
	f := &fx{c: sdk.New(memstore.New(), append([]sdk.Option{sdk.WithLogger(quiet)}, sdkOpts...)...), logs: &strings.Builder{}}
	var err error
	f.t, f.owner, err = f.c.CreateTenant(ctx, sdk.SystemActor(), sdk.CreateTenantRequest{
		Slug: "acme", Name: "Acme", OwnerEmail: "owner@acme.test", OwnerGivenName: "Olive", OwnerFamilyName: "Owner",
		IncludedSeats: 10, RolePreset: preset,
	})
	if err != nil {
		t.Fatal(err)
	}
	sys := sdk.SystemActor()
	add := func(email, given, role string) *sdk.Member {
		m, err := f.c.AddMember(ctx, sys, sdk.AddMemberRequest{TenantID: f.t.ID, Email: email, Role: role,
			Profile: sdk.Profile{GivenName: given, FamilyName: "Test"}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	f.admin = add("admin@acme.test", "Ada", "admin")
	f.admin2 = add("admin2@acme.test", "Abe", "admin")
	low := "admin"
	if preset != sdk.PresetPrimaryAdmin {
		f.std = add("std@acme.test", "Stan", "standard")
		low = "standard"
	}
	inv, err := f.c.Invite(ctx, sys, sdk.InviteRequest{TenantID: f.t.ID, Email: "invited@acme.test", Role: low, GivenName: "Ivy"})
	if err != nil {
		t.Fatal(err)
	}
	f.invited = inv.Member
	f.deact = add("deact@acme.test", "Dee", low)
	if f.deact, err = f.c.Deactivate(ctx, sys, f.t.ID, f.deact.ID); err != nil {
		t.Fatal(err)
	}
	f.h = New("/team", f.c, func(r *http.Request) (Identity, error) {
		id := r.Header.Get("X-Member")
		if id == "" {
			return Identity{}, ErrSignedOut
		}
		return Identity{TenantID: f.t.ID, MemberID: id}, nil
	}, append([]Option{WithLogger(slog.New(slog.NewTextHandler(f.logs, nil))), WithCSRFKey([]byte("test-key"))}, opts...)...)
	return f
}

// resp is an answer of the handler.
type resp struct {
	code int
	hdr  http.Header
	body string
}

func (f *fx) do(t *testing.T, as *sdk.Member, method, path string, form url.Values) resp {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequestWithContext(t.Context(), method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if as != nil {
		r.Header.Set("X-Member", as.ID)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return resp{code: w.Code, hdr: w.Header(), body: w.Body.String()}
}

func (f *fx) get(t *testing.T, as *sdk.Member, path string) resp {
	t.Helper()
	return f.do(t, as, http.MethodGet, path, nil)
}

// post sends a form with the actor's CSRF token.
func (f *fx) post(t *testing.T, as *sdk.Member, path string, form url.Values) resp {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", f.h.token(Identity{TenantID: f.t.ID, MemberID: as.ID}, time.Now()))
	}
	return f.do(t, as, http.MethodPost, path, form)
}

func (f *fx) member(t *testing.T, id string) *sdk.Member {
	t.Helper()
	m, err := f.c.Member(context.WithoutCancel(t.Context()), f.t.ID, id)
	if err != nil {
		t.Fatalf("member %s: %v", id, err)
	}
	return m
}

var (
	actionRe = regexp.MustCompile(`data-action="([a-z-]+)"`)
	rowRe    = regexp.MustCompile(`(?s)<tr data-member-id="([^"]+)"[^>]*>(.*?)</tr>`)
	flashRe  = regexp.MustCompile(`(?s)<div id="flash" role="status" aria-live="polite">(.*?)</div>`)
	errorRe  = regexp.MustCompile(`(?s)<div id="error" role="alert">(.*?)</div>`)
)

// actions returns the data-action names in html, each once, in order.
func actions(page string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range actionRe.FindAllStringSubmatch(page, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// rows returns each members-table row's actions by member id.
func rows(page string) map[string][]string {
	out := map[string][]string{}
	for _, m := range rowRe.FindAllStringSubmatch(page, -1) {
		out[m[1]] = actions(m[2])
		if strings.Contains(m[2], `name="id" value="`+m[1]+`"`) {
			out[m[1]] = append(out[m[1]], "select")
		}
	}
	return out
}

func flashOf(page string) string {
	if m := flashRe.FindStringSubmatch(page); m != nil {
		return html.UnescapeString(strings.TrimSpace(m[1]))
	}
	return ""
}

func errorOf(page string) string {
	if m := errorRe.FindStringSubmatch(page); m != nil {
		return html.UnescapeString(strings.TrimSpace(m[1]))
	}
	return ""
}

func mustCode(t *testing.T, r resp, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body:\n%s", r.code, code, r.body)
	}
}
