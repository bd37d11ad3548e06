package scim

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster/sdk"
)

// A User resource (RFC 7643 §4.1, §4.3) is written straight from the
// attribute table into JSON, projected as it is written (RFC 7644 §3.9):
// no intermediate map, and values exactly as stored — case, Unicode and the
// order of multi-valued items — so that an identity provider reads back
// what it sent. Empty values are unassigned and left out (RFC 7643 §2.5).

// userView is what rendering a member needs besides the member.
type userView struct {
	base   string     // the tenant's SCIM base URL
	groups []string   // the member's group ids (nil when not wanted)
	proj   projection // attributes / excludedAttributes
	ext    *extension // the tenant's custom extension, when the member has custom values
}

// appendUser appends the User resource of m.
func appendUser(b []byte, m *sdk.Member, v *userView) []byte {
	custom := v.ext != nil && len(m.Custom) > 0
	b = append(b, `{"schemas":["`+userURN+`","`+enterpriseURN+`"`...)
	if custom {
		b = append(b, ',')
		b = appendString(b, v.ext.urn)
	}
	b = append(b, `],"id":`...)
	b = appendString(b, m.ID)
	for _, a := range coreUser {
		if a.kind != isID && v.proj.wantsAttr("", a) {
			b = appendAttr(b, "", a, m, v)
		}
	}
	b = appendSchemaObject(b, enterpriseURN, lowerEnterpriseURN, enterpriseUser, m, v)
	if custom {
		b = appendSchemaObject(b, v.ext.urn, v.ext.lurn, v.ext.attrs, m, v)
	}
	return append(b, '}')
}

// appendSchemaObject appends an extension's attributes as one object
// keyed by its URN, or nothing when none has a value.
func appendSchemaObject(b []byte, urn, lurn string, attrs []*attribute, m *sdk.Member, v *userView) []byte {
	mark := len(b)
	b = append(b, ',')
	b = appendString(b, urn)
	b = append(b, ':')
	start := len(b)
	for _, a := range attrs {
		if v.proj.wantsAttr(lurn, a) {
			b = appendAttr(b, lurn, a, m, v)
		}
	}
	if len(b) == start {
		return b[:mark]
	}
	b[start] = '{' // appendAttr starts each member with a comma
	return append(b, '}')
}

func appendKey(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// appendAttr appends ,"name":value for attribute a of m, or nothing when
// it has no value.
func appendAttr(b []byte, schema string, a *attribute, m *sdk.Member, v *userView) []byte {
	p := &m.Profile
	switch a.kind {
	case inProfile:
		if a.typ == tComplex {
			return appendComplex(b, schema, a, m, v)
		}
		s := *a.text(p, 0)
		if s == "" {
			return b
		}
		b = appendKey(b, a.name)
		return appendString(b, s)
	case inList:
		n := a.list.n(p)
		if n == 0 {
			return b
		}
		b = appendKey(b, a.name)
		b = append(b, '[')
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			first := true
			for _, s := range a.subs {
				if !v.proj.wantsSub(schema, a, s) {
					continue
				}
				if s.flag != nil {
					if !*s.flag(p, i) {
						continue
					}
					b = appendMember(b, &first, s.name)
					b = append(b, "true"...)
					continue
				}
				if t := *s.text(p, i); t != "" {
					b = appendMember(b, &first, s.name)
					b = appendString(b, t)
				}
			}
			b = append(b, '}')
		}
		return append(b, ']')
	case inCustom:
		s, ok := m.Custom[a.name]
		if !ok {
			return b
		}
		b = appendKey(b, a.name)
		return appendTyped(b, a.typ, s)
	case isMeta:
		return appendMeta(b, schema, a, "User", m.CreatedAt, m.UpdatedAt, v.base+"/Users/"+m.ID, m.Version, v.proj)
	case isActive:
		b = appendKey(b, a.name)
		return strconv.AppendBool(b, m.Status == sdk.StatusActive)
	case isRoles:
		if m.Role == "" {
			return b
		}
		b = appendKey(b, a.name)
		b = append(b, `[{"value":`...)
		b = appendString(b, m.Role)
		return append(b, `,"primary":true}]`...)
	case isGroups:
		if len(v.groups) == 0 {
			return b
		}
		b = appendKey(b, a.name)
		b = append(b, '[')
		for i, id := range v.groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"value":`...)
			b = appendString(b, id)
			b = append(b, `,"$ref":`...)
			b = appendString(b, v.base+"/Groups/"+id)
			b = append(b, `,"type":"direct"}`...)
		}
		return append(b, ']')
	}
	return b
}

// appendComplex appends a single-valued complex attribute (name, manager).
func appendComplex(b []byte, schema string, a *attribute, m *sdk.Member, v *userView) []byte {
	p := &m.Profile
	mark := len(b)
	b = appendKey(b, a.name)
	b = append(b, '{')
	first := true
	for _, s := range a.subs {
		if s.hidden || !v.proj.wantsSub(schema, a, s) {
			continue
		}
		var t string
		switch s.kind {
		case inProfile:
			t = *s.text(p, 0)
		case isDerived:
			// manager.$ref: the URI of the member its value names.
			if id := *a.def.text(p, 0); id != "" {
				t = v.base + "/Users/" + id
			}
		}
		if t != "" {
			b = appendMember(b, &first, s.name)
			b = appendString(b, t)
		}
	}
	if first {
		return b[:mark]
	}
	return append(b, '}')
}

// appendMeta appends meta (RFC 7643 §3.1).
func appendMeta(b []byte, schema string, a *attribute, resourceType string, created, modified time.Time, location string, version int64, proj projection) []byte {
	b = appendKey(b, a.name)
	b = append(b, '{')
	first := true
	for _, s := range a.subs {
		if !proj.wantsSub(schema, a, s) {
			continue
		}
		b = appendMember(b, &first, s.name)
		switch s.lname {
		case "resourcetype":
			b = appendString(b, resourceType)
		case "created":
			b = appendTime(b, created)
		case "lastmodified":
			b = appendTime(b, modified)
		case "location":
			b = appendString(b, location)
		case "version":
			b = appendString(b, etag(version))
		}
	}
	return append(b, '}')
}

func appendMember(b []byte, first *bool, name string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendTyped appends a custom attribute's canonical text as a value of
// its type; text that is not of the type (a declaration changed since it
// was written) is a string.
func appendTyped(b []byte, typ attrType, s string) []byte {
	switch typ {
	case tBoolean:
		if s == "true" || s == "false" {
			return append(b, s...)
		}
	case tInteger, tDecimal:
		if _, err := strconv.ParseFloat(s, 64); err == nil && s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && isJSONNumber(s) {
			return append(b, s...)
		}
	}
	return appendString(b, s)
}

// isJSONNumber reports whether s is a JSON number (RFC 8259 §6).
func isJSONNumber(s string) bool {
	i := 0
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if n := digits(); n == 0 || n > 1 && s[start] == '0' {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// (without its HTML escaping): values are returned exactly as stored.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// bufPool recycles response buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}
