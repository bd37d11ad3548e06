package sdk

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// SyncRecord is one person of an HR export: the desired state of a member.
//
// A record carries the fields its source has (see Omit); each carried
// field is applied to the member, each field it does not carry is left as
// it is. Applying an unchanged record writes nothing.
type SyncRecord struct {
	// Line is the record's line in the source file, for reports (0 when
	// unknown).
	Line int `json:"line,omitempty"`

	// Profile is the person's profile, applied field by field:
	//   - ExternalID matches the member (before Email); an empty one never
	//     clears the member's.
	//   - UserName, when empty, keeps the member's, which follows the email
	//     when it was the email (new members get their email).
	//   - ManagerID is ignored: see Manager.
	//   - Emails, PhoneNumbers and Addresses are merged by item type: the
	//     record's items of a type replace the member's items of that type,
	//     an item without a value removes them, and the member's items of
	//     other types stay. An address part the record does not carry
	//     (Omit names FieldAddressLocality, …) keeps the member's value; an
	//     email or phone item leaving Display or Primary unset keeps the
	//     member's.
	//   - Custom sets the custom attributes it has a key for (any spelling of
	//     the declared name; an empty value clears one) and leaves the
	//     others.
	// Values are checked as [Profile.Validate] does: an invalid one fails
	// the record alone, naming the field.
	Profile `validate:"-"`

	// Email is the person's address: it matches the member when the
	// external id does not, and becomes the member's primary work email.
	Email string `json:"email" validate:"required,max=254,email"`
	// Manager is the manager's external id, employee number or email
	// address — whichever the source carries — of a record of the input
	// or of a member. When one reference could name different people, an
	// external id wins over an employee number, which wins over an email;
	// within each, the input (the desired state) wins over the members'
	// stored values. Employee numbers compare trimmed and
	// case-insensitively, and one shared by several people names none of
	// them. A Manager that names nobody fails the record
	// (ReasonUnknownManager) unless ManagerName is set; an empty one,
	// with an empty ManagerName, clears the member's manager.
	Manager string `json:"manager,omitempty" validate:"max=256,utf8"`
	// ManagerName is the manager's name, for sources that give managers
	// by name alone (BambooHR's Supervisor as "Last, First", HiBob's
	// Reports to as "First Last"). It is used when Manager is empty or
	// names nobody, and matches a person whose display name, formatted
	// name, "Given Family" or "Family, Given" (or, with a middle name,
	// "Given Middle Family" or "Family, Given Middle") is that name,
	// compared case-insensitively with runs of whitespace collapsed and
	// accents kept. People are the records of the input and the members of
	// the tenant (a member and its record count once, by the record's
	// names where it carries them), other than the record's own person.
	//
	// When exactly one person matches, they are the manager. When nobody
	// or several people match, the record still applies but its manager
	// does not change: a member keeps the manager it has (a weak key must
	// not undo a link made before, say when a namesake joins) and a new
	// member gets none; [SyncReport.Notes] has an entry with
	// ReasonManagerNameUnknown or ReasonManagerNameAmbiguous (with how
	// many people, and who). Omit's [FieldManagerID] covers ManagerName
	// as it does Manager.
	ManagerName string `json:"managerName,omitempty" validate:"max=256,utf8"`
	// Role is a role name; empty keeps the member's role (new members get
	// the tenant's default role).
	Role string `json:"role,omitempty" validate:"max=64"`
	// Status is "active" (or empty) or "inactive".
	Status string `json:"status,omitempty" validate:"omitempty,oneof=active inactive"`

	// Omit names the fields the source does not carry (a CSV without that
	// column): they are left as they are rather than cleared. Keys are
	// profile fields ([ProfileFields], [CustomField] names, the address
	// parts such as [FieldAddressLocality]), [FieldManagerID] for Manager,
	// [FieldRole] and [FieldStatus]. Naming an attribute omits its parts
	// too ([FieldAddresses], [FieldCustom]). Nil carries every field. The
	// map is only read, so records of one file may share it.
	Omit map[Field]bool `json:"-"`

	// Invalid, when not nil, fails the record alone with this error — a
	// value its reader could not map, such as a status no vocabulary knows
	// — and the other records still apply. Its Field names the record's
	// field at fault (as [SyncFailure.Field] does: "status",
	// "employeeNumber", …) and its Message the value and the remedy,
	// without the field, which the report puts first. Its Code defaults
	// to CodeInvalidArgument and its Reason to ReasonInvalid. The failure
	// is reported like any other, dry runs included; the record's person
	// is still in the input, so the member it matches (by external id or
	// email) is not deprovisioned for being absent.
	Invalid *Error `json:"-" validate:"-"`
}

// invalidErr returns r.Invalid as the error of operation op, with its
// defaults filled in.
func (r *SyncRecord) invalidErr(op string) error {
	e := *r.Invalid
	if e.Op == "" {
		e.Op = op
	}
	if e.Code == CodeUnknown {
		e.Code = CodeInvalidArgument
	}
	if e.Reason == "" {
		e.Reason = ReasonInvalid
	}
	return &e
}

// carries reports whether the record carries field f.
func (r *SyncRecord) carries(f Field) bool {
	if r.Omit == nil {
		return true
	}
	if r.Omit[f] {
		return false
	}
	if _, ok := f.customName(); ok {
		return !r.Omit[FieldCustom]
	}
	if strings.HasPrefix(string(f), string(FieldAddresses)+".") {
		return !r.Omit[FieldAddresses]
	}
	return true
}

// addressParts lists the parts of an address a record can carry.
var addressParts = []struct {
	field Field
	get   func(*Address) *string
}{
	{FieldAddressFormatted, func(a *Address) *string { return &a.Formatted }},
	{FieldAddressStreet, func(a *Address) *string { return &a.StreetAddress }},
	{FieldAddressLocality, func(a *Address) *string { return &a.Locality }},
	{FieldAddressRegion, func(a *Address) *string { return &a.Region }},
	{FieldAddressPostalCode, func(a *Address) *string { return &a.PostalCode }},
	{FieldAddressCountry, func(a *Address) *string { return &a.Country }},
}

// applyTo sets the fields of p the record carries (see [SyncRecord]), with
// managerID as the resolved Manager. p is the member's profile, or the
// zero profile for a new member; it may be a shallow copy, as applyTo
// replaces p's slices and map rather than changing them.
func (r *SyncRecord) applyTo(p *Profile, managerID string) {
	oldEmail, oldUser := NormalizeEmail(p.MemberEmail()), NormalizeUserName(p.UserName)
	for _, s := range profileScalars {
		switch s.field {
		case FieldManagerID:
			if r.carries(FieldManagerID) {
				p.ManagerID = managerID
			}
			continue
		case FieldExternalID, FieldUserName:
			if *s.get(&r.Profile) == "" {
				continue // a matching key: never cleared by a sync
			}
		}
		if r.carries(s.field) {
			*s.get(p) = *s.get(&r.Profile)
		}
	}
	var emails []Email
	if r.carries(FieldEmails) {
		emails = r.Emails
	}
	p.Emails = mergeItems(p.Emails, withWorkEmail(emails, r.Email), emailItem)
	if r.carries(FieldPhoneNumbers) {
		p.PhoneNumbers = mergeItems(p.PhoneNumbers, r.PhoneNumbers, phoneItem)
	}
	if r.carries(FieldAddresses) {
		p.Addresses = mergeItems(p.Addresses, r.Addresses, itemKind[Address]{
			typ:     func(a *Address) *string { return &a.Type },
			primary: func(a *Address) *bool { return &a.Primary },
			empty: func(a *Address) bool {
				for _, part := range addressParts {
					if *part.get(a) != "" {
						return false
					}
				}
				return true
			},
			keep: func(old Address, a *Address) {
				for _, part := range addressParts {
					if !r.carries(part.field) {
						*part.get(a) = *part.get(&old)
					}
				}
			},
		})
	}
	if r.carries(FieldCustom) && len(r.Custom) > 0 {
		owned := false // p.Custom may be the member's own map: copy before the first change
		for _, k := range slices.Sorted(maps.Keys(r.Custom)) {
			v := r.Custom[k]
			if cur, ok := p.Custom[k]; !r.carries(CustomField(k)) || (ok && cur == v) || (!ok && v == "" && !hasKeyFold(p.Custom, k)) {
				continue
			}
			if !owned {
				p.Custom, owned = maps.Clone(p.Custom), true
			}
			for old := range p.Custom {
				if strings.EqualFold(old, k) {
					delete(p.Custom, old)
				}
			}
			if v != "" {
				if p.Custom == nil {
					p.Custom = map[string]string{}
				}
				p.Custom[k] = v
			}
		}
		if len(p.Custom) == 0 {
			p.Custom = nil
		}
	}
	if (r.UserName == "" || !r.carries(FieldUserName)) && (oldUser == "" || oldUser == oldEmail) {
		p.UserName = p.MemberEmail()
	}
}

func hasKeyFold(m map[string]string, k string) bool {
	for old := range m {
		if strings.EqualFold(old, k) {
			return true
		}
	}
	return false
}

// withWorkEmail makes email the primary work email of items: the first
// item of type work takes its value, else it comes first.
func withWorkEmail(items []Email, email string) []Email {
	if email == "" {
		return items
	}
	out := make([]Email, 0, len(items)+1)
	done := false
	for _, e := range items {
		e.Primary = false
		if !done && strings.EqualFold(strings.TrimSpace(e.Type), "work") {
			e.Value, e.Primary, done = email, true, true
		}
		out = append(out, e)
	}
	if !done {
		out = append([]Email{{Value: email, Type: "work", Primary: true}}, out...)
	}
	return out
}

// itemKind describes the items of one multi-valued attribute for
// mergeItems.
type itemKind[T comparable] struct {
	typ     func(*T) *string
	primary func(*T) *bool
	empty   func(*T) bool      // the item has no value: it removes
	keep    func(old T, it *T) // copy from old what the record leaves to the member
}

var emailItem = itemKind[Email]{
	typ:     func(e *Email) *string { return &e.Type },
	primary: func(e *Email) *bool { return &e.Primary },
	empty:   func(e *Email) bool { return e.Value == "" },
	keep: func(old Email, e *Email) {
		if e.Display == "" && e.Value == old.Value {
			e.Display = old.Display
		}
	},
}

var phoneItem = itemKind[PhoneNumber]{
	typ:     func(e *PhoneNumber) *string { return &e.Type },
	primary: func(e *PhoneNumber) *bool { return &e.Primary },
	empty:   func(e *PhoneNumber) bool { return e.Value == "" },
	keep: func(old PhoneNumber, e *PhoneNumber) {
		if e.Display == "" && e.Value == old.Value {
			e.Display = old.Display
		}
	},
}

// mergeItems merges a record's items into a member's, by type: for each
// type the record has, its items (the non-empty ones) take the place of
// the member's items of that type — the n-th keeping from the member's
// n-th what kind.keep says, and its spelling of the type — or come last
// when the member has none. The member's items of other types stay, in
// their order. When a record item is primary, no other item is; otherwise
// an item keeps the primary flag of the item it replaces.
func mergeItems[T comparable](cur, rec []T, kind itemKind[T]) []T {
	if len(rec) == 0 {
		return cur
	}
	typeOf := func(it *T) string { return strings.ToLower(strings.TrimSpace(*kind.typ(it))) }
	recPrimary := slices.ContainsFunc(rec, func(it T) bool { return *kind.primary(&it) })
	if sameItems(cur, rec, kind, typeOf, recPrimary) {
		return cur // what a re-run finds: nothing to merge
	}
	type slot struct {
		v       T
		fromRec bool
	}
	out := make([]slot, 0, len(cur)+len(rec))
	for _, it := range cur {
		out = append(out, slot{v: it})
	}
	done := map[string]bool{}
	for i := range rec {
		t := typeOf(&rec[i])
		if done[t] {
			continue
		}
		done[t] = true
		var olds []int
		for j := range out {
			if !out[j].fromRec && typeOf(&out[j].v) == t {
				olds = append(olds, j)
			}
		}
		var items []slot
		n := 0
		for _, it := range rec[i:] {
			if typeOf(&it) != t {
				continue
			}
			if n < len(olds) {
				old := out[olds[n]].v
				kind.keep(old, &it)
				*kind.typ(&it) = *kind.typ(&old)
				if !recPrimary {
					*kind.primary(&it) = *kind.primary(&old)
				}
			}
			n++
			if !kind.empty(&it) {
				items = append(items, slot{v: it, fromRec: true})
			}
		}
		if len(olds) == 0 {
			out = append(out, items...)
			continue
		}
		next := make([]slot, 0, len(out)+len(items))
		for j, s := range out {
			switch {
			case j == olds[0]:
				next = append(next, items...)
			case slices.Contains(olds, j):
			default:
				next = append(next, s)
			}
		}
		out = next
	}
	res := make([]T, len(out))
	for i, s := range out {
		res[i] = s.v
		if recPrimary && !s.fromRec {
			*kind.primary(&res[i]) = false
		}
	}
	if len(res) == 0 {
		return nil
	}
	return res
}

// sameItems reports whether merging rec into cur leaves cur as it is
// because they hold the same items, one per type, in the same order.
func sameItems[T comparable](cur, rec []T, kind itemKind[T], typeOf func(*T) string, recPrimary bool) bool {
	if len(cur) != len(rec) {
		return false
	}
	for i := range rec {
		it, old := rec[i], cur[i]
		t := typeOf(&it)
		if t != typeOf(&old) || kind.empty(&it) {
			return false
		}
		for j := range i {
			if typeOf(&rec[j]) == t {
				return false
			}
		}
		kind.keep(old, &it)
		*kind.typ(&it) = *kind.typ(&old)
		if !recPrimary {
			*kind.primary(&it) = *kind.primary(&old)
		}
		if it != old {
			return false
		}
	}
	return true
}

var itemIndexRe = regexp.MustCompile(`^(emails|phoneNumbers|addresses)\[(\d+)\](.*)$`)

// typedField names an item of p by its type rather than its index
// ("phoneNumbers[1].value" → `phoneNumbers[type eq "mobile"].value`), which
// is what a record's source calls it.
func typedField(p *Profile, f string) string {
	m := itemIndexRe.FindStringSubmatch(f)
	if m == nil {
		return f
	}
	i, _ := strconv.Atoi(m[2])
	typ := ""
	switch Field(m[1]) {
	case FieldEmails:
		if i < len(p.Emails) {
			typ = p.Emails[i].Type
		}
	case FieldPhoneNumbers:
		if i < len(p.PhoneNumbers) {
			typ = p.PhoneNumbers[i].Type
		}
	case FieldAddresses:
		if i < len(p.Addresses) {
			typ = p.Addresses[i].Type
		}
	}
	if typ == "" {
		return f
	}
	return SyncItemField(Field(m[1]), typ) + m[3]
}

// SyncItemField names the items of type typ of a multi-valued attribute in
// a sync failure's Field, as a SCIM value path: SyncItemField(FieldPhoneNumbers,
// "mobile") is `phoneNumbers[type eq "mobile"]`; a sub-attribute follows
// it (`….value`).
func SyncItemField(attr Field, typ string) string {
	return fmt.Sprintf("%s[type eq %q]", attr, strings.ToLower(strings.TrimSpace(typ)))
}
