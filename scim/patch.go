package scim

import (
	"net/http"
	"slices"
	"strings"

	elim "github.com/elimity-com/scim"
	"github.com/gorilla/mux"
	"github.com/scim2/filter-parser/v2"
)

// readPatch reads a PatchOp request (RFC 7644 §3.5.2): its schemas must
// name the PatchOp message, it needs at least one operation, op is add,
// remove or replace in any case, paths are parsed by parsePath, and add and
// replace need a value. This package reads PATCH bodies itself rather than
// through elimity, whose path parser costs most of a PATCH; the values are
// checked by the code applying each operation.
func readPatch(body []byte) ([]elim.PatchOperation, error) {
	v, err := decodeJSON(body)
	if err != nil {
		return nil, badRequest(typeInvalidSyntax, "The body is not a PatchOp request: %s.", shorten(err.Error(), 120))
	}
	req, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest(typeInvalidSyntax, "The body is not a PatchOp request: not a JSON object.")
	}
	schemas, _ := fold(req, "schemas").([]any)
	if !slices.Contains(schemas, any(patchURN)) {
		return nil, badRequest(typeInvalidValue, "schemas must contain %q.", patchURN)
	}
	list, ok := fold(req, "Operations").([]any)
	if !ok && fold(req, "Operations") != nil {
		return nil, badRequest(typeInvalidSyntax, "Operations must be a list of operations.")
	}
	if len(list) == 0 {
		return nil, badRequest(typeInvalidValue, "A PATCH request needs at least one operation.")
	}
	if len(list) > maxPatchOps {
		return nil, badRequest(typeTooMany, "A PATCH request may have at most %d operations.", maxPatchOps)
	}
	ops := make([]elim.PatchOperation, len(list))
	total := 0
	for i, x := range list {
		o, ok := x.(map[string]any)
		if !ok {
			return nil, badRequest(typeInvalidSyntax, "Each operation must be an object with op, path and value.")
		}
		name, ok := fold(o, "op").(string)
		if !ok {
			return nil, badRequest(typeInvalidSyntax, "Each operation needs an op (add, remove, replace).")
		}
		op := strings.ToLower(name)
		switch op {
		case "add", "replace", "remove":
		default:
			return nil, badRequest(typeInvalidSyntax, "%.40q is not a PATCH operation (add, remove, replace).", name)
		}
		value := fold(o, "value")
		var path *filter.Path
		switch p := fold(o, "path").(type) {
		case nil:
		case string:
			if err := checkPathCost(p, &total); err != nil {
				return nil, err
			}
			if p == "" {
				break
			}
			fp, err := parsePath(p)
			if err != nil {
				return nil, badRequest(typeInvalidPath, "%.100q is not a valid path: %s.", p, shorten(err.Error(), 120))
			}
			path = &fp
		default:
			return nil, badRequest(typeInvalidSyntax, "path must be a string.")
		}
		if obj, ok := value.(map[string]any); ok && path == nil {
			// The keys of a path-less value are paths too.
			for k := range obj {
				if err := checkPathCost(k, &total); err != nil {
					return nil, err
				}
			}
		}
		switch {
		case op == "remove" && path == nil:
			return nil, scimError{Status: 400, ScimType: typeNoTarget, Detail: "A remove operation needs a path."}
		case op != "remove" && value == nil:
			return nil, badRequest(typeInvalidValue, "An %s operation needs a value.", op)
		}
		ops[i] = elim.PatchOperation{Op: op, Path: path, Value: value}
	}
	return ops, nil
}

// fold returns the value of key in m, matched case-insensitively as
// encoding/json matches struct fields.
func fold(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// patchGroup serves PATCH /Groups/{id}: 204 (see groupHandler.Patch).
func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request, req *request) {
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
	if err := h.patchGroupOps(r, req, id, ops); err != nil {
		writeError(w, errorFor(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Limits on the work one PATCH request asks for: operations, and the
// length of its paths (and of the keys of path-less values, which are
// paths too), each of which is parsed.
const (
	maxPatchOps       = 1000
	maxPathBytes      = 512
	maxPathBytesTotal = 16 << 10
)

// checkPathCost refuses a path beyond those limits; total is the length
// of the request's paths so far.
func checkPathCost(p string, total *int) error {
	if len(p) > maxPathBytes {
		return badRequest(typeInvalidPath, "A path is longer than %d bytes.", maxPathBytes)
	}
	if *total += len(p); *total > maxPathBytesTotal {
		return badRequest(typeTooMany, "The paths of a PATCH request may total at most %d bytes.", maxPathBytesTotal)
	}
	return nil
}
