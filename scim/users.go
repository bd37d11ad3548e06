package scim

import (
	"context"
	"net/http"
	"strings"

	elim "github.com/elimity-com/scim"
	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/sdk"
)

// userAttrs is the SCIM representation of a member (RFC 7643 §4.1 and
// §4.3), without the id, schemas and meta that every resource carries.
// Roster keeps one address per member: userName and the one work email are
// the same value. The password is never returned (RFC 7643 §4.1.1).
func userAttrs(m *sdk.Member, groups []string, base string) map[string]any {
	a := map[string]any{
		"userName": m.Email,
		"active":   m.Status == sdk.StatusActive,
		"emails":   []any{map[string]any{"value": m.Email, "type": "work", "primary": true}},
		"roles":    []any{map[string]any{"value": m.Role, "primary": true}},
	}
	name := map[string]any{}
	if m.GivenName != "" {
		name["givenName"] = m.GivenName
	}
	if m.FamilyName != "" {
		name["familyName"] = m.FamilyName
	}
	if f := strings.TrimSpace(m.GivenName + " " + m.FamilyName); f != "" {
		name["formatted"] = f
	}
	if len(name) > 0 {
		a["name"] = name
	}
	if m.DisplayName != "" {
		a["displayName"] = m.DisplayName
	}
	if m.Title != "" {
		a["title"] = m.Title
	}
	if m.ExternalID != "" {
		a["externalId"] = m.ExternalID
	}
	ext := map[string]any{}
	if m.Department != "" {
		ext["department"] = m.Department
	}
	if m.ManagerID != "" {
		ext["manager"] = map[string]any{"value": m.ManagerID, "$ref": base + "/Users/" + m.ManagerID}
	}
	if len(ext) > 0 {
		a[enterpriseURN] = ext
	}
	if len(groups) > 0 {
		gs := make([]any, len(groups))
		for i, id := range groups {
			gs[i] = map[string]any{"value": id, "$ref": base + "/Groups/" + id, "type": "direct"}
		}
		a["groups"] = gs
	}
	return a
}

// userResource is a complete User resource, as GET returns it.
func userResource(m *sdk.Member, groups []string, base string) map[string]any {
	a := userAttrs(m, groups, base)
	a["id"] = m.ID
	a["schemas"] = []string{userURN, enterpriseURN}
	a["meta"] = map[string]any{
		"resourceType": "User",
		"created":      scimTime(m.CreatedAt),
		"lastModified": scimTime(m.UpdatedAt),
		"location":     base + "/Users/" + m.ID,
		"version":      etag(m.Version),
	}
	return a
}

// elimResource wraps a member for elimity's write responses, which add id,
// schemas and meta themselves. The query's attributes/excludedAttributes
// apply (RFC 7644 §3.9).
func (h *Handler) elimUser(r *http.Request, req *request, m *sdk.Member) (elim.Resource, error) {
	var groups []string
	proj, err := projectionFromQuery(r)
	if err != nil {
		return elim.Resource{}, err
	}
	// A member created by this request is in no group yet.
	if proj.wants("groups") && r.Method != http.MethodPost {
		if groups, err = h.groupsOf(r.Context(), req, m); err != nil {
			return elim.Resource{}, h.fail(r, err)
		}
	}
	attrs := proj.apply(userAttrs(m, groups, req.base))
	created, modified := m.CreatedAt, m.UpdatedAt
	return elim.Resource{ID: m.ID, Attributes: attrs, Meta: elim.Meta{Created: &created, LastModified: &modified, Version: etag(m.Version)}}, nil
}

// samePassword reports whether pw is already the member's password. Okta
// re-sends the password with every PUT when password sync is on; setting
// it again would log the member out each time.
func (h *Handler) samePassword(r *http.Request, req *request, m *sdk.Member, pw string) bool {
	_, err := h.client.VerifyPassword(r.Context(), req.tenantID, m.Email, pw)
	return err == nil || sdk.ReasonOf(err) == sdk.ReasonInactive
}

// groupsOf returns the ids of a member's groups: from the member itself
// when the store keeps them there, else with one store call.
func (h *Handler) groupsOf(ctx context.Context, req *request, m *sdk.Member) ([]string, error) {
	of, err := h.client.GroupIDsOfMembers(ctx, req.tenantID, []*sdk.Member{m})
	return of[m.ID], err
}

// getUser serves GET /Users/{id} (RFC 7644 §3.4.1), with ETag and
// If-None-Match.
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, req *request) {
	if mux.Vars(r)["id"] == ".search" {
		h.methodNotAllowed(w, r)
		return
	}
	proj, err := projectionFromQuery(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	m, err := h.client.Member(r.Context(), req.tenantID, mux.Vars(r)["id"])
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	tag := etag(m.Version)
	w.Header().Set("ETag", tag)
	if noneMatch(r, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var groups []string
	if proj.wants("groups") {
		if groups, err = h.groupsOf(r.Context(), req, m); err != nil {
			writeError(w, h.fail(r, err))
			return
		}
	}
	w.Header().Set("Location", req.base+"/Users/"+m.ID)
	writeJSON(w, http.StatusOK, proj.apply(userResource(m, groups, req.base)))
}

func noneMatch(r *http.Request, tag string) bool {
	v := r.Header.Get("If-None-Match")
	if v == "" {
		return false
	}
	want := strings.TrimPrefix(tag, "W/")
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// userHandler is elimity's callback set for Users. Elimity has parsed and
// validated the body against the User schema and its enterprise extension
// (readOnly attributes such as groups dropped) before these run.
type userHandler struct{ h *Handler }

// Create maps POST /Users (RFC 7644 §3.3) to sdk AddMember: active=false
// creates a deactivated member; a password is set with SetPassword.
func (u userHandler) Create(r *http.Request, attrs elim.ResourceAttributes) (elim.Resource, error) {
	h, req, ctx := u.h, reqFrom(r), r.Context()
	if err := checkSchemas(req.body, userURN, enterpriseURN); err != nil {
		return elim.Resource{}, err
	}
	d, err := docFromAttrs(attrs)
	if err != nil {
		return elim.Resource{}, err
	}
	if err := d.check(); err != nil {
		return elim.Resource{}, err
	}
	if d.password != nil {
		// Refuse a password the SDK would refuse before creating anyone.
		if err := sdk.CheckPassword(*d.password); err != nil {
			return elim.Resource{}, h.fail(r, err)
		}
	}
	st := sdk.StatusActive
	if !d.active {
		st = sdk.StatusDeactivated
	}
	m, err := h.client.AddMember(ctx, req.actor, sdk.AddMemberRequest{
		TenantID: req.tenantID, Email: d.email(nil), GivenName: d.givenName, FamilyName: d.familyName,
		DisplayName: d.displayName, ExternalID: d.externalID, Department: d.department, Title: d.title,
		ManagerID: d.managerID, Status: st,
	})
	if err != nil {
		return elim.Resource{}, h.fail(r, err)
	}
	if d.password != nil {
		pm, err := h.client.SetPassword(ctx, req.actor, req.tenantID, m.ID, *d.password)
		if err != nil {
			// Creating a user with an unacceptable password must not leave
			// the user behind: the client will retry the POST.
			if rerr := h.client.RemoveMember(context.WithoutCancel(ctx), req.actor, req.tenantID, m.ID); rerr != nil {
				h.log.Error("scim: removing a member whose password was refused failed", "member", m.ID, "err", rerr)
			}
			return elim.Resource{}, h.fail(r, err)
		}
		if pm != nil {
			m = pm
		}
	}
	return h.elimUser(r, req, m)
}

// Get is unused: GET is served by Handler.getUser, which can answer
// If-None-Match. It exists to satisfy elimity's interface.
func (u userHandler) Get(r *http.Request, id string) (elim.Resource, error) {
	m, err := u.h.client.Member(r.Context(), reqFrom(r).tenantID, id)
	if err != nil {
		return elim.Resource{}, u.h.fail(r, err)
	}
	return u.h.elimUser(r, reqFrom(r), m)
}

// GetAll is unused: lists are served by Handler.listUsers.
func (u userHandler) GetAll(r *http.Request, _ elim.ListRequestParams) (elim.Page, error) {
	return elim.Page{}, scimError{Status: http.StatusNotImplemented}
}

// Replace maps PUT /Users/{id} (RFC 7644 §3.5.1): every stored attribute
// takes the value sent, absent ones are cleared, except active (absent:
// unchanged) and the password (absent: unchanged). groups is readOnly and
// ignored.
func (u userHandler) Replace(r *http.Request, id string, attrs elim.ResourceAttributes) (elim.Resource, error) {
	h, req, ctx := u.h, reqFrom(r), r.Context()
	if err := checkSchemas(req.body, userURN, enterpriseURN); err != nil {
		return elim.Resource{}, err
	}
	m, err := h.client.Member(ctx, req.tenantID, id)
	if err != nil {
		return elim.Resource{}, h.fail(r, err)
	}
	if err := ifMatch(r, m.Version); err != nil {
		return elim.Resource{}, err
	}
	d, err := docFromAttrs(attrs)
	if err != nil {
		return elim.Resource{}, err
	}
	if _, ok := attrs["active"]; !ok {
		d.active = m.Status == sdk.StatusActive
	}
	if err := d.check(); err != nil {
		return elim.Resource{}, err
	}
	m, err = h.applyDoc(r, req, m, d)
	if err != nil {
		return elim.Resource{}, err
	}
	return h.elimUser(r, req, m)
}

// Patch is unused: PATCH is served by Handler.patchUser (see readPatch).
// It exists to satisfy elimity's interface.
func (u userHandler) Patch(r *http.Request, id string, ops []elim.PatchOperation) (elim.Resource, error) {
	m, err := u.h.patchMember(r, reqFrom(r), id, ops)
	if err != nil {
		return elim.Resource{}, err
	}
	return u.h.elimUser(r, reqFrom(r), m)
}

// patchMember applies PATCH operations (RFC 7644 §3.5.2) in order to the
// user's representation, then writes the difference through the SDK.
func (h *Handler) patchMember(r *http.Request, req *request, id string, ops []elim.PatchOperation) (*sdk.Member, error) {
	m, err := h.client.Member(r.Context(), req.tenantID, id)
	if err != nil {
		return nil, h.fail(r, err)
	}
	if err := ifMatch(r, m.Version); err != nil {
		return nil, err
	}
	d := docFromMember(m)
	for _, op := range ops {
		if err := d.apply(op.Op, op.Path, op.Value); err != nil {
			return nil, err
		}
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	return h.applyDoc(r, req, m, d)
}

// applyDoc writes the difference between m and d through the SDK, in an
// order that keeps every step valid: reactivate, profile, password,
// deactivate (which also logs the member out). When the client sent
// If-Match, the profile write is conditional on that version.
func (h *Handler) applyDoc(r *http.Request, req *request, m *sdk.Member, d *userDoc) (*sdk.Member, error) {
	ctx := r.Context()
	active := m.Status == sdk.StatusActive
	var err error
	if d.active && !active {
		if m, err = h.client.Reactivate(ctx, req.actor, req.tenantID, m.ID); err != nil {
			return nil, h.fail(r, err)
		}
	}
	up := sdk.UpdateProfileRequest{TenantID: req.tenantID, MemberID: m.ID}
	changed := false
	set := func(dst **string, cur, want string) {
		if cur != want {
			*dst, changed = &want, true
		}
	}
	set(&up.Email, m.Email, d.email(m))
	set(&up.GivenName, m.GivenName, d.givenName)
	set(&up.FamilyName, m.FamilyName, d.familyName)
	set(&up.DisplayName, m.DisplayName, d.displayName)
	set(&up.ExternalID, m.ExternalID, d.externalID)
	set(&up.Department, m.Department, d.department)
	set(&up.Title, m.Title, d.title)
	set(&up.ManagerID, m.ManagerID, d.managerID)
	if changed {
		if r.Header.Get("If-Match") != "" {
			up.ExpectedVersion = m.Version
		}
		if m, err = h.client.UpdateProfile(ctx, req.actor, up); err != nil {
			return nil, h.fail(r, err)
		}
	}
	if d.password != nil && !h.samePassword(r, req, m, *d.password) {
		pm, err := h.client.SetPassword(ctx, req.actor, req.tenantID, m.ID, *d.password)
		if err != nil {
			return nil, h.fail(r, err)
		}
		if pm != nil {
			m = pm
		}
	}
	if !d.active && m.Status == sdk.StatusActive {
		if m, err = h.client.Deactivate(ctx, req.actor, req.tenantID, m.ID); err != nil {
			return nil, h.fail(r, err)
		}
	}
	return m, nil
}

// Delete maps DELETE /Users/{id} (RFC 7644 §3.6) to sdk RemoveMember, which
// reassigns what the member owns to the owner and takes them out of every
// group.
func (u userHandler) Delete(r *http.Request, id string) error {
	h, req, ctx := u.h, reqFrom(r), r.Context()
	if r.Header.Get("If-Match") != "" {
		m, err := h.client.Member(ctx, req.tenantID, id)
		if err != nil {
			return h.fail(r, err)
		}
		if err := ifMatch(r, m.Version); err != nil {
			return err
		}
	}
	if err := h.client.RemoveMember(ctx, req.actor, req.tenantID, id); err != nil {
		return h.fail(r, err)
	}
	return nil
}
