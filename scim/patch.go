package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	elim "github.com/elimity-com/scim"
	"github.com/gorilla/mux"
	"github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/sdk"
)

// userDoc is the part of a User resource Roster stores, as a PUT body or a
// sequence of PATCH operations leaves it. PATCH operations (RFC 7644
// §3.5.2) are applied to it one after the other; the caller then writes the
// difference from the stored member through the SDK.
type userDoc struct {
	userName    string
	emails      []emailEntry
	givenName   string
	familyName  string
	displayName string
	title       string
	externalID  string
	department  string
	managerID   string
	active      bool
	password    *string

	userNameSet bool // the request set userName
	emailsSet   bool // the request changed emails
}

// emailEntry is one value of the multi-valued emails attribute (RFC 7643
// §4.1.2). Only the primary (or work) address is stored: it is the
// member's email, the same as userName.
type emailEntry struct {
	value, typ, display string
	primary             bool
}

func docFromMember(m *sdk.Member) *userDoc {
	return &userDoc{
		userName: m.Email, emails: []emailEntry{{value: m.Email, typ: "work", primary: true}},
		givenName: m.GivenName, familyName: m.FamilyName, displayName: m.DisplayName, title: m.Title,
		externalID: m.ExternalID, department: m.Department, managerID: m.ManagerID, active: m.Status == sdk.StatusActive,
	}
}

// docFromAttrs reads a POST or PUT body that elimity has validated (keys
// are the schema's attribute names). Attributes Roster does not store are
// ignored; active defaults to true.
func docFromAttrs(attrs map[string]any) (*userDoc, error) {
	d := &userDoc{active: true}
	for _, k := range sortedKeys(attrs) {
		v := attrs[k]
		if urn, ok := containerURN(k); ok && urn != "" {
			ext, _ := v.(map[string]any)
			for _, kk := range sortedKeys(ext) {
				if err := d.set("replace", urn, kk, "", ext[kk]); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := d.set("replace", "", k, "", v); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// email returns the address the member should have: userName when the
// request set it, else the primary (or work, or first) email when the
// request changed emails, else the current one.
func (d *userDoc) email(m *sdk.Member) string {
	if d.userNameSet || m == nil {
		return d.userName
	}
	if d.emailsSet {
		if e := d.preferredEmail(); e != "" {
			return e
		}
	}
	return m.Email
}

func (d *userDoc) preferredEmail() string {
	for _, e := range d.emails {
		if e.primary && e.value != "" {
			return e.value
		}
	}
	for _, e := range d.emails {
		if strings.EqualFold(e.typ, "work") && e.value != "" {
			return e.value
		}
	}
	for _, e := range d.emails {
		if e.value != "" {
			return e.value
		}
	}
	return ""
}

// check validates what the SDK would not say in SCIM terms.
func (d *userDoc) check() error {
	if strings.TrimSpace(d.userName) == "" {
		return badRequest(typeInvalidValue, "userName is required.")
	}
	return nil
}

// apply applies one PATCH operation (op already lower-cased by elimity).
func (d *userDoc) apply(op string, p *filter.Path, v any) error {
	switch op {
	case "add", "replace", "remove":
	default:
		return badRequest(typeInvalidSyntax, "%q is not a PATCH operation (add, remove, replace).", op)
	}
	if p == nil {
		// RFC 7644 §3.5.2.1/3: without a path the value is a set of
		// attributes of the resource, keyed by attribute path (Okta and
		// Entra send dotted and URN-prefixed keys).
		if op == "remove" {
			return scimError{Status: 400, ScimType: typeNoTarget, Detail: "A remove operation needs a path."}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "An operation without a path needs an object value.")
		}
		for _, k := range sortedKeys(obj) {
			val := obj[k]
			if urn, ok := containerURN(k); ok {
				sub, ok := val.(map[string]any)
				if !ok {
					return badRequest(typeInvalidValue, "The value of %s must be an object.", urn)
				}
				for _, kk := range sortedKeys(sub) {
					if err := d.set(op, urn, kk, "", sub[kk]); err != nil {
						return err
					}
				}
				continue
			}
			kp, err := parsePath(k)
			if err != nil {
				return badRequest(typeInvalidPath, "%.100q is not an attribute path.", k)
			}
			if err := d.apply(op, &kp, val); err != nil {
				return err
			}
		}
		return nil
	}
	ap := p.AttributePath
	uri, attr := ap.URI(), ap.AttributeName
	if u, ok := containerURN(uri + ":" + attr); ok && uri != "" {
		// The whole extension, as in path "urn:…:enterprise:2.0:User".
		if op == "remove" {
			return d.set(op, u, "manager", "", nil)
		}
		sub, ok := v.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "The value of %s must be an object.", u)
		}
		for _, kk := range sortedKeys(sub) {
			if err := d.set(op, u, kk, "", sub[kk]); err != nil {
				return err
			}
		}
		return nil
	}
	sub := ap.SubAttributeName()
	if p.ValueExpression != nil || p.SubAttribute != nil {
		if !strings.EqualFold(attr, "emails") {
			if isIgnoredMulti(attr) {
				return nil
			}
			return badRequest(typeInvalidPath, "Filtered paths are supported on emails only, not %q.", attr)
		}
		return d.patchEmails(op, p.ValueExpression, p.SubAttributeName(), v)
	}
	container, err := schemaOf(uri)
	if err != nil {
		return err
	}
	return d.set(op, container, attr, sub, v)
}

// containerURN reports whether k names a schema whose attributes a value
// groups (the core User schema or the enterprise extension).
func containerURN(k string) (string, bool) {
	switch {
	case strings.EqualFold(k, enterpriseURN):
		return enterpriseURN, true
	case strings.EqualFold(k, userURN):
		return "", true
	}
	return "", false
}

func schemaOf(uri string) (string, error) {
	switch {
	case uri == "", strings.EqualFold(uri, userURN):
		return "", nil
	case strings.EqualFold(uri, enterpriseURN):
		return enterpriseURN, nil
	}
	return "", badRequest(typeInvalidPath, "%.100q is not a schema of the User resource.", uri)
}

// Attributes of the schemas that Roster accepts and does not store (RFC
// 7644 §3.3: a service provider may ignore attributes).
var ignoredCore = map[string]bool{
	"nickname": true, "profileurl": true, "usertype": true, "preferredlanguage": true, "locale": true,
	"timezone": true, "phonenumbers": true, "ims": true, "photos": true, "addresses": true,
	"entitlements": true, "roles": true, "x509certificates": true,
	// readOnly (RFC 7643 §4.1.2, §3.1): ignored in requests.
	"groups": true, "id": true, "meta": true, "schemas": true,
}

var ignoredEnterprise = map[string]bool{
	"employeenumber": true, "costcenter": true, "organization": true, "division": true,
}

func isIgnoredMulti(attr string) bool { return ignoredCore[strings.ToLower(attr)] }

// set applies op to one attribute (and sub-attribute) of container ("" for
// the core schema).
func (d *userDoc) set(op, container, attr, sub string, v any) error {
	remove := op == "remove"
	a := strings.ToLower(attr)
	s := strings.ToLower(sub)
	if container == enterpriseURN {
		switch a {
		case "department":
			return setString(&d.department, "department", remove, v)
		case "manager":
			// A manager is {"value": id}; Entra also sends the bare id.
			if remove || v == nil {
				d.managerID = ""
				return nil
			}
			if s != "" && s != "value" {
				return nil // $ref and displayName are derived
			}
			id, err := managerID(v)
			if err != nil {
				return err
			}
			d.managerID = id
			return nil
		}
		if ignoredEnterprise[a] {
			return nil
		}
		return badRequest(typeInvalidPath, "%.100q is not an attribute of the enterprise extension.", attr)
	}
	switch a {
	case "username":
		if remove {
			return badRequest(typeMutability, "userName is required and cannot be removed.")
		}
		d.userNameSet = true
		return setString(&d.userName, "userName", false, v)
	case "externalid":
		return setString(&d.externalID, "externalId", remove, v)
	case "displayname":
		return setString(&d.displayName, "displayName", remove, v)
	case "title":
		return setString(&d.title, "title", remove, v)
	case "active":
		if remove {
			return nil
		}
		b, ok := asBool(v)
		if !ok {
			return badRequest(typeInvalidValue, "active must be a boolean.")
		}
		d.active = b
		return nil
	case "password":
		if remove || v == nil {
			return nil
		}
		pw, ok := v.(string)
		if !ok {
			return badRequest(typeInvalidValue, "password must be a string.")
		}
		d.password = &pw
		return nil
	case "name":
		if s != "" {
			return d.setName(s, remove, v)
		}
		if remove || v == nil {
			d.givenName, d.familyName = "", ""
			return nil
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "name must be an object.")
		}
		for _, k := range sortedKeys(obj) {
			if err := d.setName(strings.ToLower(k), obj[k] == nil, obj[k]); err != nil {
				return err
			}
		}
		return nil
	case "emails":
		if s != "" {
			return d.patchEmails(op, nil, s, v)
		}
		return d.patchEmails(op, nil, "", v)
	}
	if ignoredCore[a] {
		return nil
	}
	return badRequest(typeInvalidPath, "%.100q is not an attribute of the User resource.", attr)
}

func (d *userDoc) setName(sub string, remove bool, v any) error {
	switch sub {
	case "givenname":
		return setString(&d.givenName, "name.givenName", remove, v)
	case "familyname":
		return setString(&d.familyName, "name.familyName", remove, v)
	case "formatted", "middlename", "honorificprefix", "honorificsuffix":
		return nil // derived or not stored
	}
	return badRequest(typeInvalidPath, "%.100q is not a sub-attribute of name.", sub)
}

func setString(dst *string, name string, remove bool, v any) error {
	if remove || v == nil {
		*dst = ""
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return badRequest(typeInvalidValue, "%s must be a string.", name)
	}
	*dst = s
	return nil
}

func asBool(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		// Entra ID sends "True"/"False" (normalize.go converts most; this
		// catches the rest).
		if p, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
			return p, true
		}
	}
	return false, false
}

func managerID(v any) (string, error) {
	switch m := v.(type) {
	case string:
		return m, nil
	case map[string]any:
		for k, val := range m {
			if strings.EqualFold(k, "value") {
				if s, ok := val.(string); ok {
					return s, nil
				}
				if val == nil {
					return "", nil
				}
			}
		}
		return "", nil
	case []any:
		if len(m) == 1 {
			return managerID(m[0])
		}
	}
	return "", badRequest(typeInvalidValue, "manager must be an object with a value, or a user id.")
}

// patchEmails applies an operation to emails, possibly through a value
// filter (emails[type eq "work"]) and a sub-attribute (….value). An add or
// replace whose filter matches no entry creates one from the filter's
// equality tests, as Entra ID expects of emails[type eq "work"].value.
func (d *userDoc) patchEmails(op string, vf filter.Expression, sub string, v any) error {
	sub = strings.ToLower(sub)
	switch sub {
	case "", "value", "type", "display", "primary":
	default:
		return badRequest(typeInvalidPath, "%.100q is not a sub-attribute of emails.", sub)
	}
	d.emailsSet = true
	if vf == nil && sub == "" {
		if op == "remove" {
			d.emails = nil
			return nil
		}
		entries, err := emailEntries(v)
		if err != nil {
			return err
		}
		if op == "replace" {
			d.emails = entries
		} else {
			for _, e := range entries {
				i := slices.IndexFunc(d.emails, func(x emailEntry) bool { return strings.EqualFold(x.value, e.value) })
				if i >= 0 {
					d.emails[i] = e
				} else {
					d.emails = append(d.emails, e)
				}
			}
		}
		d.onePrimary(-1)
		return nil
	}
	var matched []int
	for i, e := range d.emails {
		ok, err := matchEmail(vf, e)
		if err != nil {
			return err
		}
		if ok {
			matched = append(matched, i)
		}
	}
	if op == "remove" {
		if sub == "" || sub == "value" {
			d.emails = slices.DeleteFunc(d.emails, func(e emailEntry) bool {
				ok, _ := matchEmail(vf, e)
				return ok
			})
			return nil
		}
		for _, i := range matched {
			if err := setEmailSub(&d.emails[i], sub, nil); err != nil {
				return err
			}
		}
		return nil
	}
	if len(matched) == 0 {
		e := emailEntry{}
		if vf != nil {
			eqs, ok := equalities(vf)
			if !ok {
				return scimError{Status: 400, ScimType: typeNoTarget, Detail: "The filter matches no email and does not say how to create one."}
			}
			for k, val := range eqs {
				if err := setEmailSub(&e, k, val); err != nil {
					return err
				}
			}
		}
		d.emails = append(d.emails, e)
		matched = []int{len(d.emails) - 1}
	}
	for _, i := range matched {
		if sub == "" {
			obj, ok := v.(map[string]any)
			if !ok {
				if list, isList := v.([]any); isList && len(list) == 1 {
					obj, ok = list[0].(map[string]any)
				}
			}
			if !ok {
				return badRequest(typeInvalidValue, "An email must be an object.")
			}
			for _, k := range sortedKeys(obj) {
				if err := setEmailSub(&d.emails[i], strings.ToLower(k), obj[k]); err != nil {
					return err
				}
			}
		} else if err := setEmailSub(&d.emails[i], sub, v); err != nil {
			return err
		}
	}
	if sub == "primary" || sub == "" {
		d.onePrimary(matched[len(matched)-1])
	}
	return nil
}

// onePrimary keeps at most one primary email (RFC 7643 §2.4): the one at
// keep if it is primary, else the last primary.
func (d *userDoc) onePrimary(keep int) {
	if keep < 0 || keep >= len(d.emails) || !d.emails[keep].primary {
		keep = -1
		for i, e := range d.emails {
			if e.primary {
				keep = i
			}
		}
	}
	for i := range d.emails {
		d.emails[i].primary = i == keep
	}
}

func emailEntries(v any) ([]emailEntry, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []emailEntry
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, badRequest(typeInvalidValue, "An email must be an object.")
		}
		var e emailEntry
		for _, k := range sortedKeys(obj) {
			if err := setEmailSub(&e, strings.ToLower(k), obj[k]); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func setEmailSub(e *emailEntry, sub string, v any) error {
	if sub == "primary" {
		if v == nil {
			e.primary = false
			return nil
		}
		b, ok := asBool(v)
		if !ok {
			return badRequest(typeInvalidValue, "emails.primary must be a boolean.")
		}
		e.primary = b
		return nil
	}
	var dst *string
	switch sub {
	case "value":
		dst = &e.value
	case "type":
		dst = &e.typ
	case "display":
		dst = &e.display
	default:
		return nil // unknown sub-attributes of a complex value are ignored
	}
	return setString(dst, "emails."+sub, v == nil, v)
}

// matchEmail evaluates a value filter on one email (RFC 7644 §3.4.2.2:
// value, type and display compare case-insensitively).
func matchEmail(vf filter.Expression, e emailEntry) (bool, error) {
	if vf == nil {
		return true, nil
	}
	switch x := vf.(type) {
	case *filter.LogicalExpression:
		l, err := matchEmail(x.Left, e)
		if err != nil {
			return false, err
		}
		r, err := matchEmail(x.Right, e)
		if err != nil {
			return false, err
		}
		if x.Operator == filter.AND {
			return l && r, nil
		}
		return l || r, nil
	case *filter.NotExpression:
		v, err := matchEmail(x.Expression, e)
		return !v, err
	case *filter.AttributeExpression:
		name := strings.ToLower(x.AttributePath.AttributeName)
		if x.AttributePath.SubAttribute != nil || x.AttributePath.URIPrefix != nil {
			return false, badRequest(typeInvalidFilter, "Unsupported attribute %q in an emails filter.", x.AttributePath.String())
		}
		if name == "primary" {
			want, ok := asBool(x.CompareValue)
			switch x.Operator {
			case filter.PR:
				return true, nil
			case filter.EQ:
				return ok && e.primary == want, nil
			case filter.NE:
				return !ok || e.primary != want, nil
			}
			return false, badRequest(typeInvalidFilter, "primary compares with eq, ne or pr.")
		}
		var field string
		switch name {
		case "value":
			field = e.value
		case "type":
			field = e.typ
		case "display":
			field = e.display
		default:
			return false, badRequest(typeInvalidFilter, "Unsupported attribute %q in an emails filter.", name)
		}
		c := sdk.Compare(sdk.FieldTitle, sdk.CondOp(x.Operator), compareString(x.CompareValue))
		if x.Operator == filter.GT || x.Operator == filter.GE || x.Operator == filter.LT || x.Operator == filter.LE {
			c.Field = sdk.FieldEmail // ordering is allowed on a case-insensitive key
		}
		if err := c.Validate(false); err != nil {
			return false, badRequest(typeInvalidFilter, "%s", messageOf(err))
		}
		return c.Match(&sdk.Member{Title: field, EmailKey: sdk.NormalizeEmail(field)}), nil
	}
	return false, badRequest(typeInvalidFilter, "Unsupported emails filter.")
}

// equalities returns the attribute values an "a eq x and b eq y" filter
// requires, to create an entry that satisfies it.
func equalities(vf filter.Expression) (map[string]any, bool) {
	switch x := vf.(type) {
	case *filter.AttributeExpression:
		if x.Operator != filter.EQ || x.AttributePath.SubAttribute != nil {
			return nil, false
		}
		return map[string]any{strings.ToLower(x.AttributePath.AttributeName): x.CompareValue}, true
	case *filter.LogicalExpression:
		if x.Operator != filter.AND {
			return nil, false
		}
		l, ok := equalities(x.Left)
		if !ok {
			return nil, false
		}
		r, ok := equalities(x.Right)
		if !ok {
			return nil, false
		}
		for k, v := range r {
			l[k] = v
		}
		return l, true
	}
	return nil, false
}

// compareString renders a filter operand as text.
func compareString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// readPatch reads a PatchOp request (RFC 7644 §3.5.2): its schemas must
// name the PatchOp message, it needs at least one operation, op is add,
// remove or replace in any case, paths are parsed by parsePath, and add and
// replace need a value. This package reads PATCH bodies itself rather than
// through elimity, whose path parser costs most of a PATCH; the values are
// checked by the code applying each operation.
func readPatch(body []byte) ([]elim.PatchOperation, error) {
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

// patchUser serves PATCH /Users/{id} (RFC 7644 §3.5.2): 200 with the user.
func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request, req *request) {
	id := mux.Vars(r)["id"]
	if id == ".search" {
		h.methodNotAllowed(w, r)
		return
	}
	ops, err := h.patchOps(r, req, "/Users/"+id)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	proj, err := projectionFromQuery(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	m, err := h.patchMember(r, req, id, ops)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	var groups []string
	if proj.wants("groups") {
		if groups, err = h.groupsOf(r.Context(), req, m); err != nil {
			writeError(w, h.fail(r, err))
			return
		}
	}
	w.Header().Set("ETag", etag(m.Version))
	w.Header().Set("Location", req.base+"/Users/"+m.ID)
	writeJSON(w, http.StatusOK, proj.apply(userResource(m, groups, req.base)))
}

// patchGroup serves PATCH /Groups/{id}: 204 (see groupHandler.Patch).
func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request, req *request) {
	id := mux.Vars(r)["id"]
	if id == ".search" {
		h.methodNotAllowed(w, r)
		return
	}
	ops, err := h.patchOps(r, req, "/Groups/"+id)
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

func (h *Handler) patchOps(r *http.Request, req *request, path string) ([]elim.PatchOperation, error) {
	if err := checkPatchCost(req.body); err != nil {
		return nil, err
	}
	body, err := normalizeBody(path, http.MethodPatch, req.body)
	if err != nil {
		return nil, err
	}
	return readPatch(body)
}
