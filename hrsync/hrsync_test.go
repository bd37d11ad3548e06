package hrsync

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestReadCSVAliasesAndOrder(t *testing.T) {
	in := "Employee ID,First Name,Last Name,Work Email,Job Title,Manager Email,Employment Status,Badge Colour\n" +
		"E1,Ann,Ash,ann@x.test,CEO,,Active,red\n" +
		"\n" +
		"E2, Bob ,Birch,BOB@x.test,Dev,ann@x.test,Terminated,blue\n"
	f, err := Read(strings.NewReader(in), CSV, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 2 {
		t.Fatalf("%d records, want 2", len(f.Records))
	}
	b := f.Records[1]
	if b.Line != 4 || b.ExternalID != "E2" || b.GivenName != "Bob" || b.Email != "BOB@x.test" || b.Title != "Dev" || b.Manager != "ann@x.test" || b.Status != "inactive" {
		t.Fatalf("record = %+v", b)
	}
	if f.Records[0].Status != "active" {
		t.Fatalf("status %q", f.Records[0].Status)
	}
	// Absent columns are omitted, present ones are not.
	for _, f := range []sdk.Field{sdk.FieldDepartment, sdk.FieldRole, sdk.FieldDisplayName, sdk.FieldEmployeeNumber, sdk.FieldAddressLocality} {
		if !b.Omit[f] {
			t.Errorf("absent column %s not omitted: %v", f, b.Omit)
		}
	}
	for _, f := range []sdk.Field{sdk.FieldGivenName, sdk.FieldManagerID, sdk.FieldStatus, sdk.FieldExternalID, sdk.FieldTitle, sdk.FieldEmails, sdk.FieldPhoneNumbers} {
		if b.Omit[f] {
			t.Errorf("present column %s omitted: %v", f, b.Omit)
		}
	}
	if len(f.Unknown) != 1 || f.Unknown[0] != "Badge Colour" {
		t.Fatalf("unknown = %v", f.Unknown)
	}
}

func TestReadCSVDocumentedColumnsWithBOM(t *testing.T) {
	in := "\xEF\xBB\xBFexternal_id,email,given_name,family_name,display_name,department,title,manager,role,status\r\n" +
		"X,a@x.test,A,B,Ab,Eng,Dev,M1,Admin,inactive\r\n"
	f, err := Read(strings.NewReader(in), CSV, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := f.Records[0]
	r.Omit = nil
	want := sdk.SyncRecord{Line: 2, Email: "a@x.test", Manager: "M1", Role: "admin", Status: "inactive",
		Profile: sdk.Profile{ExternalID: "X", GivenName: "A", FamilyName: "B", DisplayName: "Ab", Department: "Eng", Title: "Dev"}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("record = %+v\nwant     %+v", r, want)
	}
}

func TestReadErrorsNameLineAndColumn(t *testing.T) {
	cases := []struct {
		name, in   string
		format     Format
		line, col  int
		msgContain string
	}{
		{"no email column", "id,name\n1,a\n", CSV, 1, 0, "no email column"},
		{"empty file", "", CSV, 1, 0, "empty"},
		{"bad utf8 value", "email,first name\na@x.test,\xff\xfe\n", CSV, 2, 10, "UTF-8"},
		{"utf16", "\xFF\xFEe\x00", CSV, 1, 1, "UTF-16"},
		{"duplicate email", "email\na@x.test\nb@x.test\nA@X.test\n", CSV, 4, 1, "already on line 2"},
		{"duplicate external id", "employee id,email\n7,a@x.test\n7,b@x.test\n", CSV, 3, 1, "already on line 2"},
		{"duplicate email, later column", "employee id,email\n7,a@x.test\n8,a@x.test\n", CSV, 3, 3, "already on line 2"},
		{"too many fields", "email,first name\na@x.test,A,extra\n", CSV, 2, 12, "3 fields"},
		{"bare quote", "email\n\"a@x.test\n", CSV, 2, 0, ""},
		{"duplicate column", "email,Work Email\na,b\n", CSV, 1, 2, "same as column 1"},
		{"jsonl syntax", "{\"email\":\"a@x.test\"}\n{\"email\": }\n", JSONL, 2, 11, "not a JSON object"},
		{"jsonl type", "{\"email\":\"a@x.test\",\"title\":7}\n", JSONL, 1, 21, "must be a string"},
		{"jsonl no email", "{\"title\":\"x\"}\n", JSONL, 1, 0, "no email"},
		{"jsonl bad utf8", "{\"email\":\"a\xff@x.test\"}\n", JSONL, 1, 12, "UTF-8"},
		{"jsonl duplicate", "{\"email\":\"a@x.test\"}\n{\"email\":\"A@x.test\"}\n", JSONL, 2, 2, "already on line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(c.in), c.format, ReadOptions{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *hrsync.Error", err)
			}
			if e.Line != c.line || (c.col != 0 && e.Column != c.col) || !strings.Contains(e.Error(), c.msgContain) {
				t.Fatalf("err = %q (line %d col %d), want line %d col %d containing %q", e, e.Line, e.Column, c.line, c.col, c.msgContain)
			}
			if !strings.HasPrefix(e.Error(), "line ") {
				t.Fatalf("message %q does not start with the line", e)
			}
		})
	}
}

func TestReadJSONL(t *testing.T) {
	in := `{"external_id":"E1","email":"ann@x.test","given_name":"Ann","status":true,"shoe_size":"9"}` + "\n\n" +
		`{"email":"bob@x.test","manager":"E1","status":"Inactive","title":null}` + "\n"
	f, err := Read(strings.NewReader(in), JSONL, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Records) != 2 || f.Records[0].Status != "active" || f.Records[1].Status != "inactive" || f.Records[1].Line != 3 {
		t.Fatalf("records = %+v", f.Records)
	}
	if f.Records[0].Omit[sdk.FieldGivenName] || !f.Records[0].Omit[sdk.FieldTitle] {
		t.Fatalf("omit of record 1 = %v", f.Records[0].Omit)
	}
	if f.Records[1].Omit[sdk.FieldTitle] {
		t.Fatal("an explicit null must clear the field, not omit it")
	}
	if len(f.Unknown) != 1 || f.Unknown[0] != "shoe_size" {
		t.Fatalf("unknown = %v", f.Unknown)
	}
	if FormatOf("export.JSONL") != JSONL || FormatOf("x.csv") != CSV {
		t.Fatal("FormatOf")
	}
}

// fuzzOptions declares custom attributes, so that fuzzing reaches their
// columns too.
var fuzzOptions = ReadOptions{CustomAttributes: []sdk.CustomAttribute{
	{Name: "level", Type: sdk.CustomInteger}, {Name: "badge", Type: sdk.CustomString},
}}

// FuzzRead checks that no input crashes the parser and that every error is
// located. Seeds are below and in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	f.Add([]byte("email,first name\na@x.test,A\n"), false)
	f.Add([]byte("Employee ID,Work Email,Status\n1,a@x.test,Terminated\n"), false)
	f.Add([]byte("{\"email\":\"a@x.test\",\"status\":false}\n"), true)
	f.Add([]byte("\xEF\xBB\xBFemail\n\"a\"\"b@x.test\"\n"), false)
	f.Add([]byte(allColumnsCSV), false)
	f.Add([]byte("\xEF\xBB\xBFWork Email;\"Full; Name\"\r\na@x.test;\"A, \"\"B\"\"\"\r\n"), false)
	f.Add([]byte("email\tdept\na@x.test\tEng\n"), false)
	f.Add([]byte("{\"email\":\"a@x.test\"}\n{\"email\":\"b@x.test\"}\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, jsonl bool) {
		format := CSV
		if jsonl {
			format = JSONL
		}
		file, err := Read(strings.NewReader(string(data)), format, fuzzOptions)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for _, r := range file.Records {
			if r.Line < 1 {
				t.Fatalf("record without a line: %+v", r)
			}
		}
	})
}

// allColumnsCSV has every new column of the profile under an HR alias, a
// custom attribute, and a column nobody knows.
const allColumnsCSV = "Employee ID,Work Email,User Name,First Name,Middle Name,Last Name,Preferred Name,Employee Number,Cost Center," +
	"Organization,Division,Work Phone,Mobile Phone,Street Address,City,State,Zip,Country,Formatted Address," +
	"Language,Locale,Time Zone,Level,Shoe Size\n" +
	"E1,ann@x.test,ann.a@corp.test,Ann,Marie,Ash,Annie,00042,CC-7,Acme Ltd,Retail,+1 555 0100,+1 555 0199," +
	"1 Main St,Springfield,IL,62701,US,\"1 Main St, Springfield\",fr-CA,fr_CA,America/Toronto, 10 ,44\n"

func TestReadCSVNewColumns(t *testing.T) {
	f, err := Read(strings.NewReader(allColumnsCSV), CSV, fuzzOptions)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Records[0]
	want := sdk.Profile{
		ExternalID: "E1", UserName: "ann.a@corp.test", GivenName: "Ann", MiddleName: "Marie", FamilyName: "Ash", NickName: "Annie",
		EmployeeNumber: "00042", CostCenter: "CC-7", Organization: "Acme Ltd", Division: "Retail",
		PreferredLanguage: "fr-CA", Locale: "fr_CA", Timezone: "America/Toronto",
		PhoneNumbers: []sdk.PhoneNumber{{Value: "+1 555 0100", Type: "work"}, {Value: "+1 555 0199", Type: "mobile"}},
		Addresses: []sdk.Address{{StreetAddress: "1 Main St", Locality: "Springfield", Region: "IL", PostalCode: "62701", Country: "US",
			Formatted: "1 Main St, Springfield", Type: "work"}},
		Custom: map[string]string{"level": "10"},
	}
	if !reflect.DeepEqual(r.Profile, want) || r.Email != "ann@x.test" {
		t.Fatalf("record = %+v\nwant profile %+v", r, want)
	}
	if !slices.Equal(f.Unknown, []string{"Shoe Size"}) {
		t.Fatalf("unknown = %v", f.Unknown)
	}
	// Everything present is carried; the profile fields without a column
	// here are left alone.
	for _, fl := range []sdk.Field{sdk.FieldUserName, sdk.FieldMiddleName, sdk.FieldNickName, sdk.FieldEmployeeNumber, sdk.FieldCostCenter,
		sdk.FieldOrganization, sdk.FieldDivision, sdk.FieldAddressStreet, sdk.FieldAddressLocality, sdk.FieldAddressRegion,
		sdk.FieldAddressPostalCode, sdk.FieldAddressCountry, sdk.FieldAddressFormatted, sdk.FieldPreferredLanguage, sdk.FieldLocale,
		sdk.FieldTimezone, sdk.FieldPhoneNumbers, sdk.FieldAddresses, sdk.FieldCustom, sdk.CustomField("level")} {
		if r.Omit[fl] {
			t.Errorf("%s omitted", fl)
		}
	}
	for _, fl := range []sdk.Field{sdk.FieldTitle, sdk.FieldDepartment, sdk.FieldDisplayName, sdk.FieldManagerID, sdk.FieldRole, sdk.FieldStatus, sdk.FieldProfileURL} {
		if !r.Omit[fl] {
			t.Errorf("%s not omitted", fl)
		}
	}
	// Failures are reported under the file's own headers.
	for field, header := range map[string]string{
		"employeeNumber":                       "Employee Number",
		"custom.level":                         "Level",
		`phoneNumbers[type eq "mobile"].value`: "Mobile Phone",
		`phoneNumbers[type eq "work"]`:         "Work Phone",
		`addresses[type eq "work"].locality`:   "City",
		`addresses[type eq "work"].postalCode`: "Zip",
		`emails[type eq "work"].value`:         "Work Email",
		"email":                                "Work Email",
		"userName":                             "User Name",
		"externalId":                           "Employee ID",
		"title":                                "",
		`addresses[type eq "home"].locality`:   "",
		`phoneNumbers[type eq "fax"].value`:    "",
		"custom.badge":                         "",
		"":                                     "",
	} {
		if got := f.Column(field); got != header {
			t.Errorf("Column(%q) = %q, want %q", field, got, header)
		}
	}
}

func TestReadEmptyCellsCarryTheirType(t *testing.T) {
	f, err := Read(strings.NewReader("email,mobile,city,level\na@x.test,,,\n"), CSV, fuzzOptions)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Records[0]
	// An empty phone cell carries the type without a value (which removes
	// the member's), the address its type, a custom column its key.
	if !reflect.DeepEqual(r.PhoneNumbers, []sdk.PhoneNumber{{Type: "mobile"}}) || !reflect.DeepEqual(r.Addresses, []sdk.Address{{Type: "work"}}) {
		t.Fatalf("items = %+v %+v", r.PhoneNumbers, r.Addresses)
	}
	if v, ok := r.Custom["level"]; !ok || v != "" {
		t.Fatalf("custom = %v", r.Custom)
	}
	if !r.Omit[sdk.FieldAddressStreet] || r.Omit[sdk.FieldAddressLocality] {
		t.Fatalf("omit = %v", r.Omit)
	}
}

func TestReadCustomAttributes(t *testing.T) {
	opts := ReadOptions{CustomAttributes: []sdk.CustomAttribute{
		{Name: "Team", Type: sdk.CustomString}, // shadows the department alias "team"
		{Name: "remote", Type: sdk.CustomBoolean},
		{Name: "start", Type: sdk.CustomDateTime},
	}}
	f, err := Read(strings.NewReader("email,TEAM,Remote,nope\na@x.test,Blue,yes,x\n"), CSV, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Records[0]
	if !reflect.DeepEqual(r.Custom, map[string]string{"Team": "Blue", "remote": "true"}) || r.Department != "" || !r.Omit[sdk.FieldDepartment] {
		t.Fatalf("record = %+v", r)
	}
	if !slices.Equal(f.Unknown, []string{"nope"}) {
		t.Fatalf("unknown = %v", f.Unknown)
	}
	// Without the declaration, "team" is the department again.
	f, err = Read(strings.NewReader("email,TEAM\na@x.test,Blue\n"), CSV, ReadOptions{})
	if err != nil || f.Records[0].Department != "Blue" || f.Records[0].Custom != nil {
		t.Fatalf("record = %+v, %v", f.Records[0], err)
	}
	// JSON Lines: numbers and booleans are text for the SDK to check.
	in := `{"email":"a@x.test","remote":true,"start":"2026-01-02T03:04:05Z","level":12.50,"team":null}` + "\n" +
		`{"email":"b@x.test","remote":{"x":1}}` + "\n"
	opts.CustomAttributes = append(opts.CustomAttributes, sdk.CustomAttribute{Name: "level", Type: sdk.CustomDecimal})
	_, err = Read(strings.NewReader(in), JSONL, opts)
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || !strings.Contains(e.Msg, "a string, a number or a boolean") {
		t.Fatalf("err = %v", err)
	}
	f, err = Read(strings.NewReader(strings.SplitAfter(in, "\n")[0]), JSONL, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"remote": "true", "start": "2026-01-02T03:04:05Z", "level": "12.50", "Team": ""}
	if !reflect.DeepEqual(f.Records[0].Custom, want) {
		t.Fatalf("custom = %v, want %v", f.Records[0].Custom, want)
	}
}

func TestReadJSONLNewKeys(t *testing.T) {
	in := `{"email":"a@x.test","employeeNumber":"7","phone_mobile":"+44 7700 900000","address_country":"GB","timezone":"Europe/London","middle_name":null}` + "\n" +
		`{"email":"b@x.test","employee_number":"8","phone_mobile":"+44 7700 900001","address_country":"GB","timezone":"Europe/London"}` + "\n" +
		`{"email":"c@x.test"}` + "\n"
	f, err := Read(strings.NewReader(in), JSONL, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := f.Records[0], f.Records[1], f.Records[2]
	if a.EmployeeNumber != "7" || a.PhoneNumbers[0] != (sdk.PhoneNumber{Value: "+44 7700 900000", Type: "mobile"}) ||
		a.Addresses[0] != (sdk.Address{Country: "GB", Type: "work"}) || a.Timezone != "Europe/London" {
		t.Fatalf("record = %+v", a)
	}
	if a.Omit[sdk.FieldMiddleName] || !b.Omit[sdk.FieldMiddleName] || a.Omit[sdk.FieldAddressCountry] || !a.Omit[sdk.FieldAddressLocality] {
		t.Fatalf("omit = %v / %v", a.Omit, b.Omit)
	}
	if !c.Omit[sdk.FieldEmployeeNumber] || !c.Omit[sdk.FieldTimezone] {
		t.Fatalf("omit of a line with the email alone = %v", c.Omit)
	}
	if f.Column("employeeNumber") != "employeeNumber" {
		t.Fatalf("column = %q", f.Column("employeeNumber"))
	}
}

// TestColumns is the alias table: what each header an HR export uses
// becomes.
func TestColumns(t *testing.T) {
	for header, want := range map[string]string{
		// The documented names, and today's JSON Lines keys.
		"external_id": "external_id", "email": "email", "given_name": "given_name", "family_name": "family_name",
		"display_name": "display_name", "department": "department", "title": "title", "manager": "manager",
		"role": "role", "status": "status",
		"user_name": "user_name", "middle_name": "middle_name", "nickname": "nickname", "employee_number": "employee_number",
		"cost_center": "cost_center", "organization": "organization", "division": "division", "phone_work": "phone_work",
		"phone_mobile": "phone_mobile", "address_street": "address_street", "address_locality": "address_locality",
		"address_region": "address_region", "address_postal_code": "address_postal_code", "address_country": "address_country",
		"address_formatted": "address_formatted", "preferred_language": "preferred_language", "locale": "locale", "timezone": "timezone",
		// SCIM spellings.
		"userName": "user_name", "externalId": "external_id", "employeeNumber": "employee_number", "costCenter": "cost_center",
		"nickName": "nickname", "preferredLanguage": "preferred_language", "middleName": "middle_name", "honorificPrefix": "honorific_prefix",
		// HR spellings.
		"Employee ID": "external_id", "Employee Number": "employee_number", "Employee #No": "employee_number", "Emp No": "employee_number",
		"Work Email": "email", "E-mail Address": "email", "Login": "user_name", "UPN": "user_name", "User Principal Name": "user_name",
		"First Name": "given_name", "Middle Name": "middle_name", "Last Name": "family_name", "Surname": "family_name",
		"Preferred Name": "nickname", "Known As": "nickname", "Full Name": "display_name",
		"Job Title": "title", "Business Title": "title", "Dept": "department", "Team": "department", "Division": "division",
		"Business Unit": "division", "Company": "organization", "Organisation": "organization", "Cost Center": "cost_center",
		"Cost Centre": "cost_center", "Work Phone": "phone_work", "Phone": "phone_work", "Telephone": "phone_work",
		"Mobile Phone": "phone_mobile", "Mobile": "phone_mobile", "Cell Phone": "phone_mobile",
		"Address": "address_street", "Street Address": "address_street", "Address Line 1": "address_street",
		"City": "address_locality", "Town": "address_locality", "State": "address_region", "Province": "address_region",
		"State/Province": "address_region", "Zip": "address_postal_code", "ZIP Code": "address_postal_code",
		"Postal Code": "address_postal_code", "Postcode": "address_postal_code", "Country": "address_country",
		"Country Code": "address_country", "Full Address": "address_formatted",
		"Language": "preferred_language", "Preferred Language": "preferred_language", "Locale": "locale",
		"Time Zone": "timezone", "TZ": "timezone", "Employee Type": "user_type", "Salutation": "honorific_prefix",
		"Suffix": "honorific_suffix", "Manager Email": "manager", "Reports To": "manager", "Employment Status": "status",
	} {
		got, ok := Columns[normalise(header)]
		if !ok || got != want {
			t.Errorf("%q → %q, want %q", header, got, want)
		}
	}
	for _, header := range []string{"Favourite Colour", "Shoe Size", "Address Line 2", "Hire Date"} {
		if got, ok := Columns[normalise(header)]; ok {
			t.Errorf("%q → %q, want unknown", header, got)
		}
	}
}

// TestColumnTable checks the table itself: no header claimed twice, every
// profile text field and address part has a column, and every column is
// found by the name of its field in a failure.
func TestColumnTable(t *testing.T) {
	bad := append(slices.Clone(columns), column{name: "other", aliases: []string{"Cost Centre"}})
	if _, err := indexColumns(bad); err == nil || !strings.Contains(err.Error(), "cost_center and other") {
		t.Errorf("a header claimed twice: %v", err)
	}

	filled := map[sdk.Field]bool{}
	file := &File{headers: map[string]string{}}
	for _, c := range columns {
		filled[c.omit] = true
		file.headers[c.name] = "H " + c.name
	}
	for _, f := range append(sdk.ProfileFields(), sdk.FieldAddressStreet, sdk.FieldAddressLocality, sdk.FieldAddressRegion,
		sdk.FieldAddressPostalCode, sdk.FieldAddressCountry, sdk.FieldAddressFormatted) {
		switch f {
		case sdk.FieldEmails, sdk.FieldPhoneNumbers, sdk.FieldAddresses, sdk.FieldCustom:
			continue
		}
		if !filled[f] {
			t.Errorf("no column fills %s", f)
		}
	}
	for _, c := range columns {
		if got := file.Column(c.path); got != "H "+c.name {
			t.Errorf("Column(%q) = %q, want the header of %s", c.path, got, c.name)
		}
	}
}
