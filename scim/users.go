package scim

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/sdk"
)

// Users are served here, each write as one SDK call: POST is
// [sdk.Client.AddMember], PUT and PATCH are [sdk.Client.UpdateMember] (the
// profile fields by field mask, the status and the password in one
// conditional write), DELETE is [sdk.Client.RemoveMember]. Bodies are read
// through the attribute table (edit.go), so the tenant's custom extension
// is accepted like the standard schemas.

// groupsOf returns the ids of a member's groups: from the member itself
// when the store keeps them there, else with one store call.
func (h *Handler) groupsOf(ctx context.Context, req *request, m *sdk.Member) ([]string, error) {
	of, err := h.client.GroupIDsOfMembers(ctx, req.tenantID, []*sdk.Member{m})
	return of[m.ID], err
}

// writeUser answers with the User resource of m, its ETag and Location.
func (h *Handler) writeUser(w http.ResponseWriter, r *http.Request, req *request, s *userSchema, status int, m *sdk.Member, proj projection) {
	var groups []string
	// A member created by this request is in no group yet; otherwise the
	// member carries its groups when the store keeps them on the member,
	// and one store call finds them when not.
	if status != http.StatusCreated && proj.wants("groups") {
		var err error
		if groups, err = h.groupsOf(r.Context(), req, m); err != nil {
			writeError(w, h.fail(r, err))
			return
		}
	}
	v := userView{base: req.base, groups: groups, proj: proj}
	if len(m.Custom) > 0 {
		x, err := s.extension()
		if err != nil {
			writeError(w, h.fail(r, err))
			return
		}
		v.ext = x
	}
	bp := bufPool.Get().(*[]byte)
	b := appendUser((*bp)[:0], m, &v)
	hd := w.Header()
	hd["Content-Type"] = contentTypeHeader
	hd["Content-Length"] = []string{strconv.Itoa(len(b))}
	hd["Etag"] = []string{etag(m.Version)}
	hd["Location"] = []string{req.base + "/Users/" + m.ID}
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b
		bufPool.Put(bp)
	}
}

// getUser serves GET /Users/{id} (RFC 7644 §3.4.1), with ETag and
// If-None-Match.
func (h *Handler) getUser(w http.ResponseWriter, r *http.Request, req *request) {
	id := mux.Vars(r)["id"]
	if id == ".search" {
		h.methodNotAllowed(w, r)
		return
	}
	proj, err := projectionFromQuery(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	m, err := h.client.Member(r.Context(), req.tenantID, id)
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	tag := etag(m.Version)
	if noneMatch(r, tag) {
		w.Header().Set("ETag", tag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.writeUser(w, r, req, h.schemaFor(r.Context(), req), http.StatusOK, m, proj)
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

// readUser reads a POST or PUT body (RFC 7644 §3.3, §3.5.1) into an edit
// of an empty profile: every attribute through the table, schemas checked,
// read-only attributes ignored, userName required.
func (h *Handler) readUser(ctx context.Context, req *request) (*edit, error) {
	v, err := decodeJSON(req.body)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, badRequest(typeInvalidSyntax, "The body is not a JSON object of the User resource.")
	}
	s := h.schemaFor(ctx, req)
	if err := s.checkSchemas(obj); err != nil {
		return nil, err
	}
	e := &edit{s: s}
	if err := e.applyObject("replace", "", obj); err != nil {
		return nil, err
	}
	return e, e.checkRequired()
}

// checkSchemas checks a resource's "schemas" (RFC 7643 §3): present, the
// core User schema among them, and only the User resource's schemas.
func (s *userSchema) checkSchemas(obj map[string]any) error {
	var list []any
	found := false
	for k, v := range obj {
		if strings.EqualFold(k, "schemas") {
			l, ok := v.([]any)
			if !ok {
				return badRequest(typeInvalidSyntax, "schemas must be a list of URIs.")
			}
			list, found = l, true
		}
	}
	if !found {
		return badRequest(typeInvalidValue, "schemas is required and must contain %q.", userURN)
	}
	core := false
	for _, x := range list {
		u, ok := x.(string)
		if !ok {
			return badRequest(typeInvalidSyntax, "schemas must be a list of URIs.")
		}
		urn, ok, err := s.schemaURN(u)
		if err != nil {
			return err
		}
		if !ok {
			return badRequest(typeInvalidValue, "Unknown schema %.200q for the User resource.", u)
		}
		core = core || urn == userURN
	}
	if !core {
		return badRequest(typeInvalidValue, "schemas must contain %q.", userURN)
	}
	return nil
}

func status(active *bool) *sdk.Status {
	if active == nil {
		return nil
	}
	st := sdk.StatusDeactivated
	if *active {
		st = sdk.StatusActive
	}
	return &st
}

// postUser serves POST /Users (RFC 7644 §3.3): one [sdk.Client.AddMember]
// with the whole profile, the status (active=false creates a deactivated
// member) and the password.
func (h *Handler) postUser(w http.ResponseWriter, r *http.Request, req *request) {
	proj, err := projectionFromQuery(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	e, err := h.readUser(r.Context(), req)
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	if len(e.roles) > 0 {
		ti, err := e.s.tenant()
		if err != nil {
			writeError(w, h.fail(r, err))
			return
		}
		if err := e.checkRoles(ti.defaultRole); err != nil {
			writeError(w, errorFor(err))
			return
		}
	}
	add := sdk.AddMemberRequest{TenantID: req.tenantID, Profile: e.p}
	if st := status(e.active); st != nil {
		add.Status = *st
	}
	if e.password != nil {
		add.Password = *e.password
	}
	m, err := h.client.AddMember(r.Context(), req.actor, add)
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	h.writeUser(w, r, req, e.s, http.StatusCreated, m, proj)
}

// putUser serves PUT /Users/{id} (RFC 7644 §3.5.1): every profile
// attribute takes the value sent, absent ones are cleared; active and
// password change only when sent; id, meta and groups are read-only and
// ignored. It is one [sdk.Client.UpdateMember] naming every profile field.
func (h *Handler) putUser(w http.ResponseWriter, r *http.Request, req *request) {
	id := mux.Vars(r)["id"]
	proj, err := projectionFromQuery(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	e, err := h.readUser(r.Context(), req)
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	h.updateUser(w, r, req, id, e.s, proj, func(*sdk.Member) (*edit, error) {
		// PUT replaces the whole profile: the body, whatever is stored.
		return &edit{s: e.s, p: e.p.Clone(), active: e.active, password: e.password, roles: e.roles}, nil
	})
}

// ifMatchVersion reads an If-Match of one version (RFC 7644 §3.14): the
// version (0 for none or "*") and true, or false when the header must be
// compared with the member as read.
func ifMatchVersion(r *http.Request) (int64, bool) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return 0, true
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// patchUser serves PATCH /Users/{id} (RFC 7644 §3.5.2): the operations
// apply in order to the member as read, and the change is one
// [sdk.Client.UpdateMember] (see updateUser), so that a refusal leaves the
// member as it was. It answers 200 with the user.
func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request, req *request) {
	id := mux.Vars(r)["id"]
	if id == ".search" {
		h.methodNotAllowed(w, r)
		return
	}
	ops, err := readPatch(req.body)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	proj, err := projectionFromQuery(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	s := h.schemaFor(r.Context(), req)
	h.updateUser(w, r, req, id, s, proj, func(m *sdk.Member) (*edit, error) {
		e := &edit{s: s, p: m.Profile.Clone(), patch: true}
		for _, op := range ops {
			if err := e.apply(op.Op, op.Path, op.Value); err != nil {
				return nil, err
			}
		}
		return e, nil
	})
}

// updateUser makes a PUT or PATCH one [sdk.Client.UpdateMember] whose Edit
// works on the member as the SDK reads it, again on every attempt (so a
// write that races in between is never overwritten, and the member is
// read once): build turns the member into the edit the request makes; the
// roles the request repeats and an If-Match that is not one version are
// checked there too. It answers 200 with the user.
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, req *request, id string, s *userSchema, proj projection,
	build func(m *sdk.Member) (*edit, error)) {
	expected, exact := ifMatchVersion(r)
	upd := sdk.UpdateMemberRequest{TenantID: req.tenantID, MemberID: id, ExpectedVersion: expected,
		Edit: func(me *sdk.MemberEdit) error {
			m := me.Member
			if !exact {
				if err := ifMatch(r, m.Version); err != nil {
					return err
				}
			}
			e, err := build(m)
			if err != nil {
				return err
			}
			if err := e.checkRoles(m.Role); err != nil {
				return err
			}
			m.Profile = e.p
			if st := status(e.active); st != nil {
				m.Status = *st
			}
			me.Password = e.password
			return nil
		}}
	m, err := h.client.UpdateMember(r.Context(), req.actor, upd)
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	h.writeUser(w, r, req, s, http.StatusOK, m, proj)
}

// deleteUser serves DELETE /Users/{id} (RFC 7644 §3.6) with
// [sdk.Client.RemoveMember], which reassigns what the member owns to the
// owner and takes them out of every group.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request, req *request) {
	id := mux.Vars(r)["id"]
	rr := sdk.RemoveRequest{TenantID: req.tenantID, MemberID: id}
	expected, exact := ifMatchVersion(r)
	if !exact {
		// An If-Match of several tags: compare them with the member as read.
		m, err := h.client.Member(r.Context(), req.tenantID, id)
		if err != nil {
			writeError(w, h.fail(r, err))
			return
		}
		if err := ifMatch(r, m.Version); err != nil {
			writeError(w, errorFor(err))
			return
		}
		expected = m.Version
	}
	rr.ExpectedVersion = expected
	if _, err := h.client.Remove(r.Context(), req.actor, rr); err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
