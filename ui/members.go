package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster/sdk"
)

func (h *Handler) listRoutes() {
	h.mux.HandleFunc("GET /{$}", h.page(h.membersList))
	h.mux.HandleFunc("GET /members/new", h.page(h.form(sdk.ActionAddMember, "add_title", "add")))
	h.mux.HandleFunc("POST /members", h.post(h.addMember))
	h.mux.HandleFunc("GET /invite", h.page(h.form(sdk.ActionInviteMember, "invite_title", "invite")))
	h.mux.HandleFunc("POST /invitations", h.post(h.invite))
}

// listPage is the members list.
type listPage struct {
	base
	Rows     []listRow
	Status   string
	Role     string
	Q        string
	Statuses []sdk.Status
	Roles    []string
	Seats    string
	Next     string // URL of the next page, "" on the last
	First    string // URL of the first page, "" on it
	// Add, Invite: the add and invite controls; AddRefusal explains their
	// absence when the seat limit is what refuses.
	Add        bool
	Invite     bool
	AddRefusal string
	BulkDelete bool
	BulkLogout bool
	BulkRoles  []string
	Transfer   bool
	Activity   bool // draw the last-activity column
	// L holds the rows' labels, translated once per page rather than once
	// per row (a template's method call costs a reflective call).
	L rowLabels
}

type rowLabels struct {
	You, Edit, ChangeRole, Resend, Revoke, Deactivate, Reactivate, ForceLogout, Delete string
}

// listRow is one member of the list, flattened: a template's field lookup
// through sdk.Member (which embeds the whole profile) costs more than the
// row's rendering.
type listRow struct {
	ID          string
	Email       string
	Status      string
	URL         string // the member's page
	Name        string
	Self        bool
	Activity    string
	RoleLabel   string
	StatusLabel string
	SelectLabel string
	A           acts
}

// Bulk reports whether the page has any bulk action.
func (p *listPage) Bulk() bool { return p.BulkDelete || p.BulkLogout || len(p.BulkRoles) > 0 }

// membersList serves GET P/: one members read (the page), one tenant read,
// and the acting member's read when they are not on the page; every
// control is then decided for the whole page by the policy, without I/O.
func (h *Handler) membersList(rq *request) error {
	ctx := rq.r.Context()
	q := rq.r.URL.Query()
	opts := sdk.ListMembersOptions{
		ListOptions: sdk.ListOptions{PageSize: sdk.DefaultPageSize, Cursor: q.Get("cursor")},
		Status:      sdk.Status(q.Get("status")),
		Role:        q.Get("role"),
		Prefix:      strings.TrimSpace(q.Get("q")),
	}
	page, err := h.client.ListMembers(ctx, rq.id.TenantID, opts)
	if err != nil {
		return err
	}
	v, err := h.load(ctx, rq, page.Items)
	if err != nil {
		return err
	}
	lp := &listPage{
		base: h.base(rq, v, "members_title"), Status: string(opts.Status), Role: opts.Role, Q: opts.Prefix,
		Statuses: []sdk.Status{sdk.StatusActive, sdk.StatusInvited, sdk.StatusDeactivated},
		Seats:    rq.cat.T("seats_used", v.t.SeatsUsed, v.t.SeatLimit()),
		Transfer: mayTransfer(v.p),
	}
	c := rq.cat
	lp.L = rowLabels{You: c.T("you"), Edit: c.T("edit"), ChangeRole: c.T("change_role"), Resend: c.T("resend"), Revoke: c.T("revoke"),
		Deactivate: c.T("deactivate"), Reactivate: c.T("reactivate"), ForceLogout: c.T("force_logout"), Delete: c.T("delete")}
	for _, r := range v.t.Roles {
		lp.Roles = append(lp.Roles, r.Name)
	}
	lp.First, lp.Next = h.pageLinks("/", map[string]string{"status": lp.Status, "role": lp.Role, "q": lp.Q}, opts.Cursor, page.NextCursor)
	_, addD := grantable(v.p, sdk.ActionAddMember)
	_, invD := grantable(v.p, sdk.ActionInviteMember)
	lp.Add, lp.Invite = addD.Allowed, invD.Allowed
	if !invD.Allowed && invD.Reason == sdk.ReasonSeatLimit {
		lp.AddRefusal = rq.cat.Reason(invD.Reason, invD.Message)
	}
	var activity map[string]time.Time
	if h.lastActivity != nil {
		ids := make([]string, len(page.Items))
		for i, m := range page.Items {
			ids[i] = m.ID
		}
		activity = h.lastActivity(rq.r, v.t.ID, ids)
		lp.Activity = true
	}
	bulkRoles := map[string]bool{}
	for i, a := range decide(v.p, page.Items) {
		m := page.Items[i]
		row := listRow{ID: m.ID, Email: m.Email, Status: string(m.Status), URL: h.prefix + "/members/" + m.ID, Name: m.Name(), Self: m.ID == v.me.ID, A: a,
			RoleLabel: rq.cat.Role(m.Role), StatusLabel: rq.cat.T("status." + string(m.Status))}
		if a.Select() {
			row.SelectLabel = rq.cat.T("select_member", row.Name)
		}
		if lp.Activity {
			row.Activity = lp.Time(activity[m.ID])
		}
		lp.BulkDelete = lp.BulkDelete || a.Delete
		lp.BulkLogout = lp.BulkLogout || a.Logout
		for _, r := range a.Roles {
			bulkRoles[r] = true
		}
		lp.Rows = append(lp.Rows, row)
	}
	for _, r := range v.t.Roles { // in rank order
		if bulkRoles[r.Name] {
			lp.BulkRoles = append(lp.BulkRoles, r.Name)
		}
	}
	h.render(rq.w, http.StatusOK, "members", lp)
	return nil
}

// pageLinks returns the links to the first page of a list (when not on
// it, as cursor says) and to its next page (when next is a cursor), under
// path with the list's filters (empty ones left out).
func (h *Handler) pageLinks(path string, filter map[string]string, cursor, next string) (first, nextURL string) {
	q := url.Values{}
	for k, v := range filter {
		if v != "" {
			q.Set(k, v)
		}
	}
	if cursor != "" {
		first = h.prefix + path + "?" + q.Encode()
	}
	if next != "" {
		q.Set("cursor", next)
		nextURL = h.prefix + path + "?" + q.Encode()
	}
	return first, nextURL
}

// formPage is the add-member and the invite form.
type formPage struct {
	base
	Roles []string
	// Refusal explains why no form is drawn.
	Refusal string
	Given   string
	Family  string
	Email   string
	Role    string
	// Password: whether the add form offers one (never echoed back).
	Password bool
	// Link is the invitation link, shown once in the response that
	// created it.
	Link   string
	Target *sdk.Member
}

func (h *Handler) formView(rq *request, action sdk.Action, title string) (*formPage, error) {
	v, err := h.load(rq.r.Context(), rq, nil)
	if err != nil {
		return nil, err
	}
	fp := &formPage{base: h.base(rq, v, title), Password: action == sdk.ActionAddMember}
	roles, d := grantable(v.p, action)
	if !d.Allowed {
		fp.Refusal = rq.cat.Reason(d.Reason, d.Message)
		fp.Error = fp.Refusal
	}
	fp.Roles, fp.Role = roles, v.t.DefaultRole()
	return fp, nil
}

// form serves the add-member or the invite form (page), drawn without
// its form, with the refusal, when the actor may not use it.
func (h *Handler) form(action sdk.Action, title, page string) func(*request) error {
	return func(rq *request) error {
		fp, err := h.formView(rq, action, title)
		if err != nil {
			return err
		}
		h.render(rq.w, statusOf(fp.Refusal), page, fp)
		return nil
	}
}

// statusOf is 403 for a form drawn without its form (refused), else 200.
func statusOf(refusal string) int {
	if refusal != "" {
		return http.StatusForbidden
	}
	return http.StatusOK
}

// formAgain draws a form again after the SDK refused it, with what was
// typed (never the password) and the refusal.
func (h *Handler) formAgain(rq *request, action sdk.Action, title, page string, err error) error {
	fp, lerr := h.formView(rq, action, title)
	if lerr != nil {
		return lerr
	}
	f := rq.r.PostForm
	fp.Given, fp.Family, fp.Email, fp.Role = f.Get("given"), f.Get("family"), f.Get("email"), f.Get("role")
	status, msg := h.explain(rq, err)
	fp.Error = msg
	h.render(rq.w, status, page, fp)
	return nil
}

func (h *Handler) addMember(rq *request) error {
	f := rq.r.PostForm
	_, err := h.client.AddMember(rq.r.Context(), rq.actor(), sdk.AddMemberRequest{
		TenantID: rq.id.TenantID,
		Email:    strings.TrimSpace(f.Get("email")),
		Profile:  sdk.Profile{GivenName: strings.TrimSpace(f.Get("given")), FamilyName: strings.TrimSpace(f.Get("family"))},
		Role:     f.Get("role"),
		Password: f.Get("password"),
	})
	if err != nil {
		return h.formAgain(rq, sdk.ActionAddMember, "add_title", "add", err)
	}
	return h.redirect(rq, "/", "member_added")
}

// invite serves POST P/invitations. The answer is the page holding the
// invitation link, not a redirect: the secret exists only in this
// response and is never stored by the screen or shown again.
func (h *Handler) invite(rq *request) error {
	f := rq.r.PostForm
	res, err := h.client.Invite(rq.r.Context(), rq.actor(), sdk.InviteRequest{
		TenantID:   rq.id.TenantID,
		Email:      strings.TrimSpace(f.Get("email")),
		Role:       f.Get("role"),
		GivenName:  strings.TrimSpace(f.Get("given")),
		FamilyName: strings.TrimSpace(f.Get("family")),
	})
	if err != nil {
		return h.formAgain(rq, sdk.ActionInviteMember, "invite_title", "invite", err)
	}
	return h.showLink(rq, res, "flash.invited")
}

// showLink answers with the one-time invitation link of res.
func (h *Handler) showLink(rq *request, res *sdk.InviteResult, flash string) error {
	v, err := h.load(rq.r.Context(), rq, nil)
	if err != nil {
		return err
	}
	fp := &formPage{base: h.base(rq, v, "invite_link_title"), Link: h.inviteLink(rq.r, res.Secret), Target: res.Member}
	fp.Flash = rq.cat.T(flash)
	h.render(rq.w, http.StatusOK, "link", fp)
	return nil
}
