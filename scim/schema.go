package scim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/gorilla/mux"
)

// Schema URIs (RFC 7643 §8.7.1, §4.3; RFC 7644 §3.4.2, §3.5.2, §3.12).
const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	listURN       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	searchURN     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	patchURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	spcURN        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaURN     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	rtURN         = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
)

// groupSchema is elimity's definition of the Group schema (RFC 7643 §4.2),
// against which it validates POST and PUT /Groups bodies.
var groupSchema = schema.CoreGroupSchema()

// msGroupURN is the extra schema Entra ID lists in the schemas of the
// groups it creates (as in Microsoft's SCIM provisioning tutorial); it
// adds no attribute Roster keeps.
const msGroupURN = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

func optionalString(s string) optional.String { return optional.NewString(s) }

// etag is a resource version as an HTTP entity tag (RFC 7644 §3.14). Tags
// are weak: two representations of one version may differ in projection.
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch checks an If-Match header against the resource's version (RFC
// 7232 §3.1 with weak comparison, RFC 7644 §3.14). It returns 412 when no
// tag matches.
func ifMatch(r *http.Request, version int64) error {
	v := r.Header.Get("If-Match")
	if v == "" {
		return nil
	}
	want := strconv.FormatInt(version, 10)
	for _, tag := range strings.Split(v, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.Trim(strings.TrimPrefix(tag, "W/"), `"`) == want {
			return nil
		}
	}
	return scimError{Status: http.StatusPreconditionFailed, Detail: "The resource changed since the version given in If-Match; fetch it again and retry."}
}

// checkGroupSchemas refuses a group whose "schemas" lists a URI that is
// not one of the resource type's (RFC 7643 §3: schemas holds the
// resource's schema and extensions only). Elimity checks only that the
// core schema is present.
func checkGroupSchemas(body []byte, allowed ...string) error {
	var r struct {
		Schemas []any `json:"schemas"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil // elimity reports malformed bodies
	}
	for _, s := range r.Schemas {
		u, ok := s.(string)
		if !ok {
			return badRequest(typeInvalidSyntax, "schemas must be a list of URIs.")
		}
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, u) }) {
			return badRequest(typeInvalidValue, "Unknown schema %.200q for this resource type.", u)
		}
	}
	return nil
}

func scimTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// serviceProviderConfig answers RFC 7643 §5 itself: elimity's hard-codes
// ETag and sort support to false and advertises a bulk payload size.
func (h *Handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request, req *request) {
	body := map[string]any{
		"schemas":          []string{spcURN},
		"documentationUri": "https://github.com/rosterhq/roster#scim",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": h.maxBody},
		"filter":           map[string]any{"supported": true, "maxResults": h.maxResults},
		"changePassword":   map[string]any{"supported": true},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "A per-tenant token created with `roster token create`, sent as Authorization: Bearer <token>.",
			"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": req.base + "/ServiceProviderConfig"},
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// schemaDoc is the representation of a schema (RFC 7643 §7), generated
// from the attribute table: it lists exactly what Roster keeps.
func schemaDoc(id, name, desc string, attrs []*attribute, base string) map[string]any {
	list := []any{}
	for _, a := range attrs {
		if !a.common && !a.hidden {
			list = append(list, attrDoc(a))
		}
	}
	return map[string]any{
		"schemas": []string{schemaURN}, "id": id, "name": name, "description": desc, "attributes": list,
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + id},
	}
}

func attrDoc(a *attribute) map[string]any {
	d := map[string]any{
		"name": a.name, "type": attrTypeNames[a.typ], "multiValued": a.multi,
		"required": a.required, "caseExact": a.caseExact, "mutability": mutabilityNames[a.mutability],
		"returned": returnedNames[a.returned], "uniqueness": "none",
	}
	if a.description != "" {
		d["description"] = a.description
	}
	if a.unique {
		d["uniqueness"] = "server"
	}
	if len(a.canonical) > 0 {
		d["canonicalValues"] = a.canonical
	}
	if len(a.refTypes) > 0 {
		d["referenceTypes"] = a.refTypes
	}
	if a.typ == tComplex {
		subs := []any{}
		for _, s := range a.subs {
			if !s.hidden {
				subs = append(subs, attrDoc(s))
			}
		}
		d["subAttributes"] = subs
	}
	return d
}

// schemaDocs returns the tenant's schemas: the core User schema, the
// enterprise extension, the tenant's custom extension when it declares
// custom attributes, and the Group schema.
func (h *Handler) schemaDocs(req *request, x *extension) []map[string]any {
	docs := []map[string]any{
		schemaDoc(userURN, "User", "User Account", coreUser, req.base),
		schemaDoc(enterpriseURN, "EnterpriseUser", "Enterprise User", enterpriseUser, req.base),
	}
	if x != nil {
		docs = append(docs, schemaDoc(x.urn, "CustomUser", "The tenant's custom attributes", x.attrs, req.base))
	}
	return append(docs, schemaDoc(groupURN, "Group", "Group", groupTable, req.base))
}

// serveSchemas answers /Schemas and /Schemas/{id} (RFC 7644 §4).
func (h *Handler) serveSchemas(w http.ResponseWriter, r *http.Request, req *request) {
	x, err := h.schemaFor(r.Context(), req).extension()
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	serveDiscovery(w, mux.Vars(r)["id"], h.schemaDocs(req, x))
}

// serveResourceTypes answers /ResourceTypes and /ResourceTypes/{id} (RFC
// 7644 §4): User, with the enterprise extension and the tenant's custom
// one, and Group.
func (h *Handler) serveResourceTypes(w http.ResponseWriter, r *http.Request, req *request) {
	x, err := h.schemaFor(r.Context(), req).extension()
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	exts := []any{map[string]any{"schema": enterpriseURN, "required": false}}
	if x != nil {
		exts = append(exts, map[string]any{"schema": x.urn, "required": false})
	}
	rt := func(id, desc, endpoint, schema string, exts []any) map[string]any {
		d := map[string]any{"schemas": []string{rtURN}, "id": id, "name": id, "description": desc, "endpoint": endpoint, "schema": schema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": req.base + "/ResourceTypes/" + id}}
		if exts != nil {
			d["schemaExtensions"] = exts
		}
		return d
	}
	serveDiscovery(w, mux.Vars(r)["id"], []map[string]any{
		rt("User", "Members of the tenant", "/Users", userURN, exts),
		rt("Group", "Groups of the tenant's members", "/Groups", groupURN, nil),
	})
}

// serveDiscovery answers a discovery list, or the one resource whose id is
// id (404 when there is none).
func serveDiscovery(w http.ResponseWriter, id string, docs []map[string]any) {
	if id == "" {
		res := make([]any, len(docs))
		for i, d := range docs {
			res[i] = d
		}
		writeJSON(w, http.StatusOK, listResponse{Schemas: []string{listURN}, TotalResults: len(docs), StartIndex: 1, ItemsPerPage: len(docs), Resources: res})
		return
	}
	for _, d := range docs {
		if strings.EqualFold(d["id"].(string), id) {
			writeJSON(w, http.StatusOK, d)
			return
		}
	}
	writeError(w, scimError{Status: http.StatusNotFound, Detail: "Resource not found."})
}
