package hrsync

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster/sdk"
)

// Status vocabularies: what the values of a status column mean.
//
// A value means active (the person works here: employed, on leave, about
// to start), inactive (they left: the member is deactivated), or nothing
// about it (StatusIgnore: "Full-Time" in a column that mixes employment
// types into statuses) — the record then leaves the member's status as
// it is, and a new member starts active. A value no vocabulary knows
// fails its record alone ([sdk.SyncRecord.Invalid]), naming the value and
// the --status-map that maps it; the rest of the file applies.

// What a status value means.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
	StatusIgnore   = "ignore"
)

// statusTargets are the meanings a --status-map value may take, with
// their spellings.
var statusTargets = map[string]string{
	"active": StatusActive, "inactive": StatusInactive, "deactivated": StatusInactive, "deactivate": StatusInactive,
	"ignore": StatusIgnore, "none": StatusIgnore, "notastatus": StatusIgnore,
}

// baseStatuses is the vocabulary every source shares, as people spell
// the values (compared normalised: case, spaces and punctuation aside).
// People on leave stay active; people about to start are active, so that
// their accounts are ready on their first day.
var baseStatuses = map[string][]string{
	StatusActive: {"Active", "A", "Employed", "Current", "True", "Yes", "1", "Enabled",
		"Leave", "On leave", "Leave of absence", "LOA", "Garden leave", "Parental leave", "Maternity leave",
		"Paternity leave", "Sick leave", "Sabbatical", "Notice", "Notice period", "Probation",
		"Onboarding", "Pre-boarding", "Hired", "Accepted"},
	StatusInactive: {"Inactive", "I", "Terminated", "T", "False", "No", "0", "Disabled", "Deactivated",
		"Suspended", "Leaver", "Left", "Former", "Offboarded", "Retired", "Resigned", "Separated", "Deceased"},
	StatusIgnore: {"Full-Time", "Part-Time", "Full time", "Part time", "FT", "PT", "Contractor", "Contract",
		"Contingent worker", "Employee", "Intern", "Internship", "Temporary", "Temp", "Seasonal", "Permanent",
		"Fixed-term", "Freelance", "Freelancer", "Casual", "Salaried FT", "Salaried PT", "Hourly FT", "Hourly PT"},
}

// vocabulary maps normalised status values to their meaning.
type vocabulary map[string]string

// newVocabulary returns the base vocabulary overlaid with extra (a
// profile's) and then with a --status-map.
func newVocabulary(extra map[string][]string, overrides StatusMap) vocabulary {
	v := vocabulary{"": StatusActive}
	for _, src := range []map[string][]string{baseStatuses, extra} {
		for meaning, values := range src {
			for _, s := range values {
				v[normalise(s)] = meaning
			}
		}
	}
	for k, meaning := range overrides {
		v[k] = meaning
	}
	return v
}

// StatusMap maps status values, normalised (see [ParseStatusMap]), to
// [StatusActive], [StatusInactive] or [StatusIgnore].
type StatusMap map[string]string

// ErrMapping is matched by the errors of a mapping that cannot be used:
// a --map or --status-map entry that is malformed, names an unknown field
// or contradicts another.
var ErrMapping = errors.New("invalid mapping")

// mappingError returns an error matching [ErrMapping].
func mappingError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMapping, fmt.Sprintf(format, args...))
}

// ParseStatusMap reads status mappings as a person types them:
// "Garden leave=active,Sabbatical=active,Contractor=ignore". A meaning is
// active, inactive (or deactivated) or ignore; values compare as headers
// do. A value given twice with different meanings is an error matching
// [ErrMapping], as is an entry that is not value=meaning.
func ParseStatusMap(s string) (StatusMap, error) {
	m := StatusMap{}
	for _, entry := range strings.Split(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		i := strings.LastIndex(entry, "=")
		if i < 0 {
			return nil, mappingError("status mapping %q is not value=meaning (active, inactive or ignore)", strings.TrimSpace(entry))
		}
		val, to := strings.TrimSpace(entry[:i]), strings.TrimSpace(entry[i+1:])
		meaning, ok := statusTargets[normalise(to)]
		if !ok {
			return nil, mappingError("status mapping %q: %q is not a meaning; use active, inactive or ignore", strings.TrimSpace(entry), to)
		}
		k := normalise(val)
		if k == "" && val != "" {
			return nil, mappingError("status mapping %q: the value has no letter or digit", strings.TrimSpace(entry))
		}
		if prev, dup := m[k]; dup && prev != meaning {
			return nil, mappingError("status %q is mapped to both %s and %s", val, prev, meaning)
		}
		m[k] = meaning
	}
	return m, nil
}

// statusOf reads a status cell: the record's status, whether the record
// carries a status at all, and for a value the vocabulary does not know,
// the record's error. header is the column's header in the file.
func (v vocabulary) statusOf(value, header string) (status string, carried bool, invalid *sdk.Error) {
	switch v[normalise(value)] {
	case StatusActive:
		if value == "" {
			return "", true, nil
		}
		return "active", true, nil
	case StatusInactive:
		return "inactive", true, nil
	case StatusIgnore:
		return "", false, nil
	}
	return "", true, &sdk.Error{Code: sdk.CodeInvalidArgument, Reason: sdk.ReasonInvalid, Field: header,
		Message: fmt.Sprintf("unknown status %q; map it with --status-map '%s=active' (or =inactive, or =ignore to leave the status as it is)",
			value, strings.ReplaceAll(value, "'", ""))}
}

// Statuses lists the vocabulary in effect for a source with a
// --status-map: for each meaning, the values that have it, as people
// spell them (a --status-map value as it normalises), sorted.
func Statuses(src Source, overrides StatusMap) map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	p := profileOf(src)
	for _, srcMap := range []map[string][]string{p.statuses, baseStatuses} {
		for meaning, values := range srcMap {
			for _, s := range values {
				k := normalise(s)
				if seen[k] {
					continue
				}
				seen[k] = true
				m := meaning
				if o, ok := overrides[k]; ok {
					m = o
				}
				out[m] = append(out[m], s)
			}
		}
	}
	for k, meaning := range overrides {
		if !seen[k] {
			out[meaning] = append(out[meaning], k)
		}
	}
	for m := range out {
		slices.SortFunc(out[m], func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	}
	return out
}
