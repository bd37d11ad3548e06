package hrsync

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/rosterhq/roster/sdk"
)

// The alias table: which headers fill which profile field, and how a
// file's header row maps onto it.

// Columns maps every accepted header, normalised (lower case, letters and
// digits only), to its canonical column.
var Columns = map[string]string{}

// column is one column of the alias table: its canonical name, the other
// headers it goes by, and how it fills a record.
type column struct {
	name    string
	aliases []string
	// omit is the record field a file without the column leaves alone
	// ("" for columns that fill a typed item, which the record carries
	// only when the file has the column).
	omit sdk.Field
	// path is how the SDK names the column's field in a failure.
	path string
	set  func(r *sdk.SyncRecord, v string) error
}

// names reports whether a failure's field is this column's.
func (c *column) names(field string) bool {
	return field == c.name || field == c.path || strings.HasPrefix(field, c.path+".") || strings.HasPrefix(field, c.path+"[")
}

// text is a column filling one text field of the profile.
func text(name string, f sdk.Field, get func(*sdk.Profile) *string, aliases ...string) column {
	return column{name: name, aliases: aliases, omit: f, path: string(f), set: func(r *sdk.SyncRecord, v string) error {
		*get(&r.Profile) = v
		return nil
	}}
}

// phone is a column filling the phone number of one type; an empty cell
// carries the type without a value, which removes the member's.
func phone(name, typ string, aliases ...string) column {
	return column{name: name, aliases: aliases, path: sdk.SyncItemField(sdk.FieldPhoneNumbers, typ), set: func(r *sdk.SyncRecord, v string) error {
		item := sdk.PhoneNumber{Value: v, Type: typ}
		if i := slices.IndexFunc(r.PhoneNumbers, func(p sdk.PhoneNumber) bool { return p.Type == typ }); i >= 0 {
			r.PhoneNumbers[i] = item
		} else {
			r.PhoneNumbers = append(r.PhoneNumbers, item)
		}
		return nil
	}}
}

// address is a column filling one part of the work address.
func address(name string, part sdk.Field, get func(*sdk.Address) *string, aliases ...string) column {
	sub := strings.TrimPrefix(string(part), string(sdk.FieldAddresses)+".")
	return column{name: name, aliases: aliases, omit: part, path: sdk.SyncItemField(sdk.FieldAddresses, "work") + "." + sub,
		set: func(r *sdk.SyncRecord, v string) error {
			i := slices.IndexFunc(r.Addresses, func(a sdk.Address) bool { return a.Type == "work" })
			if i < 0 {
				r.Addresses = append(r.Addresses, sdk.Address{Type: "work"})
				i = len(r.Addresses) - 1
			}
			*get(&r.Addresses[i]) = v
			return nil
		}}
}

// columns is the alias table: every column a file may have, in the order
// a record's fields are filled and the documentation lists them.
var columns = []column{
	text("external_id", sdk.FieldExternalID, func(p *sdk.Profile) *string { return &p.ExternalID },
		"externalid", "employeeid", "workerid", "personid", "id", "staffid"),
	{name: "email", aliases: []string{"workemail", "emailaddress", "workemailaddress", "businessemail", "mail", "primaryemail"},
		path: sdk.SyncItemField(sdk.FieldEmails, "work"), set: func(r *sdk.SyncRecord, v string) error { r.Email = v; return nil }},
	text("user_name", sdk.FieldUserName, func(p *sdk.Profile) *string { return &p.UserName },
		"username", "login", "loginname", "upn", "userprincipalname", "signinname"),
	text("given_name", sdk.FieldGivenName, func(p *sdk.Profile) *string { return &p.GivenName },
		"givenname", "firstname", "first", "forename"),
	text("middle_name", sdk.FieldMiddleName, func(p *sdk.Profile) *string { return &p.MiddleName },
		"middlename", "middle"),
	text("family_name", sdk.FieldFamilyName, func(p *sdk.Profile) *string { return &p.FamilyName },
		"familyname", "lastname", "surname", "last"),
	text("honorific_prefix", sdk.FieldHonorificPrefix, func(p *sdk.Profile) *string { return &p.HonorificPrefix },
		"honorificprefix", "prefix", "salutation"),
	text("honorific_suffix", sdk.FieldHonorificSuffix, func(p *sdk.Profile) *string { return &p.HonorificSuffix },
		"honorificsuffix", "suffix"),
	text("formatted_name", sdk.FieldFormattedName, func(p *sdk.Profile) *string { return &p.FormattedName },
		"formattedname"),
	text("display_name", sdk.FieldDisplayName, func(p *sdk.Profile) *string { return &p.DisplayName },
		"displayname", "fullname", "name"),
	text("nickname", sdk.FieldNickName, func(p *sdk.Profile) *string { return &p.NickName },
		"nickname", "nick", "preferredname", "preferredfirstname", "knownas"),
	text("title", sdk.FieldTitle, func(p *sdk.Profile) *string { return &p.Title },
		"jobtitle", "position", "role title", "businesstitle"),
	text("user_type", sdk.FieldUserType, func(p *sdk.Profile) *string { return &p.UserType },
		"usertype", "employeetype", "employmenttype", "workertype"),
	text("department", sdk.FieldDepartment, func(p *sdk.Profile) *string { return &p.Department },
		"dept", "team", "departmentname"),
	text("division", sdk.FieldDivision, func(p *sdk.Profile) *string { return &p.Division },
		"businessunit"),
	text("organization", sdk.FieldOrganization, func(p *sdk.Profile) *string { return &p.Organization },
		"organisation", "org", "company", "companyname"),
	text("cost_center", sdk.FieldCostCenter, func(p *sdk.Profile) *string { return &p.CostCenter },
		"costcenter", "costcentre"),
	text("employee_number", sdk.FieldEmployeeNumber, func(p *sdk.Profile) *string { return &p.EmployeeNumber },
		"employeenumber", "employeeno", "employeenum", "empno", "personnelnumber", "staffnumber"),
	text("preferred_language", sdk.FieldPreferredLanguage, func(p *sdk.Profile) *string { return &p.PreferredLanguage },
		"preferredlanguage", "language", "lang"),
	text("locale", sdk.FieldLocale, func(p *sdk.Profile) *string { return &p.Locale }),
	text("timezone", sdk.FieldTimezone, func(p *sdk.Profile) *string { return &p.Timezone },
		"time zone", "tz"),
	text("profile_url", sdk.FieldProfileURL, func(p *sdk.Profile) *string { return &p.ProfileURL },
		"profileurl"),
	phone("phone_work", "work",
		"workphone", "phone", "phonenumber", "businessphone", "officephone", "telephone", "worktelephone", "workphonenumber"),
	phone("phone_mobile", "mobile",
		"mobilephone", "mobile", "cellphone", "cell", "mobilenumber", "mobilephonenumber", "cellphonenumber"),
	address("address_street", sdk.FieldAddressStreet, func(a *sdk.Address) *string { return &a.StreetAddress },
		"streetaddress", "street", "address", "addressline1", "address1"),
	address("address_locality", sdk.FieldAddressLocality, func(a *sdk.Address) *string { return &a.Locality },
		"locality", "city", "town"),
	address("address_region", sdk.FieldAddressRegion, func(a *sdk.Address) *string { return &a.Region },
		"region", "state", "province", "stateprovince", "stateorprovince"),
	address("address_postal_code", sdk.FieldAddressPostalCode, func(a *sdk.Address) *string { return &a.PostalCode },
		"postalcode", "postcode", "zip", "zipcode", "postal"),
	address("address_country", sdk.FieldAddressCountry, func(a *sdk.Address) *string { return &a.Country },
		"country", "countrycode"),
	address("address_formatted", sdk.FieldAddressFormatted, func(a *sdk.Address) *string { return &a.Formatted },
		"formattedaddress", "fulladdress"),
	{name: "manager", aliases: []string{"manageremail", "managerid", "supervisor", "supervisoremail", "reportsto", "managerexternalid"},
		omit: sdk.FieldManagerID, path: "manager", set: func(r *sdk.SyncRecord, v string) error { r.Manager = v; return nil }},
	// A manager given by name, matched by the SDK when exactly one person
	// has it; used when manager is empty or names nobody.
	{name: "manager_name", aliases: []string{"managername", "managerfullname", "supervisorname", "reportstoname"},
		omit: sdk.FieldManagerID, path: "managerName", set: func(r *sdk.SyncRecord, v string) error { r.ManagerName = v; return nil }},
	// A preferred family name has no field of its own: with the preferred
	// given name (nickname) it makes the display name (see composer).
	{name: "preferred_family_name", aliases: []string{"preferredlastname", "preferredfamilyname", "preferredsurname"},
		path: "preferred_family_name", set: func(*sdk.SyncRecord, string) error { return nil }},
	{name: "role", aliases: []string{"rosterrole", "accessrole"},
		omit: sdk.FieldRole, path: "role", set: func(r *sdk.SyncRecord, v string) error { r.Role = strings.ToLower(v); return nil }},
	// A status cell is read through the file's vocabulary (see
	// layout.setStatus), not by set.
	{name: "status", aliases: []string{"employmentstatus", "employeestatus", "active"},
		omit: sdk.FieldStatus, path: "status", set: func(*sdk.SyncRecord, string) error { return nil }},
}

// byHeader maps every normalised header of the table to its column.
var byHeader map[string]*column

func init() {
	var err error
	if byHeader, err = indexColumns(columns); err != nil {
		panic(err)
	}
	for k, c := range byHeader {
		Columns[k] = c.name
	}
}

// indexColumns maps the normalised headers of a table to their columns,
// refusing a header that two columns claim.
func indexColumns(table []column) (map[string]*column, error) {
	idx := map[string]*column{}
	for i := range table {
		c := &table[i]
		for _, h := range append([]string{c.name}, c.aliases...) {
			k := normalise(h)
			if o, dup := idx[k]; dup && o != c {
				return nil, fmt.Errorf("hrsync: header %q is claimed by columns %s and %s", h, o.name, c.name)
			}
			idx[k] = c
		}
	}
	return idx, nil
}

const customPrefix = "custom."

// custom is the column of a custom attribute. The SDK checks its values;
// a boolean also takes the yes and no of HR exports.
func custom(a sdk.CustomAttribute) column {
	f := string(sdk.CustomField(a.Name))
	return column{name: f, path: f, set: func(r *sdk.SyncRecord, v string) error {
		if r.Custom == nil {
			r.Custom = map[string]string{}
		}
		if b, ok := yesNo[strings.ToLower(v)]; ok && a.Type == sdk.CustomBoolean {
			v = b
		}
		r.Custom[a.Name] = v
		return nil
	}}
}

var yesNo = map[string]string{"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false", "off": "false"}

// omitted returns the Omit set of records from a file with the given
// columns: every field a column could fill, and every profile text field
// no column fills, except those of the present columns.
func omitted(present map[string]bool) map[sdk.Field]bool {
	omit := map[sdk.Field]bool{}
	for _, f := range sdk.ProfileFields() {
		switch f {
		case sdk.FieldEmails, sdk.FieldPhoneNumbers, sdk.FieldAddresses, sdk.FieldCustom:
			// Carried item by item and key by key.
		default:
			omit[f] = true
		}
	}
	for i := range columns {
		if c := &columns[i]; c.omit != "" {
			omit[c.omit] = true
		}
	}
	for i := range columns {
		if c := &columns[i]; c.omit != "" && present[c.name] {
			omit[c.omit] = false // manager and manager_name both carry the manager
		}
	}
	for f, o := range omit {
		if !o {
			delete(omit, f)
		}
	}
	return omit
}

func normalise(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
