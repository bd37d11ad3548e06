package scim

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	elim "github.com/elimity-com/scim"
	"github.com/gorilla/mux"
	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/sdk"
)

// groupValues is a Group resource (RFC 7643 §4.2) without members: those are
// streamed from the membership edges (writeGroup) or echoed from the
// request, never loaded whole.
func groupValues(g *sdk.Group) map[string]any {
	a := map[string]any{"displayName": g.DisplayName}
	if g.ExternalID != "" {
		a["externalId"] = g.ExternalID
	}
	return a
}

func groupResource(g *sdk.Group, base string) map[string]any {
	a := groupValues(g)
	a["id"] = g.ID
	a["schemas"] = []string{groupURN}
	a["meta"] = map[string]any{
		"resourceType": "Group",
		"created":      scimTime(g.CreatedAt),
		"lastModified": scimTime(g.UpdatedAt),
		"location":     base + "/Groups/" + g.ID,
		"version":      etag(g.Version),
	}
	return a
}

func memberRef(id, base string) map[string]any {
	return map[string]any{"value": id, "$ref": base + "/Users/" + id, "type": "User"}
}

// writeGroup streams one group: its attributes, then, when the projection
// wants them, its members page by page.
func (h *Handler) writeGroup(ctx context.Context, w *bufio.Writer, req *request, g *sdk.Group, proj projection) error {
	res := proj.apply(groupResource(g, req.base))
	head, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if !proj.wants("members") {
		_, err = w.Write(head)
		return err
	}
	w.Write(head[:len(head)-1])
	w.WriteString(`,"members":[`)
	opts := sdk.ListOptions{PageSize: sdk.MaxPageSize}
	first := true
	for {
		page, err := h.client.GroupMembers(ctx, req.tenantID, g.ID, opts)
		if err != nil {
			return err
		}
		for _, id := range page.Items {
			if !first {
				w.WriteByte(',')
			}
			first = false
			b, _ := json.Marshal(memberRef(id, req.base))
			w.Write(b)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	_, err = w.WriteString("]}")
	return err
}

// getGroup serves GET /Groups/{id} (RFC 7644 §3.4.1), streaming members
// unless excludedAttributes=members (as Entra ID asks).
func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request, req *request) {
	if mux.Vars(r)["id"] == ".search" {
		h.methodNotAllowed(w, r)
		return
	}
	proj, err := projectionFromQuery(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	g, err := h.client.Group(r.Context(), req.tenantID, mux.Vars(r)["id"])
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	tag := etag(g.Version)
	w.Header().Set("ETag", tag)
	if noneMatch(r, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Location", req.base+"/Groups/"+g.ID)
	h.stream(w, r, func(bw *bufio.Writer) error { return h.writeGroup(r.Context(), bw, req, g, proj) })
}

// stream writes a 200 response produced piecewise through a buffer. An
// error before the first byte reached the client becomes an error
// response; after that it can only be logged and the connection aborted,
// so that the client sees a broken response rather than a wrong complete
// one.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, fn func(*bufio.Writer) error) {
	w.Header().Set("Content-Type", contentType)
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 32<<10)
	err := fn(bw)
	if err == nil {
		err = bw.Flush()
		if err != nil {
			h.log.Debug("scim: writing a response failed", "err", err)
		}
		return
	}
	if cw.n == 0 {
		writeError(w, h.fail(r, err))
		return
	}
	h.log.Error("scim: streaming a response failed", "path", r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// groupHandler is elimity's callback set for Groups.
type groupHandler struct{ h *Handler }

// memberIDs reads a members value: a list of {"value": id, …} (RFC 7643
// §4.2). Nested groups are not supported.
func memberIDs(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	ids := make([]string, 0, len(list))
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, badRequest(typeInvalidValue, "A member must be an object with a value.")
		}
		var id string
		for k, val := range obj {
			switch strings.ToLower(k) {
			case "value":
				id, _ = val.(string)
			case "type":
				if t, _ := val.(string); strings.EqualFold(t, "Group") {
					return nil, badRequest(typeInvalidValue, "Nested groups are not supported: members must be users.")
				}
			}
		}
		if id == "" {
			return nil, badRequest(typeInvalidValue, "A member must have a value (the user's id).")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// elimGroup returns a group for elimity's write responses, with members
// echoed from the request when the client sent them (never read back).
func (h *Handler) elimGroup(r *http.Request, req *request, g *sdk.Group, members []string) (elim.Resource, error) {
	proj, err := projectionFromQuery(r)
	if err != nil {
		return elim.Resource{}, err
	}
	a := groupValues(g)
	if members != nil && proj.wants("members") {
		list := make([]any, len(members))
		for i, id := range members {
			list[i] = memberRef(id, req.base)
		}
		a["members"] = list
	}
	created, modified := g.CreatedAt, g.UpdatedAt
	return elim.Resource{ID: g.ID, Attributes: proj.apply(a),
		Meta: elim.Meta{Created: &created, LastModified: &modified, Version: etag(g.Version)}}, nil
}

func stringAttr(attrs map[string]any, name string) string {
	s, _ := attrs[name].(string)
	return s
}

// Create maps POST /Groups (RFC 7644 §3.3) to sdk CreateGroup; an unknown
// member refuses the whole request and nothing is written.
func (g groupHandler) Create(r *http.Request, attrs elim.ResourceAttributes) (elim.Resource, error) {
	h, req := g.h, reqFrom(r)
	if err := checkGroupSchemas(req.body, groupURN, msGroupURN); err != nil {
		return elim.Resource{}, err
	}
	members, err := memberIDs(attrs["members"])
	if err != nil {
		return elim.Resource{}, err
	}
	grp, err := h.client.CreateGroup(r.Context(), req.actor, sdk.CreateGroupRequest{
		TenantID: req.tenantID, DisplayName: stringAttr(attrs, "displayName"), ExternalID: stringAttr(attrs, "externalId"), Members: members,
	})
	if err != nil {
		return elim.Resource{}, h.fail(r, err)
	}
	return h.elimGroup(r, req, grp, dedupe(members))
}

func dedupe(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// Get is unused (Handler.getGroup streams members); it satisfies elimity.
func (g groupHandler) Get(r *http.Request, id string) (elim.Resource, error) {
	grp, err := g.h.client.Group(r.Context(), reqFrom(r).tenantID, id)
	if err != nil {
		return elim.Resource{}, g.h.fail(r, err)
	}
	return g.h.elimGroup(r, reqFrom(r), grp, nil)
}

// GetAll is unused: lists are served by Handler.listGroups.
func (g groupHandler) GetAll(r *http.Request, _ elim.ListRequestParams) (elim.Page, error) {
	return elim.Page{}, scimError{Status: http.StatusNotImplemented}
}

// Replace maps PUT /Groups/{id} (RFC 7644 §3.5.1): displayName and
// externalId take the values sent and the membership becomes exactly the
// members sent (none when absent), written as a batched difference.
func (g groupHandler) Replace(r *http.Request, id string, attrs elim.ResourceAttributes) (elim.Resource, error) {
	h, req, ctx := g.h, reqFrom(r), r.Context()
	if err := checkGroupSchemas(req.body, groupURN, msGroupURN); err != nil {
		return elim.Resource{}, err
	}
	members, err := memberIDs(attrs["members"])
	if err != nil {
		return elim.Resource{}, err
	}
	grp, err := h.client.Group(ctx, req.tenantID, id)
	if err != nil {
		return elim.Resource{}, h.fail(r, err)
	}
	if err := ifMatch(r, grp.Version); err != nil {
		return elim.Resource{}, err
	}
	// Check every member before writing anything.
	if err := h.checkMembers(ctx, req, members); err != nil {
		return elim.Resource{}, h.fail(r, err)
	}
	name, ext := stringAttr(attrs, "displayName"), stringAttr(attrs, "externalId")
	up := sdk.UpdateGroupRequest{TenantID: req.tenantID, GroupID: id, DisplayName: &name, ExternalID: &ext}
	if r.Header.Get("If-Match") != "" {
		up.ExpectedVersion = grp.Version
	}
	if _, err = h.client.UpdateGroup(ctx, req.actor, up); err != nil {
		return elim.Resource{}, h.fail(r, err)
	}
	if grp, err = h.client.ReplaceGroupMembers(ctx, req.actor, req.tenantID, id, members); err != nil {
		return elim.Resource{}, h.fail(r, err)
	}
	return h.elimGroup(r, req, grp, dedupe(members))
}

// checkMembers refuses unknown members before a multi-step change writes
// its first step (the SDK checks again in the step itself).
func (h *Handler) checkMembers(ctx context.Context, req *request, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return h.client.RequireMembers(ctx, req.tenantID, ids)
}

// groupChange is the net effect of a group PATCH: new attribute values and
// a membership change, computed from the operations in order so that the
// writes can be few and checked before any is made.
type groupChange struct {
	displayName *string
	externalID  *string
	replace     []string // non-nil: the membership becomes exactly this (plus add, minus remove)
	add         map[string]bool
	remove      map[string]bool
}

func (c *groupChange) addMembers(ids []string) {
	for _, id := range ids {
		delete(c.remove, id)
		c.add[id] = true
	}
}

func (c *groupChange) removeMembers(ids []string) {
	for _, id := range ids {
		delete(c.add, id)
		c.remove[id] = true
	}
}

func (c *groupChange) replaceMembers(ids []string) {
	c.replace = append([]string{}, ids...)
	clear(c.add)
	clear(c.remove)
}

// applyGroupOp folds one PATCH operation (RFC 7644 §3.5.2) into c. Member
// removal works by path "members" with a value list (Entra ID), by
// members[value eq "…"] (Okta), or by path "members" alone (all members).
func (c *groupChange) apply(op string, p *filter.Path, v any) error {
	switch op {
	case "add", "replace", "remove":
	default:
		return badRequest(typeInvalidSyntax, "%q is not a PATCH operation (add, remove, replace).", op)
	}
	if p == nil {
		if op == "remove" {
			return scimError{Status: 400, ScimType: typeNoTarget, Detail: "A remove operation needs a path."}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "An operation without a path needs an object value.")
		}
		for _, k := range sortedKeys(obj) {
			if strings.EqualFold(k, groupURN) {
				if err := c.apply(op, nil, obj[k]); err != nil {
					return err
				}
				continue
			}
			kp, err := parsePath(k)
			if err != nil {
				return badRequest(typeInvalidPath, "%.100q is not an attribute path.", k)
			}
			if err := c.apply(op, &kp, obj[k]); err != nil {
				return err
			}
		}
		return nil
	}
	ap := p.AttributePath
	if uri := ap.URI(); uri != "" && !strings.EqualFold(uri, groupURN) {
		return badRequest(typeInvalidPath, "%.100q is not a schema of the Group resource.", uri)
	}
	attr := strings.ToLower(ap.AttributeName)
	if attr != "members" && (p.ValueExpression != nil || p.SubAttribute != nil || ap.SubAttribute != nil) {
		return badRequest(typeInvalidPath, "%.100q is not a path of the Group resource.", p.String())
	}
	switch attr {
	case "displayname":
		if op == "remove" {
			return badRequest(typeMutability, "displayName is required and cannot be removed.")
		}
		s, ok := v.(string)
		if !ok {
			return badRequest(typeInvalidValue, "displayName must be a string.")
		}
		c.displayName = &s
		return nil
	case "externalid":
		s, _ := v.(string)
		if op != "remove" && v != nil {
			if _, ok := v.(string); !ok {
				return badRequest(typeInvalidValue, "externalId must be a string.")
			}
		}
		c.externalID = &s
		return nil
	case "id", "meta", "schemas":
		return nil // readOnly (Okta sends the id along with displayName)
	case "members":
	default:
		return badRequest(typeInvalidPath, "%.100q is not an attribute of the Group resource.", ap.AttributeName)
	}
	if ap.SubAttribute != nil || p.SubAttribute != nil {
		return badRequest(typeInvalidPath, "Sub-attributes of members cannot be changed.")
	}
	if p.ValueExpression != nil {
		if op != "remove" {
			return badRequest(typeInvalidPath, "A filtered members path can only be removed.")
		}
		ids, err := memberFilterIDs(p.ValueExpression)
		if err != nil {
			return err
		}
		c.removeMembers(ids)
		return nil
	}
	ids, err := memberIDs(v)
	if err != nil {
		return err
	}
	switch op {
	case "add":
		c.addMembers(ids)
	case "replace":
		c.replaceMembers(ids)
	case "remove":
		if v == nil {
			c.replaceMembers(nil) // RFC 7644 §3.5.2.2: remove all members
		} else {
			c.removeMembers(ids)
		}
	}
	return nil
}

// memberFilterIDs reads members[value eq "a" or value eq "b"].
func memberFilterIDs(e filter.Expression) ([]string, error) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if x.Operator == filter.EQ && strings.EqualFold(x.AttributePath.AttributeName, "value") && x.AttributePath.SubAttribute == nil {
			if s, ok := x.CompareValue.(string); ok {
				return []string{s}, nil
			}
		}
	case *filter.LogicalExpression:
		if x.Operator == filter.OR {
			l, err := memberFilterIDs(x.Left)
			if err != nil {
				return nil, err
			}
			r, err := memberFilterIDs(x.Right)
			if err != nil {
				return nil, err
			}
			return append(l, r...), nil
		}
	}
	return nil, badRequest(typeInvalidFilter, `Members can be selected with value eq "…" (joined with or) only.`)
}

// Patch is unused: PATCH is served by Handler.patchGroup. It exists to
// satisfy elimity's interface.
func (g groupHandler) Patch(r *http.Request, id string, ops []elim.PatchOperation) (elim.Resource, error) {
	return elim.Resource{}, g.h.patchGroupOps(r, reqFrom(r), id, ops)
}

// patchGroupOps applies PATCH /Groups/{id}: the operations are folded into
// one change, members to add are checked before anything is written (an
// unknown member is 400 and the group is unchanged), then the change is
// written with as few SDK calls as it needs. The caller answers 204 (RFC
// 7644 §3.5.2 allows it), so a 100k-member group is never read back.
func (h *Handler) patchGroupOps(r *http.Request, req *request, id string, ops []elim.PatchOperation) error {
	ctx := r.Context()
	c := &groupChange{add: map[string]bool{}, remove: map[string]bool{}}
	for _, op := range ops {
		if err := c.apply(op.Op, op.Path, op.Value); err != nil {
			return err
		}
	}
	conditional := r.Header.Get("If-Match") != ""
	var grp *sdk.Group
	var err error
	if conditional {
		if grp, err = h.client.Group(ctx, req.tenantID, id); err != nil {
			return h.fail(r, err)
		}
		if err := ifMatch(r, grp.Version); err != nil {
			return err
		}
	}
	adds := mapKeys(c.add)
	fieldsChange := c.displayName != nil || c.externalID != nil
	if fieldsChange || c.replace != nil {
		// Several writes follow: check members before the first.
		if err := h.checkMembers(ctx, req, append(slices.Clone(c.replace), adds...)); err != nil {
			return h.fail(r, err)
		}
	}
	if fieldsChange {
		up := sdk.UpdateGroupRequest{TenantID: req.tenantID, GroupID: id, DisplayName: c.displayName, ExternalID: c.externalID}
		if conditional {
			up.ExpectedVersion = grp.Version
		}
		if _, err := h.client.UpdateGroup(ctx, req.actor, up); err != nil {
			return h.fail(r, err)
		}
	}
	switch {
	case c.replace != nil:
		set := map[string]bool{}
		for _, m := range c.replace {
			set[m] = true
		}
		for m := range c.add {
			set[m] = true
		}
		for m := range c.remove {
			delete(set, m)
		}
		_, err = h.client.ReplaceGroupMembers(ctx, req.actor, req.tenantID, id, mapKeys(set))
	default:
		if len(adds) > 0 {
			_, err = h.client.AddGroupMembers(ctx, req.actor, req.tenantID, id, adds)
		}
		if err == nil && len(c.remove) > 0 {
			_, err = h.client.RemoveGroupMembers(ctx, req.actor, req.tenantID, id, mapKeys(c.remove))
		}
		if err == nil && !fieldsChange && len(adds) == 0 && len(c.remove) == 0 && !conditional {
			_, err = h.client.Group(ctx, req.tenantID, id) // a no-op PATCH still needs the group to exist
		}
	}
	if err != nil {
		return h.fail(r, err)
	}
	return nil
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Delete maps DELETE /Groups/{id} to sdk DeleteGroup (the members stay).
func (g groupHandler) Delete(r *http.Request, id string) error {
	h, req, ctx := g.h, reqFrom(r), r.Context()
	var version int64
	if r.Header.Get("If-Match") != "" {
		grp, err := h.client.Group(ctx, req.tenantID, id)
		if err != nil {
			return h.fail(r, err)
		}
		if err := ifMatch(r, grp.Version); err != nil {
			return err
		}
		version = grp.Version
	}
	if err := h.client.DeleteGroup(ctx, req.actor, req.tenantID, id, version); err != nil {
		return h.fail(r, err)
	}
	return nil
}
