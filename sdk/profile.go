package sdk

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Profile is everything Roster keeps about who a member is: the whole SCIM
// core User (RFC 7643 §4.1) and enterprise extension (§4.3), plus the
// tenant's custom attributes. It is embedded in [Member] and used by
// [AddMemberRequest], [UpdateMemberRequest] and [SyncRecord], so a field
// added here travels to every transport.
//
// Values are kept exactly as given — case, Unicode, and the order of
// multi-valued items — so that an identity provider reading a member back
// finds what it sent. Only derived keys (EmailKey, UserNameKey and the
// stores' search keys) are normalised.
type Profile struct {
	// UserName is unique per tenant, compared case-insensitively. It may
	// differ from the email (Entra ID sends the UPN). When empty on
	// creation it becomes the member's email.
	UserName string `json:"userName,omitempty"`

	// Name parts (RFC 7643 §4.1.1 "name").
	FormattedName   string `json:"formattedName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`

	DisplayName       string `json:"displayName,omitempty"`
	NickName          string `json:"nickName,omitempty"`
	ProfileURL        string `json:"profileUrl,omitempty"`
	Title             string `json:"title,omitempty"`
	UserType          string `json:"userType,omitempty"`
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
	Locale            string `json:"locale,omitempty"`
	Timezone          string `json:"timezone,omitempty"`

	// Multi-valued attributes, in the order they were given. At most one
	// item of each is Primary.
	Emails       []Email       `json:"emails,omitempty"`
	PhoneNumbers []PhoneNumber `json:"phoneNumbers,omitempty"`
	Addresses    []Address     `json:"addresses,omitempty"`

	// Enterprise extension (RFC 7643 §4.3).
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	CostCenter     string `json:"costCenter,omitempty"`
	Organization   string `json:"organization,omitempty"`
	Division       string `json:"division,omitempty"`
	Department     string `json:"department,omitempty"`
	// ManagerID is the id of the member's manager in the same tenant.
	ManagerID string `json:"managerId,omitempty"`

	// ExternalID is the member's id in the identity provider or HR system,
	// unique per tenant when set.
	ExternalID string `json:"externalId,omitempty"`

	// Custom holds the tenant's custom attributes ([Settings.CustomAttributes])
	// by name, each in the canonical text form of its type (see
	// [CustomAttributeType]). Absent means unset.
	Custom map[string]string `json:"custom,omitempty"`
}

// Email is one email address of a member (RFC 7643 §4.1.2).
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"` // work, home, other, or anything the source uses
	Display string `json:"display,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// PhoneNumber is one phone number of a member (RFC 7643 §4.1.2).
type PhoneNumber struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"` // work, home, mobile, fax, pager, other, …
	Display string `json:"display,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Address is one physical mailing address of a member (RFC 7643 §4.1.2).
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
}

// Clone returns a deep copy of p.
func (p Profile) Clone() Profile {
	p.Emails = slices.Clone(p.Emails)
	p.PhoneNumbers = slices.Clone(p.PhoneNumbers)
	p.Addresses = slices.Clone(p.Addresses)
	if p.Custom != nil {
		p.Custom = maps.Clone(p.Custom)
	}
	return p
}

// MemberEmail returns the address a member with this profile has for
// seats, uniqueness and invitations: the primary email, else the first
// email of type "work", else the userName when it is an email address,
// else "".
func (p *Profile) MemberEmail() string {
	for _, e := range p.Emails {
		if e.Primary {
			return strings.TrimSpace(e.Value)
		}
	}
	for _, e := range p.Emails {
		if strings.EqualFold(strings.TrimSpace(e.Type), "work") {
			return strings.TrimSpace(e.Value)
		}
	}
	if u := strings.TrimSpace(p.UserName); isEmail(u) {
		return u
	}
	return ""
}

// NormalizeUserName returns the uniqueness key of a userName: trimmed and
// lower-cased, like [NormalizeEmail].
func NormalizeUserName(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

// isEmail reports whether s is an addr-spec of RFC 5322 in the dot-atom
// form mail systems use (local@domain, no quoted local parts, no
// comments), without allocating; non-ASCII letters are allowed (RFC 6531).
func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > 254 || at > 64 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c < 0x80 && !isAtext(c) && c != '.' {
			return false
		}
	}
	if domain[0] == '.' || domain[len(domain)-1] == '.' || domain[0] == '-' || strings.Contains(domain, "..") {
		return false
	}
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		if c < 0x80 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return utf8.ValidString(s)
}

// isAtext reports whether c is an ASCII atext character (RFC 5322 §3.2.3).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) >= 0
}

// CustomAttributeType is the type of a custom attribute. Values are kept
// as text in a canonical form: "true"/"false" for booleans, a decimal
// integer, a decimal number as strconv.FormatFloat(v, 'f', -1, 64) prints
// it, and an RFC 3339 date-time in UTC.
type CustomAttributeType string

// Custom attribute types (the SCIM types of RFC 7643 §2.3 that a flat
// value can have).
const (
	CustomString   CustomAttributeType = "string"
	CustomBoolean  CustomAttributeType = "boolean"
	CustomInteger  CustomAttributeType = "integer"
	CustomDecimal  CustomAttributeType = "decimal"
	CustomDateTime CustomAttributeType = "dateTime"
)

// CustomAttribute declares one of a tenant's custom member attributes.
// SCIM serves them under the tenant's extension schema
// (urn:roster:params:scim:schemas:extension:{slug}:2.0:User) and HR sync
// reads a column of the same name.
type CustomAttribute struct {
	Name        string              `json:"name"` // a SCIM attribute name: a letter, then letters, digits, '_' or '-'
	Type        CustomAttributeType `json:"type"`
	Description string              `json:"description,omitempty"`
}

// Limits on profiles.
const (
	MaxMultiValues       = 20   // items of each multi-valued attribute
	MaxCustomAttributes  = 50   // custom attributes a tenant declares
	MaxCustomValueLength = 1024 // bytes of a custom string value
)

var customNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// Canonical checks v against the type and returns its canonical form.
func (t CustomAttributeType) Canonical(v string) (string, error) {
	switch t {
	case CustomString:
		if len(v) > MaxCustomValueLength {
			return "", fmt.Errorf("must be at most %d bytes", MaxCustomValueLength)
		}
		if !utf8.ValidString(v) {
			return "", fmt.Errorf("is not valid UTF-8")
		}
		return v, nil
	case CustomBoolean:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return "", fmt.Errorf("%q is not a boolean (true or false)", shortText(v))
		}
		return strconv.FormatBool(b), nil
	case CustomInteger:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return "", fmt.Errorf("%q is not an integer", shortText(v))
		}
		return strconv.FormatInt(n, 10), nil
	case CustomDecimal:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f != f || f > 1e300 || f < -1e300 {
			return "", fmt.Errorf("%q is not a decimal number", shortText(v))
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case CustomDateTime:
		tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
		if err != nil {
			return "", fmt.Errorf("%q is not an RFC 3339 date-time such as 2026-01-02T15:04:05Z", shortText(v))
		}
		return tm.UTC().Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("has an unknown type %q", t)
}

func shortText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// validateCustomAttributes checks a tenant's declarations.
func validateCustomAttributes(op string, as []CustomAttribute) error {
	if len(as) > MaxCustomAttributes {
		return invalid(op, "Settings.CustomAttributes", fmt.Sprintf("has more than %d entries", MaxCustomAttributes))
	}
	seen := map[string]bool{}
	for i, a := range as {
		f := fmt.Sprintf("Settings.CustomAttributes[%d]", i)
		if !customNameRe.MatchString(a.Name) {
			return invalid(op, f+".Name", fmt.Sprintf("%q is not an attribute name (a letter, then up to 63 letters, digits, '_' or '-')", a.Name))
		}
		k := strings.ToLower(a.Name)
		if seen[k] {
			return invalid(op, f+".Name", fmt.Sprintf("%q is declared twice (names compare case-insensitively)", a.Name))
		}
		seen[k] = true
		switch a.Type {
		case CustomString, CustomBoolean, CustomInteger, CustomDecimal, CustomDateTime:
		default:
			return invalid(op, f+".Type", fmt.Sprintf("%q is not a type (string, boolean, integer, decimal, dateTime)", a.Type))
		}
		if len(a.Description) > 1024 {
			return invalid(op, f+".Description", "must be at most 1024 characters")
		}
	}
	return nil
}

// CustomAttribute returns the tenant's declaration of the custom
// attribute name (compared case-insensitively), or nil.
func (s *Settings) CustomAttribute(name string) *CustomAttribute {
	for i := range s.CustomAttributes {
		if strings.EqualFold(s.CustomAttributes[i].Name, name) {
			return &s.CustomAttributes[i]
		}
	}
	return nil
}

// Validate checks p as a member's whole profile in tenant t (whose custom
// attributes it may use; t may be nil when none are declared): every value
// within its length, valid UTF-8, each multi-valued item with a value, at
// most one primary item per attribute, custom values of their declared
// type (rewritten to canonical form), and a member email derivable (see
// [Profile.MemberEmail]). It returns a CodeInvalidArgument [*Error] whose
// Field is the attribute's name as in [Field], such as "emails[1].value"
// or "custom.badge".
func (p *Profile) Validate(op string, t *Tenant) error {
	for _, f := range profileScalars {
		v := *f.get(p)
		if len(v) > f.max {
			return invalid(op, string(f.field), fmt.Sprintf("must be at most %d bytes (it has %d)", f.max, len(v)))
		}
		if !utf8.ValidString(v) {
			return invalid(op, string(f.field), "is not valid UTF-8")
		}
	}
	if err := checkItems(op, "emails", p.Emails, func(e Email, b []sub) (bool, []sub) {
		return e.Primary, append(b, sub{"value", e.Value, 254}, sub{"type", e.Type, 64}, sub{"display", e.Display, 256})
	}); err != nil {
		return err
	}
	for i, e := range p.Emails {
		if !isEmail(strings.TrimSpace(e.Value)) {
			return invalid(op, fmt.Sprintf("emails[%d].value", i), fmt.Sprintf("%q is not an email address", shortText(e.Value)))
		}
	}
	if err := checkItems(op, "phoneNumbers", p.PhoneNumbers, func(e PhoneNumber, b []sub) (bool, []sub) {
		return e.Primary, append(b, sub{"value", e.Value, 64}, sub{"type", e.Type, 64}, sub{"display", e.Display, 256})
	}); err != nil {
		return err
	}
	if err := checkItems(op, "addresses", p.Addresses, func(a Address, b []sub) (bool, []sub) {
		return a.Primary, append(b, sub{"formatted", a.Formatted, 1024}, sub{"streetAddress", a.StreetAddress, 512}, sub{"locality", a.Locality, 256},
			sub{"region", a.Region, 256}, sub{"postalCode", a.PostalCode, 64}, sub{"country", a.Country, 64}, sub{"type", a.Type, 64})
	}); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(p.Custom)) {
		f := "custom." + k
		var ca *CustomAttribute
		if t != nil {
			ca = t.Settings.CustomAttribute(k)
		}
		if ca == nil {
			return invalid(op, f, fmt.Sprintf("%q is not a custom attribute of this tenant (declare it in the tenant's settings first)", k))
		}
		v, err := ca.Type.Canonical(p.Custom[k])
		if err != nil {
			return invalid(op, f, err.Error())
		}
		if ca.Name != k {
			delete(p.Custom, k)
		}
		p.Custom[ca.Name] = v
	}
	if p.MemberEmail() == "" {
		return invalid(op, "emails", "a member needs an email address: send emails with a primary or \"work\" item, or a userName that is an email address")
	}
	return nil
}

// sub is one sub-attribute of a multi-valued item, for checkItems.
type sub struct {
	name, value string
	max         int
}

// checkItems checks the items of one multi-valued attribute: limits, a
// value in every item (the first sub-attribute for emails and phones, any
// address part for addresses) and one primary at most. parts fills subs
// (reused across items) and reports whether the item is primary.
func checkItems[T any](op, attr string, items []T, parts func(T, []sub) (bool, []sub)) error {
	if len(items) > MaxMultiValues {
		return invalid(op, attr, fmt.Sprintf("has more than %d items", MaxMultiValues))
	}
	primary := -1
	var buf [8]sub
	for i, it := range items {
		isPrimary, subs := parts(it, buf[:0])
		hasValue := false
		for j, s := range subs {
			if len(s.value) > s.max {
				return invalid(op, fmt.Sprintf("%s[%d].%s", attr, i, s.name), fmt.Sprintf("must be at most %d bytes (it has %d)", s.max, len(s.value)))
			}
			if !utf8.ValidString(s.value) {
				return invalid(op, fmt.Sprintf("%s[%d].%s", attr, i, s.name), "is not valid UTF-8")
			}
			if s.value != "" && s.name != "type" && (attr == "addresses" || j == 0) {
				hasValue = true
			}
		}
		if !hasValue {
			what := "a value"
			if attr == "addresses" {
				what = "at least one address part"
			}
			return invalid(op, fmt.Sprintf("%s[%d]", attr, i), "needs "+what)
		}
		if isPrimary {
			if primary >= 0 {
				return invalid(op, attr, fmt.Sprintf("items %d and %d are both primary; at most one may be", primary, i))
			}
			primary = i
		}
	}
	return nil
}

// profileScalar describes one single-valued text field of a profile.
type profileScalar struct {
	field Field
	max   int // bytes
	get   func(*Profile) *string
}

// profileScalars lists every single-valued text field of [Profile]; the
// order is the order of the struct.
var profileScalars = []profileScalar{
	{FieldUserName, 256, func(p *Profile) *string { return &p.UserName }},
	{FieldFormattedName, 512, func(p *Profile) *string { return &p.FormattedName }},
	{FieldGivenName, 256, func(p *Profile) *string { return &p.GivenName }},
	{FieldFamilyName, 256, func(p *Profile) *string { return &p.FamilyName }},
	{FieldMiddleName, 256, func(p *Profile) *string { return &p.MiddleName }},
	{FieldHonorificPrefix, 64, func(p *Profile) *string { return &p.HonorificPrefix }},
	{FieldHonorificSuffix, 64, func(p *Profile) *string { return &p.HonorificSuffix }},
	{FieldDisplayName, 256, func(p *Profile) *string { return &p.DisplayName }},
	{FieldNickName, 256, func(p *Profile) *string { return &p.NickName }},
	{FieldProfileURL, 2048, func(p *Profile) *string { return &p.ProfileURL }},
	{FieldTitle, 256, func(p *Profile) *string { return &p.Title }},
	{FieldUserType, 64, func(p *Profile) *string { return &p.UserType }},
	{FieldPreferredLanguage, 64, func(p *Profile) *string { return &p.PreferredLanguage }},
	{FieldLocale, 64, func(p *Profile) *string { return &p.Locale }},
	{FieldTimezone, 64, func(p *Profile) *string { return &p.Timezone }},
	{FieldEmployeeNumber, 64, func(p *Profile) *string { return &p.EmployeeNumber }},
	{FieldCostCenter, 256, func(p *Profile) *string { return &p.CostCenter }},
	{FieldOrganization, 256, func(p *Profile) *string { return &p.Organization }},
	{FieldDivision, 256, func(p *Profile) *string { return &p.Division }},
	{FieldDepartment, 256, func(p *Profile) *string { return &p.Department }},
	{FieldManagerID, 64, func(p *Profile) *string { return &p.ManagerID }},
	{FieldExternalID, 256, func(p *Profile) *string { return &p.ExternalID }},
}

// ProfileFields lists every field of [Profile] a field mask may name, in
// struct order: the single-valued ones, then [FieldEmails],
// [FieldPhoneNumbers], [FieldAddresses]. A custom attribute is named
// [CustomField](name); [FieldCustom] names all of them at once.
func ProfileFields() []Field {
	out := make([]Field, 0, len(profileScalars)+4)
	for _, f := range profileScalars {
		out = append(out, f.field)
	}
	return append(out, FieldEmails, FieldPhoneNumbers, FieldAddresses, FieldCustom)
}

// CustomField names the custom attribute name in a field mask or a [Cond].
func CustomField(name string) Field { return Field(customPrefix + name) }

const customPrefix = "custom."

// customName returns the attribute name of a custom field.
func (f Field) customName() (string, bool) {
	n, ok := strings.CutPrefix(string(f), customPrefix)
	return n, ok && n != ""
}

// copyFields sets the fields of dst named in mask to their values in src.
// It returns an error for a name that is not a profile field.
func copyFields(op string, dst, src *Profile, mask []Field) error {
	for _, f := range mask {
		if name, ok := f.customName(); ok {
			v, has := src.Custom[name]
			if !has {
				// Case-insensitive lookup, so a mask spelled otherwise finds it.
				for k, vv := range src.Custom {
					if strings.EqualFold(k, name) {
						v, has = vv, true
					}
				}
			}
			for k := range dst.Custom {
				if strings.EqualFold(k, name) {
					delete(dst.Custom, k)
				}
			}
			if has {
				if dst.Custom == nil {
					dst.Custom = map[string]string{}
				}
				dst.Custom[name] = v
			}
			continue
		}
		switch f {
		case FieldEmails:
			dst.Emails = slices.Clone(src.Emails)
			continue
		case FieldPhoneNumbers:
			dst.PhoneNumbers = slices.Clone(src.PhoneNumbers)
			continue
		case FieldAddresses:
			dst.Addresses = slices.Clone(src.Addresses)
			continue
		case FieldCustom:
			dst.Custom = maps.Clone(src.Custom)
			continue
		}
		i := slices.IndexFunc(profileScalars, func(s profileScalar) bool { return s.field == f })
		if i < 0 {
			return invalid(op, "Fields", fmt.Sprintf("%q is not a profile field", f))
		}
		*profileScalars[i].get(dst) = *profileScalars[i].get(src)
	}
	return nil
}

// changedFields returns the profile fields that differ between a and b, in
// [ProfileFields] order, custom attributes by name.
func changedFields(a, b *Profile) []Field {
	var out []Field
	for _, f := range profileScalars {
		if *f.get(a) != *f.get(b) {
			out = append(out, f.field)
		}
	}
	if !slices.Equal(a.Emails, b.Emails) {
		out = append(out, FieldEmails)
	}
	if !slices.Equal(a.PhoneNumbers, b.PhoneNumbers) {
		out = append(out, FieldPhoneNumbers)
	}
	if !slices.Equal(a.Addresses, b.Addresses) {
		out = append(out, FieldAddresses)
	}
	keys := map[string]bool{}
	for k := range a.Custom {
		keys[k] = true
	}
	for k := range b.Custom {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		va, oka := a.Custom[k]
		vb, okb := b.Custom[k]
		if va != vb || oka != okb {
			out = append(out, CustomField(k))
		}
	}
	return out
}
