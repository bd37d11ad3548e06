package ui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/sdk"
)

func (h *Handler) memberRoutes() {
	m := h.mux
	m.HandleFunc("GET /members/{id}", h.page(h.memberPage))
	m.HandleFunc("POST /members/{id}/resend", h.post(h.resend))
	m.HandleFunc("POST /members/{id}/revoke", h.post(h.revoke))
	m.HandleFunc("POST /members/{id}/profile", h.post(h.updateProfile))
	m.HandleFunc("POST /members/{id}/role", h.post(h.changeRole))
	m.HandleFunc("POST /members/{id}/deactivate", h.post(h.memberOp(h.client.Deactivate, "deactivated")))
	m.HandleFunc("POST /members/{id}/reactivate", h.post(h.memberOp(h.client.Reactivate, "reactivated")))
	m.HandleFunc("POST /members/{id}/logout", h.post(h.memberOp(h.client.ForceLogout, "logged_out")))
	m.HandleFunc("GET /members/{id}/delete", h.page(h.deleteForm))
	m.HandleFunc("POST /members/{id}/delete", h.post(h.deleteMember))
	m.HandleFunc("POST /me/signout-everywhere", h.post(h.signOutEverywhere))
}

// memberPage is one member's page: the profile form and every action the
// actor may take on them.
type memberPage struct {
	base
	M       *sdk.Member
	Name    string
	Self    bool
	A       acts
	Given   string
	Family  string
	Display string
	Email   string
}

// memberView loads the tenant, the actor's policy and the member of the
// request's path.
func (h *Handler) memberView(rq *request, title string) (*memberPage, *view, error) {
	ctx := rq.r.Context()
	m, err := h.client.Member(ctx, rq.id.TenantID, rq.r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	v, err := h.load(ctx, rq, []*sdk.Member{m})
	if err != nil {
		return nil, nil, err
	}
	mp := &memberPage{base: h.base(rq, v, title), M: m, Name: m.Name(), Self: m.ID == v.me.ID,
		A: decide(v.p, []*sdk.Member{m})[0], Given: m.GivenName, Family: m.FamilyName, Display: m.DisplayName, Email: m.Email}
	return mp, v, nil
}

func (h *Handler) memberPage(rq *request) error {
	mp, _, err := h.memberView(rq, "member_title")
	if err != nil {
		return err
	}
	h.render(rq.w, http.StatusOK, "member", mp)
	return nil
}

// memberAgain draws the member page again after the SDK refused an action
// on the member, with the refusal and, for the profile form, what was
// typed.
func (h *Handler) memberAgain(rq *request, refusal error) error {
	if errors.Is(refusal, sdk.ErrNotFound) {
		return refusal
	}
	mp, _, err := h.memberView(rq, "member_title")
	if err != nil {
		return err
	}
	f := rq.r.PostForm
	if _, ok := f["email"]; ok {
		mp.Given, mp.Family, mp.Display, mp.Email = f.Get("given"), f.Get("family"), f.Get("display"), f.Get("email")
	}
	status, msg := h.explain(rq, refusal)
	mp.Error = msg
	h.render(rq.w, status, "member", mp)
	return nil
}

// memberDone ends a successful action on the member of the path: back to
// their page with a flash message.
func (h *Handler) memberDone(rq *request, flash string) error {
	return h.redirect(rq, "/members/"+rq.r.PathValue("id"), flash)
}

// updateProfile serves POST P/members/{id}/profile. Each field the form
// sent is set (an empty one cleared, except the email); the version the
// form was drawn from makes a concurrent edit a refusal instead of a
// silent overwrite.
func (h *Handler) updateProfile(rq *request) error {
	f := rq.r.PostForm
	req := sdk.UpdateProfileRequest{TenantID: rq.id.TenantID, MemberID: rq.r.PathValue("id")}
	field := func(name string) *string {
		if _, ok := f[name]; !ok {
			return nil
		}
		s := strings.TrimSpace(f.Get(name))
		return &s
	}
	req.GivenName, req.FamilyName, req.DisplayName, req.Email = field("given"), field("family"), field("display"), field("email")
	if v := f.Get("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return h.memberAgain(rq, &sdk.Error{Op: "ui.UpdateProfile", Code: sdk.CodeInvalidArgument, Reason: sdk.ReasonInvalid, Field: "Version", Message: "is not a version"})
		}
		req.ExpectedVersion = n
	}
	if _, err := h.client.UpdateProfile(rq.r.Context(), rq.actor(), req); err != nil {
		return h.memberAgain(rq, err)
	}
	return h.memberDone(rq, "profile_saved")
}

func (h *Handler) changeRole(rq *request) error {
	if _, err := h.client.ChangeRole(rq.r.Context(), rq.actor(), rq.id.TenantID, rq.r.PathValue("id"), rq.r.PostForm.Get("role")); err != nil {
		return h.memberAgain(rq, err)
	}
	return h.memberDone(rq, "role_changed")
}

// memberOp adapts an SDK operation on the member of the path that takes
// nothing else (deactivate, reactivate, force logout).
func (h *Handler) memberOp(op func(ctx context.Context, actor sdk.Actor, tenantID, memberID string) (*sdk.Member, error), flash string) func(*request) error {
	return func(rq *request) error {
		if _, err := op(rq.r.Context(), rq.actor(), rq.id.TenantID, rq.r.PathValue("id")); err != nil {
			return h.memberAgain(rq, err)
		}
		return h.memberDone(rq, flash)
	}
}

// signOutEverywhere serves POST P/me/signout-everywhere: the actor ends
// every session of their own, then the host's hook drops its cookie.
func (h *Handler) signOutEverywhere(rq *request) error {
	if _, err := h.client.ForceLogout(rq.r.Context(), rq.actor(), rq.id.TenantID, rq.id.MemberID); err != nil {
		return err
	}
	if h.signOut != nil {
		h.signOut(rq.w, rq.r)
	}
	return h.redirect(rq, "/", "signed_out_everywhere")
}

// deletePage confirms a deletion and offers whom the member's items go to.
type deletePage struct {
	base
	M          *sdk.Member
	Name       string
	Candidates []*sdk.Member
	Default    string
	Q          string
	Allowed    bool // the actor may delete the member
	// Reassigns: the host registered a Reassigner, so the page asks who
	// receives the member's items; without one it asks nothing it would
	// drop.
	Reassigns bool
}

// maxCandidates bounds the reassignment choices listed; a search narrows
// them.
const maxCandidates = 100

func (h *Handler) deleteView(rq *request) (*deletePage, error) {
	mp, v, err := h.memberView(rq, "delete_title")
	if err != nil {
		return nil, err
	}
	ctx := rq.r.Context()
	q := strings.TrimSpace(rq.r.FormValue("q"))
	dp := &deletePage{base: mp.base, M: mp.M, Name: mp.Name, Default: v.t.OwnerID, Q: q, Reassigns: h.client.Reassigns()}
	if !mp.A.Delete {
		d := v.p.Check(sdk.ActionRemove, mp.M)
		dp.Error = rq.cat.Reason(d.Reason, d.Message)
		if d.Allowed { // allowed but pointless: an invitation is revoked
			dp.Error = rq.cat.T("delete_invited")
		}
		return dp, nil
	}
	dp.Allowed = true
	if !dp.Reassigns {
		return dp, nil // nothing receives the member's items: no choice to offer
	}
	page, err := h.client.ListMembers(ctx, v.t.ID, sdk.ListMembersOptions{
		ListOptions: sdk.ListOptions{PageSize: maxCandidates}, Status: sdk.StatusActive, Prefix: q,
	})
	if err != nil {
		return nil, err
	}
	owner := false
	for _, c := range page.Items {
		if c.ID != mp.M.ID {
			dp.Candidates = append(dp.Candidates, c)
			owner = owner || c.ID == v.t.OwnerID
		}
	}
	if !owner && q == "" && v.t.OwnerID != mp.M.ID {
		if o, err := h.client.Member(ctx, v.t.ID, v.t.OwnerID); err == nil {
			dp.Candidates = append([]*sdk.Member{o}, dp.Candidates...)
		}
	}
	if sel := rq.r.FormValue("reassign_to"); sel != "" {
		dp.Default = sel
	}
	return dp, nil
}

func (h *Handler) deleteForm(rq *request) error {
	dp, err := h.deleteView(rq)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if dp.Error != "" {
		status = http.StatusForbidden
	}
	h.render(rq.w, status, "delete", dp)
	return nil
}

// removedPage reports a deletion: what was reassigned and what broke.
type removedPage struct {
	base
	Name       string
	Reassigned []string
	Broken     []string
}

func (h *Handler) deleteMember(rq *request) error {
	again := func(status int, msg string) error { return redraw(h, rq, "delete", h.deleteView, status, msg) }
	if rq.r.PostForm.Get("confirm") != "yes" {
		return again(http.StatusBadRequest, rq.cat.T("confirm_required"))
	}
	res, err := h.client.Remove(rq.r.Context(), rq.actor(), sdk.RemoveRequest{
		TenantID: rq.id.TenantID, MemberID: rq.r.PathValue("id"), ReassignTo: rq.r.PostForm.Get("reassign_to"),
	})
	if errors.Is(err, sdk.ErrNotFound) && sdk.FieldOf(err) == "" {
		return err
	}
	if err != nil {
		status, msg := h.explain(rq, err)
		return again(status, msg)
	}
	v, err := h.load(rq.r.Context(), rq, nil)
	if err != nil {
		return err
	}
	rp := &removedPage{base: h.base(rq, v, "deleted_title"), Name: res.Member.Name(), Broken: res.Broken}
	for kind, n := range res.Reassigned {
		rp.Reassigned = append(rp.Reassigned, strconv.Itoa(n)+" "+kind)
	}
	slices.Sort(rp.Reassigned)
	rp.Flash = rq.cat.T("flash.deleted")
	h.render(rq.w, http.StatusOK, "deleted", rp)
	return nil
}

func (h *Handler) resend(rq *request) error {
	res, err := h.client.Resend(rq.r.Context(), rq.actor(), rq.id.TenantID, rq.r.PathValue("id"))
	if err != nil {
		return h.memberAgain(rq, err)
	}
	return h.showLink(rq, res, "flash.resent")
}

func (h *Handler) revoke(rq *request) error {
	if err := h.client.Revoke(rq.r.Context(), rq.actor(), rq.id.TenantID, rq.r.PathValue("id")); err != nil {
		return h.memberAgain(rq, err)
	}
	return h.redirect(rq, "/", "revoked")
}
