package scim

import (
	"net/http"
	"strings"
)

// projection is the attributes / excludedAttributes of a request (RFC
// 7644 §3.9, §3.4.2.5).
type projection struct {
	include []attrRef
	exclude []attrRef
}

// attrRef is one attribute name of a projection, lower-cased: the schema
// URN ("" for the resource's core schema), and an attribute ("" for the
// whole schema) with an optional sub-attribute.
type attrRef struct {
	schema, attr, sub string
}

const maxProjected = 100

func projectionFromQuery(r *http.Request) (projection, error) {
	if r.URL.RawQuery == "" {
		return projection{}, nil
	}
	q := r.URL.Query()
	split := func(v string) []string {
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	return parseProjection(split(q.Get("attributes")), split(q.Get("excludedAttributes")))
}

func parseProjection(include, exclude []string) (projection, error) {
	var p projection
	if len(include)+len(exclude) > maxProjected {
		return p, badRequest(typeInvalidValue, "At most %d attribute names can be given.", maxProjected)
	}
	parse := func(names []string) ([]attrRef, error) {
		var out []attrRef
		for _, n := range names {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				continue
			}
			if len(n) > 300 {
				return nil, badRequest(typeInvalidValue, "An attribute name is too long.")
			}
			var ref attrRef
			if strings.HasPrefix(n, "urn:") {
				i := strings.LastIndexByte(n, ':')
				if last := n[i+1:]; last == "user" || last == "group" {
					// A whole schema, such as the enterprise extension.
					ref.schema = n
					if n != lowerUserURN && n != lowerGroupURN {
						out = append(out, ref)
					}
					continue
				}
				ref.schema, n = n[:i], n[i+1:]
				if ref.schema == lowerUserURN || ref.schema == lowerGroupURN {
					ref.schema = ""
				}
			}
			ref.attr, ref.sub, _ = strings.Cut(n, ".")
			out = append(out, ref)
		}
		return out, nil
	}
	var err error
	if p.include, err = parse(include); err != nil {
		return p, err
	}
	p.exclude, err = parse(exclude)
	return p, err
}

var (
	lowerUserURN       = strings.ToLower(userURN)
	lowerGroupURN      = strings.ToLower(groupURN)
	lowerEnterpriseURN = strings.ToLower(enterpriseURN)
)

func (p projection) empty() bool { return len(p.include) == 0 && len(p.exclude) == 0 }

// wants reports whether a core attribute is returned, so that costly ones
// (a user's groups, a group's members) are fetched only when needed.
func (p projection) wants(attr string) bool {
	if len(p.include) > 0 {
		for _, r := range p.include {
			if r.schema == "" && r.attr == attr {
				return true
			}
		}
		return false
	}
	for _, r := range p.exclude {
		if r.schema == "" && r.attr == attr && r.sub == "" {
			return false
		}
	}
	return true
}

// wantsAttr reports whether attribute a of the schema whose lower-case URN
// is schema ("" for the core schema) is returned (RFC 7643 §2.4
// "returned").
func (p projection) wantsAttr(schema string, a *attribute) bool {
	switch a.returned {
	case retAlways:
		return true
	case retNever:
		return false
	}
	if len(p.include) > 0 {
		for _, r := range p.include {
			if r.schema == schema && (r.attr == a.lname || r.attr == "" && schema != "") {
				return true
			}
		}
		return false
	}
	for _, r := range p.exclude {
		if r.schema == schema && (r.attr == a.lname && r.sub == "" || r.attr == "" && schema != "") {
			return false
		}
	}
	return a.returned != retRequest
}

// wantsSub reports whether sub-attribute s of a (which wantsAttr returns)
// is returned.
func (p projection) wantsSub(schema string, a, s *attribute) bool {
	if p.empty() {
		return true
	}
	if len(p.include) > 0 {
		for _, r := range p.include {
			if r.schema == schema && (r.attr == "" && schema != "" || r.attr == a.lname && (r.sub == "" || r.sub == s.lname)) {
				return true
			}
		}
		return false
	}
	for _, r := range p.exclude {
		if r.schema == schema && r.attr == a.lname && r.sub == s.lname {
			return false
		}
	}
	return true
}

// apply returns a group resource projected. id and schemas are always
// returned (RFC 7643 §2.4); meta is returned by default and, with
// attributes, only when asked for. Users are projected as they are
// rendered (render.go).
func (p projection) apply(res map[string]any) map[string]any {
	if p.empty() {
		return res
	}
	var out map[string]any
	if len(p.include) > 0 {
		out = map[string]any{}
		for _, k := range []string{"id", "schemas"} {
			if v, ok := res[k]; ok {
				out[k] = v
			}
		}
		for _, r := range p.include {
			k := canonical(res, r.attr)
			if r.schema != "" || k == "" {
				continue
			}
			if r.sub == "" {
				out[k] = res[k]
			} else {
				out[k] = mergeSub(out[k], pickSub(res[k], r.sub))
			}
		}
	} else {
		out = make(map[string]any, len(res))
		for k, v := range res {
			out[k] = v
		}
	}
	for _, r := range p.exclude {
		k := canonical(out, r.attr)
		if r.schema != "" || k == "" || k == "id" || k == "schemas" {
			continue
		}
		if r.sub == "" {
			delete(out, k)
		} else {
			out[k] = dropSub(out[k], r.sub)
		}
	}
	return out
}

func canonical(m map[string]any, lower string) string {
	for k := range m {
		if strings.ToLower(k) == lower {
			return k
		}
	}
	return ""
}

func copyMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	out := make(map[string]any, len(m))
	for k, vv := range m {
		out[k] = vv
	}
	return out
}

// pickSub keeps only sub of a complex value, or of each element of a
// multi-valued one.
func pickSub(v any, sub string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		if k := canonical(x, sub); k != "" {
			out[k] = x[k]
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = pickSub(e, sub)
		}
		return out
	}
	return v
}

func dropSub(v any, sub string) any {
	switch x := v.(type) {
	case map[string]any:
		out := copyMap(x)
		delete(out, canonical(out, sub))
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropSub(e, sub)
		}
		return out
	}
	return v
}

// mergeSub merges two projections of one attribute (members.value and
// members.type both asked for).
func mergeSub(have, add any) any {
	switch a := add.(type) {
	case map[string]any:
		h, _ := have.(map[string]any)
		out := copyMap(h)
		for k, v := range a {
			out[k] = v
		}
		return out
	case []any:
		h, _ := have.([]any)
		if len(h) != len(a) {
			return a
		}
		out := make([]any, len(a))
		for i := range a {
			out[i] = mergeSub(h[i], a[i])
		}
		return out
	}
	return add
}
