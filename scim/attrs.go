package scim

import (
	"strings"

	"github.com/rosterhq/roster/sdk"
)

// The attribute table: every attribute of the User resource Roster keeps,
// as data. Parsing POST and PUT bodies and PATCH paths and values
// (edit.go), projection and rendering (render.go), filter translation
// (filter.go) and /Schemas (schema.go) all walk it; none of them names a
// profile attribute. Adding an attribute means adding it to [sdk.Profile],
// to this table and to the stores' field lists.
//
// The characteristics are those of RFC 7643 §2.2 and §7, with the values
// of the core User schema (§4.1, §8.7.1) and the enterprise extension
// (§4.3) for what Roster stores; caseExact follows what the SDK compares
// ([sdk.Field.CaseInsensitive]), so /Schemas says how filters behave.

// attrType is a SCIM data type (RFC 7643 §2.3).
type attrType uint8

const (
	tString attrType = iota + 1
	tBoolean
	tDecimal
	tInteger
	tDateTime
	tReference
	tComplex
)

var attrTypeNames = [...]string{tString: "string", tBoolean: "boolean", tDecimal: "decimal", tInteger: "integer",
	tDateTime: "dateTime", tReference: "reference", tComplex: "complex"}

// mutability is RFC 7643 §7 "mutability".
type mutability uint8

const (
	readWrite mutability = iota
	readOnly
	writeOnly
	immutable
)

var mutabilityNames = [...]string{readWrite: "readWrite", readOnly: "readOnly", writeOnly: "writeOnly", immutable: "immutable"}

// returned is RFC 7643 §7 "returned".
type returned uint8

const (
	retDefault returned = iota
	retAlways
	retNever
	retRequest
)

var returnedNames = [...]string{retDefault: "default", retAlways: "always", retNever: "never", retRequest: "request"}

// storage says where Roster keeps an attribute's value.
type storage uint8

const (
	inProfile  storage = iota // text in the member's profile, through text
	inList                    // a multi-valued attribute of the profile, through list
	inCustom                  // a tenant's custom attribute (Profile.Custom)
	isID                      // the resource id
	isMeta                    // meta, derived from the member's times and version
	isActive                  // the member's status
	isPassword                // the member's password (write-only)
	isRoles                   // the member's role, decided by group mappings
	isGroups                  // the member's groups, changed through Groups
	isMembers                 // a group's members
	isDerived                 // computed from another attribute (manager.$ref)
	isIgnored                 // read-only and not kept (manager.displayName): accepted and ignored
)

// attribute is one row of the table: an attribute or a sub-attribute.
type attribute struct {
	name        string
	lname       string // lower-case name: attribute names are case-insensitive (RFC 7643 §2.1)
	schema      string // the URN of the schema that defines it
	typ         attrType
	multi       bool
	subs        []*attribute
	caseExact   bool
	mutability  mutability
	returned    returned
	unique      bool // uniqueness "server"
	required    bool
	canonical   []string
	refTypes    []string
	description string
	common      bool // a common attribute (RFC 7643 §3.1), not listed in its schema
	hidden      bool // known to the RFC but not kept: neither listed nor returned

	kind storage
	// field is what a filter on the attribute compares and, for a
	// single-valued attribute or sub-attribute of a complex one, the field
	// mask entry a change names. Sub-attributes of a multi-valued attribute
	// name their list (parent.list.field) in a field mask.
	field sdk.Field
	// text reads and writes a text value: the item index i is ignored
	// outside multi-valued attributes.
	text func(p *sdk.Profile, i int) *string
	// flag reads and writes a boolean sub-attribute of an item.
	flag func(p *sdk.Profile, i int) *bool
	// list accesses the items of a multi-valued attribute.
	list *itemList
	// def is the sub-attribute a bare value means (manager: "value";
	// emails: "value", RFC 7644 §3.4.2.2 and §3.5.2).
	def *attribute
	// ident marks the sub-attribute that identifies an item ("value"):
	// removing it removes the item.
	ident bool
	// custom is the declared type of a custom attribute; name is its name.
	custom sdk.CustomAttributeType

	parent *attribute
}

// sub returns the sub-attribute named name (case-insensitively), or nil.
func (a *attribute) sub(name string) *attribute {
	for _, s := range a.subs {
		if strings.EqualFold(s.name, name) {
			return s
		}
	}
	return nil
}

// path is the attribute's name as a client writes it: "name.givenName",
// and URN-qualified outside the core schema.
func (a *attribute) path() string {
	n := a.name
	top := a
	if a.parent != nil {
		n = a.parent.name + "." + n
		top = a.parent
	}
	if top.schema != userURN && top.schema != groupURN {
		return top.schema + ":" + n
	}
	return n
}

// maskField is the field mask entry that a change to the attribute names.
func (a *attribute) maskField() sdk.Field {
	if a.parent != nil && a.parent.multi {
		return a.parent.list.field
	}
	if a.list != nil {
		return a.list.field
	}
	return a.field
}

// itemList accesses the items of a multi-valued profile attribute
// without reflection: listOf builds one per item type.
type itemList struct {
	field sdk.Field
	n     func(p *sdk.Profile) int
	add   func(p *sdk.Profile) int // appends an empty item and returns its index
	keep  func(p *sdk.Profile, keep func(i int) bool)
	// one returns a member holding only item i, to evaluate a value filter
	// with the SDK's own semantics ([sdk.Cond.Match]).
	one func(p *sdk.Profile, i int) *sdk.Member
}

func listOf[T comparable](f sdk.Field, get func(p *sdk.Profile) *[]T) *itemList {
	return &itemList{
		field: f,
		n:     func(p *sdk.Profile) int { return len(*get(p)) },
		add: func(p *sdk.Profile) int {
			var zero T
			*get(p) = append(*get(p), zero)
			return len(*get(p)) - 1
		},
		keep: func(p *sdk.Profile, keep func(i int) bool) {
			s := *get(p)
			out := s[:0:0]
			for i, it := range s {
				if keep(i) {
					out = append(out, it)
				}
			}
			*get(p) = out
		},
		one: func(p *sdk.Profile, i int) *sdk.Member {
			m := &sdk.Member{}
			*get(&m.Profile) = []T{(*get(p))[i]}
			return m
		},
	}
}

// Constructors keep the table below readable.

func str(name string, f sdk.Field, text func(p *sdk.Profile) *string, desc string) *attribute {
	return &attribute{name: name, typ: tString, field: f, description: desc,
		text: func(p *sdk.Profile, _ int) *string { return text(p) }}
}

func itemStr(name string, f sdk.Field, text func(p *sdk.Profile, i int) *string, desc string) *attribute {
	return &attribute{name: name, typ: tString, field: f, text: text, description: desc}
}

func itemFlag(f sdk.Field, flag func(p *sdk.Profile, i int) *bool, desc string) *attribute {
	return &attribute{name: "primary", typ: tBoolean, field: f, flag: flag, description: desc}
}

func complexAttr(name string, desc string, subs ...*attribute) *attribute {
	return &attribute{name: name, typ: tComplex, subs: subs, description: desc}
}

func multiAttr(name string, l *itemList, desc string, subs ...*attribute) *attribute {
	a := &attribute{name: name, typ: tComplex, multi: true, subs: subs, list: l, field: l.field, kind: inList, description: desc}
	for _, s := range subs {
		if s.name == "value" {
			s.ident = true
			a.def = s
		}
	}
	return a
}

func canon(a *attribute, values ...string) *attribute { a.canonical = values; return a }

const (
	descPrimary = "Whether this is the preferred value; at most one item is primary."
)

// coreUser is the core User schema (RFC 7643 §4.1) as Roster keeps it,
// with the common attributes id, externalId and meta (§3.1).
var coreUser = []*attribute{
	{name: "id", typ: tString, kind: isID, field: sdk.FieldID, common: true, caseExact: true, mutability: readOnly, returned: retAlways,
		unique: true, description: "The member's id in Roster."},
	asCommon(str("externalId", sdk.FieldExternalID, func(p *sdk.Profile) *string { return &p.ExternalID },
		"The member's id in the provisioning client; unique in the tenant when set.")),
	metaAttr("User"),
	withUnique(withRequired(str("userName", sdk.FieldUserName, func(p *sdk.Profile) *string { return &p.UserName },
		"Unique identifier for the member in the tenant, compared case-insensitively; may differ from the email (Entra ID sends the UPN)."))),
	complexAttr("name", "The components of the member's name.",
		str("formatted", sdk.FieldFormattedName, func(p *sdk.Profile) *string { return &p.FormattedName }, "The full name, formatted for display."),
		str("familyName", sdk.FieldFamilyName, func(p *sdk.Profile) *string { return &p.FamilyName }, "The family name."),
		str("givenName", sdk.FieldGivenName, func(p *sdk.Profile) *string { return &p.GivenName }, "The given name."),
		str("middleName", sdk.FieldMiddleName, func(p *sdk.Profile) *string { return &p.MiddleName }, "The middle name(s)."),
		str("honorificPrefix", sdk.FieldHonorificPrefix, func(p *sdk.Profile) *string { return &p.HonorificPrefix }, "Honorific prefix(es), such as \"Ms.\"."),
		str("honorificSuffix", sdk.FieldHonorificSuffix, func(p *sdk.Profile) *string { return &p.HonorificSuffix }, "Honorific suffix(es), such as \"III\"."),
	),
	str("displayName", sdk.FieldDisplayName, func(p *sdk.Profile) *string { return &p.DisplayName }, "The name to display."),
	str("nickName", sdk.FieldNickName, func(p *sdk.Profile) *string { return &p.NickName }, "The casual name."),
	withRef(str("profileUrl", sdk.FieldProfileURL, func(p *sdk.Profile) *string { return &p.ProfileURL }, "A URI of the member's online profile."), "external"),
	str("title", sdk.FieldTitle, func(p *sdk.Profile) *string { return &p.Title }, "The member's title, such as \"Vice President\"."),
	str("userType", sdk.FieldUserType, func(p *sdk.Profile) *string { return &p.UserType }, "The relationship to the organisation, such as \"Employee\"."),
	str("preferredLanguage", sdk.FieldPreferredLanguage, func(p *sdk.Profile) *string { return &p.PreferredLanguage }, "Preferred written or spoken language (RFC 7231 Accept-Language form)."),
	str("locale", sdk.FieldLocale, func(p *sdk.Profile) *string { return &p.Locale }, "Default location for localisation, such as \"en-US\"."),
	str("timezone", sdk.FieldTimezone, func(p *sdk.Profile) *string { return &p.Timezone }, "Time zone in the IANA database, such as \"Europe/Paris\"."),
	{name: "active", typ: tBoolean, kind: isActive, field: sdk.FieldActive,
		description: "Whether the member is active; false deactivates the member and ends their sessions."},
	{name: "password", typ: tString, kind: isPassword, mutability: writeOnly, returned: retNever, caseExact: true,
		description: "The member's password: set only, never returned. Repeating the current password changes nothing."},
	multiAttr("emails", listOf(sdk.FieldEmails, func(p *sdk.Profile) *[]sdk.Email { return &p.Emails }),
		"Email addresses; the member's address is the primary one, else the first of type \"work\", else userName.",
		itemStr("value", sdk.FieldEmailValue, func(p *sdk.Profile, i int) *string { return &p.Emails[i].Value }, "The email address."),
		itemStr("display", sdk.FieldEmailDisplay, func(p *sdk.Profile, i int) *string { return &p.Emails[i].Display }, "A label for display."),
		canon(itemStr("type", sdk.FieldEmailType, func(p *sdk.Profile, i int) *string { return &p.Emails[i].Type }, "A label such as \"work\"."), "work", "home", "other"),
		itemFlag(sdk.FieldEmailPrimary, func(p *sdk.Profile, i int) *bool { return &p.Emails[i].Primary }, descPrimary),
	),
	multiAttr("phoneNumbers", listOf(sdk.FieldPhoneNumbers, func(p *sdk.Profile) *[]sdk.PhoneNumber { return &p.PhoneNumbers }),
		"Phone numbers.",
		itemStr("value", sdk.FieldPhoneValue, func(p *sdk.Profile, i int) *string { return &p.PhoneNumbers[i].Value }, "The phone number."),
		itemStr("display", sdk.FieldPhoneDisplay, func(p *sdk.Profile, i int) *string { return &p.PhoneNumbers[i].Display }, "A label for display."),
		canon(itemStr("type", sdk.FieldPhoneType, func(p *sdk.Profile, i int) *string { return &p.PhoneNumbers[i].Type }, "A label such as \"mobile\"."),
			"work", "home", "mobile", "fax", "pager", "other"),
		itemFlag(sdk.FieldPhonePrimary, func(p *sdk.Profile, i int) *bool { return &p.PhoneNumbers[i].Primary }, descPrimary),
	),
	multiAttr("addresses", listOf(sdk.FieldAddresses, func(p *sdk.Profile) *[]sdk.Address { return &p.Addresses }),
		"Physical mailing addresses.",
		itemStr("formatted", sdk.FieldAddressFormatted, func(p *sdk.Profile, i int) *string { return &p.Addresses[i].Formatted }, "The full address, formatted for display."),
		itemStr("streetAddress", sdk.FieldAddressStreet, func(p *sdk.Profile, i int) *string { return &p.Addresses[i].StreetAddress }, "Street, house number and the like."),
		itemStr("locality", sdk.FieldAddressLocality, func(p *sdk.Profile, i int) *string { return &p.Addresses[i].Locality }, "City or locality."),
		itemStr("region", sdk.FieldAddressRegion, func(p *sdk.Profile, i int) *string { return &p.Addresses[i].Region }, "State or region."),
		itemStr("postalCode", sdk.FieldAddressPostalCode, func(p *sdk.Profile, i int) *string { return &p.Addresses[i].PostalCode }, "Zip or postal code."),
		itemStr("country", sdk.FieldAddressCountry, func(p *sdk.Profile, i int) *string { return &p.Addresses[i].Country }, "Country, as an ISO 3166-1 alpha-2 code."),
		canon(itemStr("type", sdk.FieldAddressType, func(p *sdk.Profile, i int) *string { return &p.Addresses[i].Type }, "A label such as \"work\"."), "work", "home", "other"),
		itemFlag(sdk.FieldAddressPrimary, func(p *sdk.Profile, i int) *bool { return &p.Addresses[i].Primary }, descPrimary),
	),
	{name: "groups", typ: tComplex, multi: true, kind: isGroups, mutability: readOnly,
		description: "The groups the member is in; change them through the Groups endpoint.", subs: []*attribute{
			{name: "value", typ: tString, caseExact: true, mutability: readOnly, description: "The group's id."},
			{name: "$ref", typ: tReference, refTypes: []string{"Group"}, caseExact: true, mutability: readOnly, description: "The group's URI."},
			canon(&attribute{name: "type", typ: tString, mutability: readOnly, description: "\"direct\"."}, "direct"),
		}},
	{name: "roles", typ: tComplex, multi: true, kind: isRoles,
		description: "The member's role in the tenant. Roles come from the tenant's group-to-role mappings (else its default role): " +
			"a request may only repeat the current role, as a GET returns it.", subs: []*attribute{
			{name: "value", typ: tString, caseExact: true, field: sdk.FieldRole, description: "The role's name."},
			{name: "primary", typ: tBoolean, description: "Always true: a member has one role."},
		}},
}

// enterpriseUser is the enterprise User extension (RFC 7643 §4.3).
var enterpriseUser = []*attribute{
	str("employeeNumber", sdk.FieldEmployeeNumber, func(p *sdk.Profile) *string { return &p.EmployeeNumber }, "The member's number in the organisation."),
	str("costCenter", sdk.FieldCostCenter, func(p *sdk.Profile) *string { return &p.CostCenter }, "The cost center."),
	str("organization", sdk.FieldOrganization, func(p *sdk.Profile) *string { return &p.Organization }, "The organisation."),
	str("division", sdk.FieldDivision, func(p *sdk.Profile) *string { return &p.Division }, "The division."),
	str("department", sdk.FieldDepartment, func(p *sdk.Profile) *string { return &p.Department }, "The department."),
	func() *attribute {
		value := str("value", sdk.FieldManagerID, func(p *sdk.Profile) *string { return &p.ManagerID }, "The manager's id in this tenant.")
		value.caseExact = true
		m := complexAttr("manager", "The member's manager; a bare id is read as its value (Entra ID sends one).", value,
			&attribute{name: "$ref", typ: tReference, refTypes: []string{"User"}, kind: isDerived, caseExact: true, description: "The manager's URI, derived from value."},
			&attribute{name: "displayName", typ: tString, kind: isIgnored, hidden: true, mutability: readOnly},
		)
		m.def = value
		m.field = sdk.FieldManagerID
		return m
	}(),
}

// groupTable is the core Group schema (RFC 7643 §4.2) as Roster keeps it.
// Groups are written through groups.go; the table serves filters and
// /Schemas.
var groupTable = []*attribute{
	{name: "id", typ: tString, kind: isID, field: sdk.FieldID, common: true, caseExact: true, mutability: readOnly, returned: retAlways,
		unique: true, description: "The group's id in Roster."},
	{name: "externalId", typ: tString, kind: inProfile, field: sdk.FieldExternalID, common: true, caseExact: true,
		description: "The group's id in the provisioning client."},
	metaAttr("Group"),
	{name: "displayName", typ: tString, kind: inProfile, field: sdk.FieldDisplayName, required: true, unique: true,
		description: "The group's name, unique in the tenant case-insensitively."},
	{name: "members", typ: tComplex, multi: true, kind: isMembers,
		description: "The group's members (users; nested groups are not supported).", subs: []*attribute{
			{name: "value", typ: tString, caseExact: true, mutability: immutable, description: "The member's id."},
			{name: "$ref", typ: tReference, refTypes: []string{"User"}, caseExact: true, mutability: immutable, description: "The member's URI."},
			canon(&attribute{name: "type", typ: tString, mutability: immutable, description: "\"User\"."}, "User"),
		}},
}

// metaAttr is the common attribute meta (RFC 7643 §3.1) of a resource type.
func metaAttr(resourceType string) *attribute {
	return &attribute{name: "meta", typ: tComplex, kind: isMeta, common: true, mutability: readOnly, description: "Resource metadata.", subs: []*attribute{
		{name: "resourceType", typ: tString, caseExact: true, mutability: readOnly, description: "\"" + resourceType + "\"."},
		{name: "created", typ: tDateTime, field: sdk.FieldCreated, mutability: readOnly, description: "When the resource was created."},
		{name: "lastModified", typ: tDateTime, field: sdk.FieldUpdated, mutability: readOnly, description: "When the resource last changed."},
		{name: "location", typ: tReference, refTypes: []string{"uri"}, caseExact: true, mutability: readOnly, description: "The resource's URI."},
		{name: "version", typ: tString, caseExact: true, mutability: readOnly, description: "The resource's version (a weak ETag)."},
	}}
}

func asCommon(a *attribute) *attribute { a.common = true; return a }

func withRequired(a *attribute) *attribute { a.required = true; return a }
func withUnique(a *attribute) *attribute   { a.unique = true; return a }
func withRef(a *attribute, types ...string) *attribute {
	a.typ, a.refTypes = tReference, types
	return a
}

// attrIndex finds an attribute of one schema by its lower-case name.
type attrIndex map[string]*attribute

var (
	coreIndex       attrIndex
	enterpriseIndex attrIndex
	groupIndex      attrIndex
)

// notStored lists attributes of the core User schema Roster does not keep:
// a request that sets one is refused rather than answered 2xx and dropped.
var notStored = []string{"ims", "photos", "entitlements", "x509Certificates"}

func init() {
	coreIndex = finish(userURN, coreUser)
	enterpriseIndex = finish(enterpriseURN, enterpriseUser)
	groupIndex = finish(groupURN, groupTable)
}

// finish completes rows of a schema: lower-case names, schema, parents,
// and caseExact from the SDK's comparison of each field.
func finish(urn string, attrs []*attribute) attrIndex {
	idx := attrIndex{}
	for _, a := range attrs {
		completeAttr(urn, a, nil)
		idx.add(a)
	}
	return idx
}

// add indexes a by its lower-case name and by its name as the RFC spells
// it, so that the usual spelling is found without lower-casing.
func (idx attrIndex) add(a *attribute) {
	idx[a.lname] = a
	idx[a.name] = a
}

// get finds the attribute named name, case-insensitively.
func (idx attrIndex) get(name string) *attribute {
	if a, ok := idx[name]; ok {
		return a
	}
	return idx[strings.ToLower(name)]
}

func completeAttr(urn string, a, parent *attribute) {
	a.lname = strings.ToLower(a.name)
	a.schema = urn
	a.parent = parent
	if a.kind == 0 && (a.text != nil || a.flag != nil) {
		a.kind = inProfile
	}
	if parent != nil && parent.mutability == readOnly {
		a.mutability = readOnly
	}
	if a.field != "" && a.kind == inProfile && (a.typ == tString || a.typ == tReference) {
		a.caseExact = !a.field.CaseInsensitive()
	}
	for _, s := range a.subs {
		completeAttr(urn, s, a)
	}
}

// customURN is the schema URN of a tenant's custom attributes.
func customURN(slug string) string {
	return "urn:roster:params:scim:schemas:extension:" + slug + ":2.0:User"
}

// extension is a tenant's custom User extension: the attributes it
// declares ([sdk.Settings.CustomAttributes]), as table rows.
type extension struct {
	urn   string
	lurn  string // lower-cased, for projections
	attrs []*attribute
	index attrIndex
}

var customTypes = map[sdk.CustomAttributeType]attrType{
	sdk.CustomString: tString, sdk.CustomBoolean: tBoolean, sdk.CustomInteger: tInteger,
	sdk.CustomDecimal: tDecimal, sdk.CustomDateTime: tDateTime,
}

// newExtension builds the rows of a tenant's custom attributes, or nil
// when it declares none.
func newExtension(slug string, decls []sdk.CustomAttribute) *extension {
	if len(decls) == 0 {
		return nil
	}
	x := &extension{urn: customURN(slug), index: attrIndex{}}
	x.lurn = strings.ToLower(x.urn)
	for _, d := range decls {
		a := &attribute{name: d.Name, typ: customTypes[d.Type], kind: inCustom, custom: d.Type, field: sdk.CustomField(d.Name),
			description: d.Description}
		completeAttr(x.urn, a, nil)
		a.caseExact = a.typ == tString || a.typ == tReference
		x.attrs = append(x.attrs, a)
		x.index.add(a)
	}
	return x
}
