package scim

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/sdk"
)

// userSchema is the User resource as one tenant's request sees it: the
// core schema, the enterprise extension and, when the tenant declares
// custom attributes, its own extension. The tenant is read only when a
// request needs it (a name outside the first two schemas, a member with
// custom values, POST's default role), so the common request costs no
// tenant read.
type userSchema struct {
	slug string
	load func() (*tenantInfo, error)
	info *tenantInfo
	err  error
}

// tenantInfo is what SCIM needs of a tenant beyond its id.
type tenantInfo struct {
	ext         *extension // nil when the tenant declares no custom attribute
	defaultRole string
	expires     time.Time
}

func (s *userSchema) tenant() (*tenantInfo, error) {
	if s.info == nil && s.err == nil {
		s.info, s.err = s.load()
	}
	return s.info, s.err
}

// extension returns the tenant's custom extension, or nil.
func (s *userSchema) extension() (*extension, error) {
	ti, err := s.tenant()
	if err != nil {
		return nil, err
	}
	return ti.ext, nil
}

// schemaURN reports whether k names a schema of the User resource, and
// which (spelled as Roster does).
func (s *userSchema) schemaURN(k string) (string, bool, error) {
	switch {
	case len(k) < 4 || !strings.EqualFold(k[:4], "urn:"):
		return "", false, nil
	case strings.EqualFold(k, userURN):
		return userURN, true, nil
	case strings.EqualFold(k, enterpriseURN):
		return enterpriseURN, true, nil
	case !strings.HasPrefix(strings.ToLower(k), customURNPrefix):
		return "", false, nil
	}
	x, err := s.extension()
	if err != nil {
		return "", false, err
	}
	if x != nil && strings.EqualFold(k, x.urn) {
		return x.urn, true, nil
	}
	return "", false, nil
}

const customURNPrefix = "urn:roster:params:scim:schemas:extension:"

// attrsOf returns the attributes of the schema urn.
func (s *userSchema) attrsOf(urn string) ([]*attribute, attrIndex) {
	switch urn {
	case userURN:
		return coreUser, coreIndex
	case enterpriseURN:
		return enterpriseUser, enterpriseIndex
	}
	if x, _ := s.extension(); x != nil && x.urn == urn {
		return x.attrs, x.index
	}
	return nil, nil
}

// lookup finds the attribute name of schema uri. Without a URI it looks in
// the core schema, then in the extensions: identity providers write
// enterprise attributes without their URN ("manager", "department").
func (s *userSchema) lookup(uri, name string) (*attribute, error) {
	if uri == "" {
		if a := coreIndex.get(name); a != nil {
			return a, nil
		}
		if a := enterpriseIndex.get(name); a != nil {
			return a, nil
		}
		x, err := s.extension()
		if err != nil {
			return nil, err
		}
		if x != nil {
			if a := x.index.get(name); a != nil {
				return a, nil
			}
		}
		return nil, unknownAttr(name)
	}
	urn, ok, err := s.schemaURN(uri)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badRequest(typeInvalidPath, "%.100q is not a schema of the User resource.", uri)
	}
	_, idx := s.attrsOf(urn)
	if a := idx.get(name); a != nil {
		return a, nil
	}
	return nil, unknownAttr(urn + ":" + name)
}

func unknownAttr(name string) error {
	for _, n := range notStored {
		if strings.EqualFold(name, n) || strings.EqualFold(name, userURN+":"+n) {
			return badRequest(typeInvalidPath, "%s is not stored by Roster: remove it from the request "+
				"(or from the identity provider's attribute mappings).", n)
		}
	}
	return badRequest(typeInvalidPath, "%.100q is not an attribute of the User resource.", name)
}

// resolve finds what a path designates; uri is the schema a path without
// a URN belongs to ("" for any).
func (s *userSchema) resolve(p *filter.Path, uri string) (target, error) {
	ap := p.AttributePath
	if ap.URIPrefix != nil {
		if uri != "" {
			return target{}, badRequest(typeInvalidPath, "%.100q is inside %s and cannot name another schema.", p.String(), uri)
		}
		uri = *ap.URIPrefix
		if ap.SubAttribute == nil && p.ValueExpression == nil {
			if urn, ok, err := s.schemaURN(uri + ":" + ap.AttributeName); err != nil {
				return target{}, err
			} else if ok {
				return target{schema: urn}, nil
			}
		}
	}
	a, err := s.lookup(uri, ap.AttributeName)
	if err != nil {
		return target{}, err
	}
	t := target{attr: a}
	sub := ap.SubAttribute
	if p.ValueExpression != nil {
		if !a.multi {
			return target{}, badRequest(typeInvalidPath, "A value filter selects items of a multi-valued attribute; %s is not one.", a.path())
		}
		if sub != nil {
			return target{}, badRequest(typeInvalidPath, "%.100q is not a path.", p.String())
		}
		t.vf = p.ValueExpression
		sub = p.SubAttribute
	}
	if sub != nil {
		if t.sub = a.sub(*sub); t.sub == nil {
			return target{}, unknownSub(a, *sub)
		}
	}
	return t, nil
}

// resolveKey resolves a key of a path-less value or a resource: an
// attribute name, or a path ("name.givenName", "urn:…:User:department",
// `emails[type eq "work"].value`), relative to schema when it is set.
func (s *userSchema) resolveKey(schema, k string) (target, error) {
	if !strings.ContainsAny(k, ".:[") {
		a, err := s.lookup(schema, k)
		return target{attr: a}, err
	}
	if len(k) > maxPathBytes {
		return target{}, badRequest(typeInvalidPath, "A path is longer than %d bytes.", maxPathBytes)
	}
	p, err := parsePath(k)
	if err != nil {
		return target{}, badRequest(typeInvalidPath, "%.100q is not an attribute path: %s.", k, shorten(err.Error(), 120))
	}
	return s.resolve(&p, schema)
}

// valueFilter translates the value filter of a multi-valued attribute
// (emails[type eq "work"]) into a condition on its sub-attributes.
func (s *userSchema) valueFilter(a *attribute, vf filter.Expression) (*sdk.Cond, error) {
	c, err := (&translator{s: s, kind: usersFilter}).inside(a, vf, 1)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(false); err != nil {
		return nil, badRequest(typeInvalidFilter, "%s", messageOf(err))
	}
	return c, nil
}

// tenants caches tenantInfo per tenant for a short while: declaring a
// custom attribute shows in SCIM within [WithAuthCacheTTL].
type tenants struct {
	m sync.Map // tenant id → *tenantInfo
}

// schemaFor returns the User schema of the request's tenant.
func (h *Handler) schemaFor(ctx context.Context, req *request) *userSchema {
	return &userSchema{slug: req.slug, load: func() (*tenantInfo, error) { return h.tenantInfo(ctx, req) }}
}

func (h *Handler) tenantInfo(ctx context.Context, req *request) (*tenantInfo, error) {
	now := h.now()
	if v, ok := h.tenants.m.Load(req.tenantID); ok {
		if ti := v.(*tenantInfo); now.Before(ti.expires) {
			return ti, nil
		}
	}
	t, err := h.client.RecentTenant(ctx, req.tenantID)
	if err != nil {
		return nil, err
	}
	ti := &tenantInfo{ext: newExtension(t.Slug, t.Settings.CustomAttributes), defaultRole: t.DefaultRole(), expires: now.Add(sdk.MemberSnapshotMaxAge)}
	h.tenants.m.Store(req.tenantID, ti)
	return ti, nil
}
