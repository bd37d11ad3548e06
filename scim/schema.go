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
)

// The schemas of the two resource types, as elimity defines them from
// RFC 7643 §4 and §8.7.1. Roster stores a subset of their attributes (see
// doc.go); the rest are accepted and ignored, as RFC 7644 §3.3 allows.
var (
	userSchema       = schema.CoreUserSchema()
	enterpriseSchema = schema.ExtensionEnterpriseUser()
	groupSchema      = schema.CoreGroupSchema()
	commonAttrs      = schema.Attributes(schema.CommonAttributes())
)

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

// checkSchemas refuses a resource whose "schemas" lists a URI that is not
// one of the resource type's (RFC 7643 §3: schemas holds the resource's
// schema and extensions only). Elimity checks only that the core schema is
// present.
func checkSchemas(body []byte, allowed ...string) error {
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
