package scim

import (
	"bytes"
	"encoding/json"
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
	if err := checkPatchCost(body); err != nil {
		return nil, err
	}
	var req struct {
		Schemas    []string `json:"schemas"`
		Operations []struct {
			Op    string  `json:"op"`
			Path  *string `json:"path"`
			Value any     `json:"value"`
		} `json:"Operations"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&req); err != nil {
		return nil, badRequest(typeInvalidSyntax, "The body is not a PatchOp request: %s.", shorten(err.Error(), 120))
	}
	if !slices.Contains(req.Schemas, patchURN) {
		return nil, badRequest(typeInvalidValue, "schemas must contain %q.", patchURN)
	}
	if len(req.Operations) == 0 {
		return nil, badRequest(typeInvalidValue, "A PATCH request needs at least one operation.")
	}
	ops := make([]elim.PatchOperation, len(req.Operations))
	for i, o := range req.Operations {
		op := strings.ToLower(o.Op)
		switch op {
		case "add", "replace", "remove":
		default:
			return nil, badRequest(typeInvalidSyntax, "%.40q is not a PATCH operation (add, remove, replace).", o.Op)
		}
		var path *filter.Path
		if o.Path != nil && *o.Path != "" {
			p, err := parsePath(*o.Path)
			if err != nil {
				return nil, badRequest(typeInvalidPath, "%.100q is not a valid path: %s.", *o.Path, shorten(err.Error(), 120))
			}
			path = &p
		}
		switch {
		case op == "remove" && path == nil:
			return nil, scimError{Status: 400, ScimType: typeNoTarget, Detail: "A remove operation needs a path."}
		case op != "remove" && o.Value == nil:
			return nil, badRequest(typeInvalidValue, "An %s operation needs a value.", op)
		}
		ops[i] = elim.PatchOperation{Op: op, Path: path, Value: o.Value}
	}
	return ops, nil
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
	if _, err := (groupHandler{h}).Patch(r, id, ops); err != nil {
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

// checkPatchCost refuses a PATCH beyond those limits.
// Malformed bodies pass, for elimity to reject.
func checkPatchCost(body []byte) error {
	var req struct {
		Operations []struct {
			Path  json.RawMessage `json:"path"`
			Value json.RawMessage `json:"value"`
		} `json:"Operations"`
	}
	if json.Unmarshal(body, &req) != nil {
		return nil
	}
	if len(req.Operations) > maxPatchOps {
		return badRequest(typeTooMany, "A PATCH request may have at most %d operations.", maxPatchOps)
	}
	total := 0
	add := func(p string) error {
		if len(p) > maxPathBytes {
			return badRequest(typeInvalidPath, "A path is longer than %d bytes.", maxPathBytes)
		}
		if total += len(p); total > maxPathBytesTotal {
			return badRequest(typeTooMany, "The paths of a PATCH request may total at most %d bytes.", maxPathBytesTotal)
		}
		return nil
	}
	for _, op := range req.Operations {
		var p string
		if json.Unmarshal(op.Path, &p) == nil {
			if err := add(p); err != nil {
				return err
			}
		}
		if len(op.Value) > 0 && op.Value[0] == '{' {
			var keys map[string]json.RawMessage
			if json.Unmarshal(op.Value, &keys) == nil {
				for k := range keys {
					if err := add(k); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
