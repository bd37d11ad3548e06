package scim

import (
	"bytes"
	"encoding/json"
	"strings"
)

// normalizeBody rewrites what identity providers really send into what the
// RFC and elimity's schema validation accept, before elimity sees the body:
//
//   - string booleans: Entra ID sends "active": "False" (and "True") in PATCH
//     values; every "active" or "primary" attribute given as a string that
//     parses as a boolean becomes a boolean;
//   - the manager as a bare id: Entra ID sends the enterprise manager as
//     "value": "<id>" (or as a list of one object); it becomes
//     {"value": "<id>"}, wherever it appears (path, dotted key, URN key or
//     nested in the extension object);
//   - enterprise attributes without their schema URN in a PATCH path
//     ("manager", "department", …) get it.
//
// A body that needs none of this is returned unchanged without being
// parsed, so the common case costs one scan. A body that is not JSON is
// returned unchanged for elimity to reject with its 400.
func normalizeBody(path, method string, body []byte) ([]byte, error) {
	if !strings.HasPrefix(path, "/Users") || !needsNormalizing(body, method) {
		return body, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return body, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return body, nil
	}
	if method == "PATCH" {
		ops, _ := lookup(obj, "Operations").([]any)
		for _, o := range ops {
			op, ok := o.(map[string]any)
			if !ok {
				continue
			}
			p, _ := lookup(op, "path").(string)
			if p != "" {
				p = qualifyPath(p)
				setKey(op, "path", p)
			}
			val, has := lookupOK(op, "value")
			if !has {
				continue
			}
			if p == "" {
				if m, ok := val.(map[string]any); ok {
					fixAttrs(m)
				}
				continue
			}
			setKey(op, "value", fixValue(lastName(p), val))
		}
	} else {
		fixAttrs(obj)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return body, nil
	}
	return out, nil
}

// needsNormalizing is the cheap scan: a quoted true/false, a manager, or
// (in a PATCH) a department path.
func needsNormalizing(b []byte, method string) bool {
	for i := 0; i+6 < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		switch b[i+1] | 0x20 {
		case 't':
			if bytes.EqualFold(b[i+1:i+5], []byte("true")) && b[i+5] == '"' {
				return true
			}
		case 'f':
			if bytes.EqualFold(b[i+1:i+6], []byte("false")) && b[i+6] == '"' {
				return true
			}
		}
	}
	if containsFold(b, "manager") {
		return true
	}
	return method == "PATCH" && containsFold(b, `"department`)
}

func containsFold(b []byte, s string) bool {
	n := len(s)
	for i := 0; i+n <= len(b); i++ {
		if bytes.EqualFold(b[i:i+n], []byte(s)) {
			return true
		}
	}
	return false
}

// fixAttrs fixes an object of attributes (a resource, a PATCH value without
// path, or the enterprise extension object).
func fixAttrs(m map[string]any) {
	for k, v := range m {
		if strings.EqualFold(k, enterpriseURN) {
			if ext, ok := v.(map[string]any); ok {
				for kk, vv := range ext {
					ext[kk] = fixValue(kk, vv)
				}
			}
			continue
		}
		m[k] = fixValue(lastName(k), v)
	}
}

// fixValue fixes the value of the attribute whose last name is name.
func fixValue(name string, v any) any {
	switch strings.ToLower(name) {
	case "active", "primary":
		if s, ok := v.(string); ok {
			if b, ok := asBool(s); ok {
				return b
			}
		}
		return v
	case "manager":
		switch m := v.(type) {
		case string:
			return map[string]any{"value": m}
		case []any:
			if len(m) == 1 {
				return fixValue(name, m[0])
			}
		}
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			x[k] = fixValue(k, vv)
		}
	case []any:
		for i, vv := range x {
			if m, ok := vv.(map[string]any); ok {
				for k, vvv := range m {
					m[k] = fixValue(k, vvv)
				}
				x[i] = m
			}
		}
	}
	return v
}

// lastName returns the last attribute name of a path: "active" for
// "active", "primary" for `emails[type eq "work"].primary`, "manager" for
// "urn:…:User:manager".
func lastName(p string) string {
	if i := strings.LastIndexByte(p, ']'); i >= 0 {
		p = p[i+1:]
	}
	if i := strings.LastIndexAny(p, ".:"); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// qualifyPath prefixes enterprise attributes written without their URN.
func qualifyPath(p string) string {
	name := p
	if i := strings.IndexAny(name, ".["); i >= 0 {
		name = name[:i]
	}
	switch strings.ToLower(name) {
	case "manager", "department", "employeenumber", "costcenter", "organization", "division":
		return enterpriseURN + ":" + p
	}
	return p
}

func lookupOK(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func lookup(m map[string]any, key string) any {
	v, _ := lookupOK(m, key)
	return v
}

// setKey sets key, reusing the spelling already present.
func setKey(m map[string]any, key string, v any) {
	for k := range m {
		if strings.EqualFold(k, key) {
			m[k] = v
			return
		}
	}
	m[key] = v
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
