package ui

import (
	"errors"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/sdk"
)

// catalog is the screen's messages in one language. Keys are stable
// names; "reason.<reason>" keys translate the SDK's refusals, "flash.<key>"
// keys are the status messages a redirect may name (nothing else can be
// put in a page through its query).
type catalog struct {
	lang string
	msgs map[string]string
}

var (
	english = &catalog{lang: "en", msgs: messagesEN}
	french  = &catalog{lang: "fr", msgs: messagesFR}
	// catalogs by primary language subtag.
	catalogs = map[string]*catalog{"en": english, "fr": french}
)

// funcs are the templates' functions; pages call their data's methods
// (T, RoleName, StatusName, Time) instead.
var funcs = template.FuncMap{}

// T returns the message of key, formatted with args when given. A key
// missing from the catalog falls back to English, then to the key itself
// (a test keeps the catalogs complete).
func (c *catalog) T(key string, args ...any) string {
	s, ok := c.msgs[key]
	if !ok {
		if s, ok = english.msgs[key]; !ok {
			s = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether the catalog has key.
func (c *catalog) Has(key string) bool { _, ok := c.msgs[key]; return ok }

// Role returns the label of a preset's role, or the tenant's own role name.
func (c *catalog) Role(name string) string {
	if s, ok := c.msgs["role."+name]; ok {
		return s
	}
	return name
}

// Reason returns the human message of a refusal: the catalog's for the
// reason, else fallback (the SDK's English sentence).
func (c *catalog) Reason(r sdk.Reason, fallback string) string {
	if s, ok := c.msgs["reason."+string(r)]; ok && r != "" {
		return s
	}
	if fallback == "" {
		return c.T("error_refused")
	}
	return fallback
}

// Error returns the human message of an SDK error: its reason's, where the
// catalog has one, else the SDK's own message, prefixed with the field at
// fault for bad input.
func (c *catalog) Error(err error) string {
	var e *sdk.Error
	if !errors.As(err, &e) {
		return c.T("error_generic")
	}
	r := sdk.ReasonOf(err)
	if r != sdk.ReasonInvalid {
		if s, ok := c.msgs["reason."+string(r)]; ok && r != "" {
			return s
		}
	}
	msg := e.Message
	if msg == "" {
		msg = c.T("code." + strings.ReplaceAll(e.Code.String(), " ", "_"))
	}
	if f := sdk.FieldOf(err); f != "" && e.Code == sdk.CodeInvalidArgument {
		label, ok := c.msgs["field."+f]
		if !ok {
			label = f
		}
		return c.T("field_error", label, msg)
	}
	return msg
}

// negotiate picks the catalog an Accept-Language header prefers (RFC 9110
// §12.5.4): the language with the highest quality among those the screen
// has, the first listed on a tie; English when none is acceptable.
func negotiate(header string) *catalog {
	best, bestQ := english, 0.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0
				}
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if c, ok := catalogs[primary]; ok && q > bestQ {
			best, bestQ = c, q
		}
	}
	return best
}
