package ui

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/sdk"
)

func (h *Handler) adminRoutes() {
	m := h.mux
	m.HandleFunc("POST /bulk", h.post(h.bulk))
	m.HandleFunc("GET /ownership", h.page(h.ownershipForm))
	m.HandleFunc("POST /ownership", h.post(h.transfer))
	m.HandleFunc("GET /seats", h.page(h.seatsPage))
	m.HandleFunc("POST /seats", h.post(h.seats))
	m.HandleFunc("GET /audit", h.page(h.auditPage))
}

// bulkPage is the confirmation of a bulk deletion and the result of any
// bulk action.
type bulkPage struct {
	base
	Action  string
	Role    string
	Members []*sdk.Member // the selection, for the confirmation
	Results []bulkResult
}

type bulkResult struct {
	ID      string
	Name    string
	OK      bool
	Message string
}

// bulk serves POST P/bulk: a deletion, force logout or role change of the
// members selected, each decided and done by the SDK on its own, with one
// result per member. A deletion without confirm=yes answers the
// confirmation page instead (the script asks in a dialog first).
func (h *Handler) bulk(rq *request) error {
	ctx := rq.r.Context()
	f := rq.r.PostForm
	ids, action := f["id"], f.Get("action")
	if len(ids) == 0 {
		h.message(rq, http.StatusBadRequest, "bulk_title", "bulk_none")
		return nil
	}
	if action != "delete" && action != "logout" && action != "role" {
		h.message(rq, http.StatusBadRequest, "bulk_title", "bulk_unknown")
		return nil
	}
	if len(ids) > sdk.MaxBulkItems {
		return &sdk.Error{Op: "ui.Bulk", Code: sdk.CodeInvalidArgument, Reason: sdk.ReasonInvalid, Field: "MemberIDs",
			Message: "at most " + strconv.Itoa(sdk.MaxBulkItems) + " members at once"}
	}
	// The selection's names, for the confirmation and the results (a
	// member deleted is gone afterwards).
	byID, err := h.membersByID(ctx, rq.id.TenantID, ids)
	if err != nil {
		return err
	}
	selected := make([]*sdk.Member, len(ids))
	for i, id := range ids {
		selected[i] = byID[id] // nil: not (or no longer) a member
	}
	v, err := h.load(ctx, rq, nil)
	if err != nil {
		return err
	}
	if action == "delete" && f.Get("confirm") != "yes" {
		bp := &bulkPage{base: h.base(rq, v, "bulk_confirm_title"), Action: action}
		for i, m := range selected {
			if m == nil {
				m = &sdk.Member{ID: ids[i], Email: ids[i]}
			}
			bp.Members = append(bp.Members, m)
		}
		h.render(rq.w, http.StatusOK, "bulkconfirm", bp)
		return nil
	}
	var res *sdk.BulkResult
	switch action {
	case "delete":
		res, err = h.client.BulkRemove(ctx, rq.actor(), rq.id.TenantID, ids)
	case "logout":
		res, err = h.client.BulkForceLogout(ctx, rq.actor(), rq.id.TenantID, ids)
	default:
		res, err = h.client.BulkChangeRole(ctx, rq.actor(), rq.id.TenantID, ids, f.Get("role"))
	}
	if err != nil {
		return err
	}
	bp := &bulkPage{base: h.base(rq, v, "bulk_title"), Action: action}
	for i, it := range res.Items {
		r := bulkResult{ID: it.Key, Name: it.Key, OK: it.Err == nil}
		if m := selected[i]; m != nil {
			r.Name = m.Name() + " (" + m.Email + ")"
		}
		if it.Err != nil {
			_, r.Message = h.explain(rq, it.Err)
		}
		bp.Results = append(bp.Results, r)
	}
	bp.Flash = rq.cat.T("bulk_summary", res.Succeeded, res.Failed)
	h.render(rq.w, http.StatusOK, "bulk", bp)
	return nil
}

// idsPerSearch is how many ids one search asks for: an Or of equalities
// stays within sdk.MaxCondNodes (one node per id, one for the Or).
const idsPerSearch = 200

// membersByID reads the members of ids in one search per idsPerSearch ids
// (at most five for sdk.MaxBulkItems) rather than one read per member;
// ids that name no member are absent from the map.
func (h *Handler) membersByID(ctx context.Context, tenantID string, ids []string) (map[string]*sdk.Member, error) {
	out := make(map[string]*sdk.Member, len(ids))
	for chunk := range slices.Chunk(ids, idsPerSearch) {
		conds := make([]*sdk.Cond, len(chunk))
		for i, id := range chunk {
			conds[i] = sdk.Compare(sdk.FieldID, sdk.OpEq, id)
		}
		page, _, err := h.client.SearchMembers(ctx, tenantID, sdk.MemberSearch{
			Where: sdk.Or(conds...), ListOptions: sdk.ListOptions{PageSize: len(chunk)},
		})
		if err != nil {
			return nil, err
		}
		for _, m := range page.Items {
			out[m.ID] = m
		}
	}
	return out, nil
}

// ownershipPage is the ownership transfer form.
type ownershipPage struct {
	base
	Allowed    bool
	Candidates []*sdk.Member
	To         string
	Q          string
	Successor  string
}

func (h *Handler) ownershipView(rq *request) (*ownershipPage, error) {
	ctx := rq.r.Context()
	v, err := h.load(ctx, rq, nil)
	if err != nil {
		return nil, err
	}
	op := &ownershipPage{base: h.base(rq, v, "ownership_title"), To: rq.r.FormValue("to"), Q: strings.TrimSpace(rq.r.FormValue("q")),
		Successor: rq.cat.Role(v.t.SuccessorRole())}
	if !mayTransfer(v.p) {
		d := v.p.Check(sdk.ActionTransferOwnership, &sdk.Member{TenantID: v.t.ID, Status: sdk.StatusActive})
		op.Error = rq.cat.Reason(d.Reason, d.Message)
		return op, nil
	}
	op.Allowed = true
	page, err := h.client.ListMembers(ctx, v.t.ID, sdk.ListMembersOptions{
		ListOptions: sdk.ListOptions{PageSize: maxCandidates}, Status: sdk.StatusActive, Prefix: op.Q,
	})
	if err != nil {
		return nil, err
	}
	ms := page.Items
	if op.To != "" && !slices.ContainsFunc(ms, func(m *sdk.Member) bool { return m.ID == op.To }) {
		if m, err := h.client.Member(ctx, v.t.ID, op.To); err == nil {
			ms = append([]*sdk.Member{m}, ms...)
		}
	}
	d := v.p.CheckAll(nil, sdk.ActionTransferOwnership, ms)
	for i, m := range ms {
		if d[i].Allowed {
			op.Candidates = append(op.Candidates, m)
		}
	}
	return op, nil
}

func (h *Handler) ownershipForm(rq *request) error {
	op, err := h.ownershipView(rq)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !op.Allowed {
		status = http.StatusForbidden
	}
	h.render(rq.w, status, "ownership", op)
	return nil
}

// transfer serves POST P/ownership. The new owner's email must be typed
// again (confirm_email): a mismatch changes nothing.
func (h *Handler) transfer(rq *request) error {
	ctx := rq.r.Context()
	f := rq.r.PostForm
	again := func(status int, msg string) error { return redraw(h, rq, "ownership", h.ownershipView, status, msg) }
	to, err := h.client.Member(ctx, rq.id.TenantID, f.Get("to"))
	if err != nil {
		status, msg := h.explain(rq, err)
		return again(status, msg)
	}
	if sdk.NormalizeEmail(f.Get("confirm_email")) != to.EmailKey {
		return again(http.StatusBadRequest, rq.cat.T("ownership_mismatch"))
	}
	if _, err := h.client.TransferOwnership(ctx, rq.actor(), rq.id.TenantID, to.ID); err != nil {
		status, msg := h.explain(rq, err)
		return again(status, msg)
	}
	return h.redirect(rq, "/", "ownership_transferred")
}

// seatsPage shows the tenant's seats and the forms to buy or remove extra
// ones.
type seatsPage struct {
	base
	Seats   string
	Intro   string
	Manage  bool
	Remove  bool // extra seats exist to remove
	Refusal string
}

func (h *Handler) seatsView(rq *request) (*seatsPage, error) {
	v, err := h.load(rq.r.Context(), rq, nil)
	if err != nil {
		return nil, err
	}
	t := v.t
	sp := &seatsPage{base: h.base(rq, v, "seats_title"),
		Seats: rq.cat.T("seats_used", t.SeatsUsed, t.SeatLimit()),
		Intro: rq.cat.T("seats_intro", t.IncludedSeats, t.ExtraSeats, t.SeatsUsed)}
	if d := v.p.Check(sdk.ActionManageSeats, nil); d.Allowed {
		sp.Manage, sp.Remove = true, t.ExtraSeats > 0
	} else {
		sp.Refusal = rq.cat.Reason(d.Reason, d.Message)
	}
	return sp, nil
}

func (h *Handler) seatsPage(rq *request) error {
	sp, err := h.seatsView(rq)
	if err != nil {
		return err
	}
	h.render(rq.w, http.StatusOK, "seats", sp)
	return nil
}

func (h *Handler) seats(rq *request) error {
	f := rq.r.PostForm
	again := func(status int, msg string) error { return redraw(h, rq, "seats", h.seatsView, status, msg) }
	// Only "not a number" is the screen's to say; the range is the
	// SDK's rule, refused by AddSeats and RemoveSeats with its message.
	n, err := strconv.Atoi(strings.TrimSpace(f.Get("n")))
	if err != nil {
		return again(http.StatusBadRequest, rq.cat.T("seats_bad_n"))
	}
	ctx := rq.r.Context()
	flash := "seats_added"
	switch f.Get("op") {
	case "add":
		_, err = h.client.AddSeats(ctx, rq.actor(), rq.id.TenantID, n)
	case "remove":
		flash = "seats_removed"
		_, err = h.client.RemoveSeats(ctx, rq.actor(), rq.id.TenantID, n)
	default:
		return again(http.StatusBadRequest, rq.cat.T("bad_request_text"))
	}
	if err != nil {
		status, msg := h.explain(rq, err)
		return again(status, msg)
	}
	return h.redirect(rq, "/seats", flash)
}

// auditPage is a page of the audit log.
type auditPage struct {
	base
	Events   []auditRow
	Action   string
	Actor    string
	Target   string
	Channel  string
	Actions  []sdk.EventType
	Channels []string
	Next     string
	First    string
}

type auditRow struct {
	*sdk.AuditEvent
	Changes []string
	// MemberTarget: the target is a member (not a tenant, group or token),
	// so it links to the member's page.
	MemberTarget bool
}

// EventName returns an event type's label.
func (b *base) EventName(e string) string {
	if b.cat.Has("event." + e) {
		return b.cat.T("event." + e)
	}
	return e
}

func (h *Handler) auditPage(rq *request) error {
	ctx := rq.r.Context()
	q := rq.r.URL.Query()
	v, err := h.load(ctx, rq, nil)
	if err != nil {
		return err
	}
	ap := &auditPage{base: h.base(rq, v, "audit_title"), Action: q.Get("action"), Actor: strings.TrimSpace(q.Get("actor")),
		Target: strings.TrimSpace(q.Get("target")), Channel: q.Get("channel"), Actions: sdk.AuditActions, Channels: sdk.AuditChannels}
	page, err := h.client.AuditLog(ctx, rq.actor(), v.t.ID, sdk.AuditListOptions{
		ListOptions: sdk.ListOptions{PageSize: sdk.DefaultPageSize, Cursor: q.Get("cursor")},
		ActorID:     ap.Actor, TargetID: ap.Target, Action: ap.Action, Channel: ap.Channel,
	})
	if err != nil {
		status, msg := h.explain(rq, err)
		ap.Error = msg
		h.render(rq.w, status, "audit", ap)
		return nil
	}
	for _, e := range page.Items {
		row := auditRow{AuditEvent: e, MemberTarget: strings.HasPrefix(e.Action, "member.") || strings.HasPrefix(e.Action, "invitation.")}
		for _, k := range sortedKeys(e.Before, e.After) {
			b, a := e.Before[k], e.After[k]
			switch {
			case b == "":
				row.Changes = append(row.Changes, k+": "+a)
			case a == "":
				row.Changes = append(row.Changes, k+": "+b+" →")
			default:
				row.Changes = append(row.Changes, k+": "+b+" → "+a)
			}
		}
		ap.Events = append(ap.Events, row)
	}
	ap.First, ap.Next = h.pageLinks("/audit", map[string]string{"action": ap.Action, "actor": ap.Actor, "target": ap.Target, "channel": ap.Channel},
		q.Get("cursor"), page.NextCursor)
	h.render(rq.w, http.StatusOK, "audit", ap)
	return nil
}

// sortedKeys returns the keys of a and b, sorted, each once.
func sortedKeys(a, b map[string]string) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}
