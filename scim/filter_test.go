package scim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// condString is c in the SDK's filter syntax, with OpSome written as
// "some field (…)".
func condString(c *sdk.Cond) string {
	if c == nil {
		return "true"
	}
	switch c.Op {
	case sdk.OpSome:
		return "some " + string(c.Field) + " " + condString(c.Args[0])
	case sdk.OpAnd, sdk.OpOr:
		parts := make([]string, len(c.Args))
		for i, a := range c.Args {
			parts[i] = condString(a)
		}
		return "(" + strings.Join(parts, " "+string(c.Op)+" ") + ")"
	case sdk.OpNot:
		return "not (" + condString(c.Args[0]) + ")"
	}
	return c.String()
}

func TestUserFilterTranslation(t *testing.T) {
	cases := []struct {
		filter string
		want   string // condString, or "error:<scimType>"
	}{
		{``, `true`},
		{`userName eq "Bjensen@Example.com"`, `userName eq "Bjensen@Example.com"`},
		{`userName Eq "a" AND active Eq TRUE`, `(userName eq "a" and active eq true)`},
		{`USERNAME ne "a"`, `userName ne "a"`},
		{`userName co "jen"`, `userName co "jen"`},
		{`userName sw "J"`, `userName sw "J"`},
		{`userName ew ".com"`, `userName ew ".com"`},
		{`userName gt "m"`, `userName gt "m"`},
		{`userName pr`, `userName pr`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `userName sw "J"`},
		{`emails[type eq "work"].value eq "x@y"`, `some emails (emails.type eq "work" and emails.value eq "x@y")`}, // Entra ID
		{`emails[type eq "work" and value co "@example.com"]`, `some emails (emails.type eq "work" and emails.value co "@example.com")`},
		{`emails[primary eq true]`, `some emails emails.primary eq true`},
		{`emails[not (type eq "work")]`, `some emails not (emails.type eq "work")`},
		{`emails.value sw "j"`, `emails.value sw "j"`},
		{`emails eq "x@y"`, `emails.value eq "x@y"`},
		{`emails pr`, `emails pr`},
		{`emails.type eq "WORK"`, `emails.type eq "WORK"`},
		{`emails.display pr`, `emails.display pr`},
		{`phoneNumbers[type eq "mobile"].value eq "+1 555"`, `some phoneNumbers (phoneNumbers.type eq "mobile" and phoneNumbers.value eq "+1 555")`},
		{`addresses[type eq "work"].locality eq "Paris"`, `some addresses (addresses.type eq "work" and addresses.locality eq "Paris")`},
		{`addresses.country eq "FR"`, `addresses.country eq "FR"`},
		{`externalId eq "E-1"`, `externalId eq "E-1"`},
		{`id eq "01ABC" or externalId eq "e"`, `(id eq "01ABC" or externalId eq "e")`},
		{`displayName co "Smith"`, `displayName co "Smith"`},
		{`name.givenName eq "Barbara" and name.familyName sw "J"`, `(givenName eq "Barbara" and familyName sw "J")`},
		{`name.middleName pr`, `middleName pr`},
		{`name pr`, `(formattedName pr or familyName pr or givenName pr or middleName pr or honorificPrefix pr or honorificSuffix pr)`},
		{`nickName eq "x"`, `nickName eq "x"`},
		{`title pr`, `title pr`},
		{`preferredLanguage eq "fr"`, `preferredLanguage eq "fr"`},
		{`not (title pr) or name.familyName eq "O'Malley"`, `(not (title pr) or familyName eq "O'Malley")`},
		{`(title eq "a" or title eq "b") and active eq false`, `((title eq "a" or title eq "b") and active eq false)`},
		{`active eq "False"`, `active eq false`},
		{`active ne true`, `active ne true`},
		{`active pr`, `active pr`},
		{`meta.created ge "2026-01-02T03:04:05Z"`, `created ge "2026-01-02T03:04:05Z"`},
		{`meta.lastModified lt "2026-01-02T03:04:05.5+01:00"`, `updated lt "2026-01-02T02:04:05Z"`},
		{`meta.resourceType eq "User"`, `true`},
		{`meta.resourceType eq "Group"`, `not (id pr)`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`, `department eq "Sales"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "M1"`, `managerId eq "M1"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "M1"`, `managerId eq "M1"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42"`, `employeeNumber eq "42"`},
		{`employeeNumber eq "42"`, `employeeNumber eq "42"`},
		{`urn:roster:params:scim:schemas:extension:acme:2.0:User:badge eq "B-1"`, `custom.badge eq "B-1"`},
		{`urn:roster:params:scim:schemas:extension:acme:2.0:User:level eq 007`, `custom.level eq "7"`},
		{`urn:roster:params:scim:schemas:extension:acme:2.0:User:remote eq "True"`, `custom.remote eq "true"`},
		{`urn:roster:params:scim:schemas:extension:acme:2.0:User:startDate eq "2026-01-02T04:04:05+01:00"`, `custom.startDate eq "2026-01-02T03:04:05Z"`},
		{`roles.value eq "admin"`, `role eq "admin"`},
		{`roles eq "admin"`, `role eq "admin"`},
		{`userName eq "a\"b"`, `userName eq "a\"b"`},
		{`externalId eq 12`, `externalId eq "12"`},
		{`userName eq null`, `userName eq ""`},
		// Refused.
		{`foo eq "x"`, `error:invalidFilter`},
		{`ims pr`, `error:invalidFilter`},
		{`name.nickname eq "x"`, `error:invalidFilter`},
		{`name eq "x"`, `error:invalidFilter`},
		{`addresses eq "x"`, `error:invalidFilter`},
		{`emails[foo eq "x"]`, `error:invalidFilter`},
		{`name[givenName eq "x"]`, `error:invalidFilter`},
		{`urn:example:other:attr eq "x"`, `error:invalidFilter`},
		{`urn:roster:params:scim:schemas:extension:acme:2.0:User:nope eq "x"`, `error:invalidFilter`},
		{`urn:roster:params:scim:schemas:extension:acme:2.0:User:level gt 3`, `error:invalidFilter`},
		{`urn:roster:params:scim:schemas:extension:acme:2.0:User:level eq "x"`, `error:invalidFilter`},
		{`title gt "a"`, `error:invalidFilter`},
		{`active eq "yes"`, `error:invalidFilter`},
		{`active co "t"`, `error:invalidFilter`},
		{`meta.created gt "yesterday"`, `error:invalidFilter`},
		{`meta.created co "2026"`, `error:invalidFilter`},
		{`meta.location eq "x"`, `error:invalidFilter`},
		{`groups.value eq "x"`, `error:invalidFilter`},
		{`password eq "x"`, `error:invalidFilter`},
		{`title co ""`, `error:invalidFilter`},
		{`userName eq "a" and`, `error:invalidFilter`},
		{`userName eq`, `error:invalidFilter`},
		{`(userName eq "a"`, `error:invalidFilter`},
		{`userName xx "a"`, `error:invalidFilter`},
		{`"just a string"`, `error:invalidFilter`},
		{"userName eq \"\xff\"", `error:invalidFilter`},
		{`userName eq "` + strings.Repeat("a", 9000) + `"`, `error:invalidFilter`},
		{`userName eq "` + strings.Repeat("a", 2000) + `"`, `error:invalidFilter`},
		{strings.Repeat("not (", 40) + `userName pr` + strings.Repeat(")", 40), `error:invalidFilter`},
	}
	for _, c := range cases {
		got, err := userFilter(testSchema(), c.filter)
		s := condString(got)
		if err != nil {
			s = "error:" + string(errorFor(err).ScimType)
			if errorFor(err).Status != 400 {
				t.Errorf("%.80q: status %d", c.filter, errorFor(err).Status)
			}
		}
		if s != c.want {
			t.Errorf("userFilter(%.80q) = %s (%v); want %s", c.filter, s, err, c.want)
		}
	}
}

func TestGroupFilterTranslation(t *testing.T) {
	cases := []struct{ filter, want string }{
		{`displayName eq "Admins"`, `displayName eq "Admins"`},
		{`displayName sw "adm" and externalId pr`, `(displayName sw "adm" and externalId pr)`},
		{`urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x"`, `displayName eq "x"`},
		{`id eq "G1"`, `id eq "G1"`},
		{`meta.lastModified gt "2026-01-01T00:00:00Z"`, `updated gt "2026-01-01T00:00:00Z"`},
		{`members.display eq "x"`, `error:invalidFilter`},
		{`members[value eq "u1"]`, `error:invalidFilter`},
		{`userName eq "x"`, `error:invalidFilter`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, `error:invalidFilter`},
		{`displayName gt "a"`, `error:invalidFilter`},
	}
	for _, c := range cases {
		got, err := groupFilter(c.filter)
		s := got.String()
		if err != nil {
			s = "error:" + string(errorFor(err).ScimType)
		}
		if s != c.want {
			t.Errorf("groupFilter(%q) = %s (%v); want %s", c.filter, s, err, c.want)
		}
	}
}

// TestFilterMatchesLikeSCIM checks translated filters against members with
// the reference evaluator: the translation means what the RFC means.
func TestFilterMatchesLikeSCIM(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &sdk.Member{ID: "M1", Email: "Barbara.Jensen@Example.com", EmailKey: "barbara.jensen@example.com", UserNameKey: "bjensen",
		Profile: sdk.Profile{UserName: "BJensen", GivenName: "Barbara", FamilyName: "Jensen", Title: "Tour Guide",
			Emails:       []sdk.Email{{Value: "Barbara.Jensen@Example.com", Type: "work"}, {Value: "babs@jensen.org", Type: "home", Primary: true}},
			PhoneNumbers: []sdk.PhoneNumber{{Value: "555-555-8377", Type: "mobile"}}, EmployeeNumber: "701984",
			Custom: map[string]string{"level": "3"}},
		Status: sdk.StatusActive, Role: "standard", CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)}
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{`userName eq "bjensen"`, true},
		{`userName eq "barbara.jensen@example.com"`, false},
		{`emails[type eq "work"].value eq "BARBARA.JENSEN@example.com"`, true},
		{`emails[type eq "home"].value eq "barbara.jensen@example.com"`, false},
		{`emails[type eq "home" and primary eq true]`, true},
		{`emails.value eq "babs@jensen.org"`, true},
		{`emails[type eq "work" and primary eq true]`, false},
		{`phoneNumbers[type eq "mobile"].value eq "555-555-8377"`, true},
		{`phoneNumbers.type eq "work"`, false},
		{`addresses pr`, false},
		{`name.familyName eq "jensen" and title co "guide"`, true},
		{`not (active eq true)`, false},
		{`title pr and not (displayName pr)`, true},
		{`meta.created eq "2026-01-02T03:04:05Z" and meta.lastModified gt "2026-01-02T03:04:05Z"`, true},
		{`nickName pr or externalId pr`, false},
		{`nickName ne "x"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true},
		{`urn:roster:params:scim:schemas:extension:acme:2.0:User:level eq 3`, true},
	} {
		cond, err := userFilter(testSchema(), c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if got := cond.Match(m); got != c.want {
			t.Errorf("%s matched %v, want %v (cond %s)", c.filter, got, c.want, condString(cond))
		}
	}
}

func TestParseFilterExpr(t *testing.T) {
	cases := []struct{ in, want string }{
		{`userName eq "a"`, `userName eq "a"`},
		{`a pr or b pr and c pr`, `a pr or b pr and c pr`},
		{`(a pr or b pr) and c pr`, `(a pr or b pr) and c pr`},
		{`NOT (a pr) AND b Eq TRUE`, `not(a pr) and b eq true`},
		{`not(a pr)`, `not(a pr)`},
		{`a  eq   12`, `a eq 12`},
		{`a eq -1.5e3`, `a eq -1500`},
		{`a eq null`, `a eq`},
		{`a eq "say \"hi\" \\ \u00e9"`, `a eq "say \"hi\" \\ é"`},
		{`emails[type eq "work" and value co "@x"]`, `emails[type eq "work" and value co "@x"]`},
		{`emails[type eq "work"].value eq "a@b"`, `emails[type eq "work" and value eq "a@b"]`},
		{`emails[type eq "w" or primary eq true].value pr`, `emails[(type eq "w" or primary eq true) and value pr]`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "J"`},
		{`members[value eq "x"] and $ref pr`, `members[value eq "x"] and $ref pr`},
		{`not eq "x"`, `not eq "x"`}, // an attribute named not
	}
	for _, c := range cases {
		e, err := parseFilterExpr(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := fmt.Sprint(e); got != c.want {
			t.Errorf("parse(%s) = %s; want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{``, `a`, `a eq`, `a eq "x`, `a xx "x"`, `(a pr`, `a pr)`, `a[b pr`, `a[b[c pr]]`, `1a pr`, `a.b.c pr`,
		`a eq "x" and`, `a eq yes`, `http://x:a pr`, `a pr b pr`, `a[b pr].`, `a eq "\q"`, strings.Repeat("(", 40) + "a pr" + strings.Repeat(")", 40)} {
		if e, err := parseFilterExpr(bad); err == nil {
			t.Errorf("parse(%q) = %v; want an error", bad, e)
		}
	}
}
