package hrsync

import (
	"fmt"
	"strings"
)

// Sources: the HR systems whose exports Roster reads as they come, each
// through a profile — the vendor's column names overlaid on the alias
// table, what its status values mean, and which of its columns hold
// something else than their name suggests (BambooHR's Employment Status
// is Full-Time or Part-Time, an employment type; HiBob's Reports to is a
// name, not an id).

// Source is the system an export comes from.
type Source string

// Sources.
const (
	// SourceGeneric reads the documented columns and their common HR
	// aliases ([Columns]); it is what every file was read as before
	// profiles, and what a header no profile matches is read as.
	SourceGeneric  Source = "generic"
	SourceBambooHR Source = "bamboohr"
	SourceWorkday  Source = "workday"
	SourceHiBob    Source = "hibob"
	SourcePersonio Source = "personio"
	SourceRippling Source = "rippling"
)

// Sources lists the sources, the vendors first, generic last.
func Sources() []Source {
	out := make([]Source, 0, len(profiles)+1)
	for _, p := range profiles {
		out = append(out, p.source)
	}
	return append(out, SourceGeneric)
}

// ParseSource reads a source's name, case-insensitively ("Workday",
// "bamboohr"). "" is "", which detects the source from the header.
func ParseSource(s string) (Source, error) {
	if s == "" {
		return "", nil
	}
	k := Source(normalise(s))
	for _, src := range Sources() {
		if src == k {
			return src, nil
		}
	}
	return "", fmt.Errorf("unknown source %q: use %s", s, sourceList())
}

func sourceList() string {
	var names []string
	for _, s := range Sources() {
		names = append(names, string(s))
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Name is the source's name for people: "Workday", "BambooHR", "generic".
func (s Source) Name() string {
	return profileOf(s).name
}

// alias is how a profile reads one of its vendor's columns.
type alias struct {
	header string // as the vendor spells it
	// field is the column's canonical name; "" ignores the column, with
	// note saying why.
	field string
	note  string
	// needs names a field the file must also map for this column to be
	// read: a supervisor's BambooHR EID means something beside the EIDs,
	// while without them the SDK could take it for an employee number.
	// Otherwise the column is ignored and unmet says why.
	needs, unmet string
	// alsoStatus: when the file has no status column, this column's
	// values give the status too — those the vocabulary deactivates
	// (Terminated) deactivate, any other is active — as an employment
	// type that says Terminated does.
	alsoStatus bool
}

// profile is how the exports of one source are read.
type profile struct {
	source Source
	name   string
	// detect are headers (normalised) that this vendor's exports have
	// and others' rarely do.
	detect []string
	// aliases come before the alias table; for one field, the first
	// alias in this list that the file has is read, and the file's other
	// columns for the field are ignored (saying so).
	aliases []alias
	// statuses overlays the base vocabulary.
	statuses map[string][]string
	// compose: with a preferred name column and no display name column,
	// the display name is the preferred name, else the legal one.
	compose bool
}

// Notes shared by profiles.
const (
	noteSite     = "a work site: Roster has no such field (declare a custom attribute of this name to keep it)"
	notePersonal = "a personal address is never the member's email"
	noteName     = "the manager's name: matched when exactly one person has it"
)

var profiles = []*profile{
	{
		source: SourceBambooHR, name: "BambooHR",
		detect: []string{"employee", "eid", "eeid", "supervisor", "supervisoreid", "supervisorid", "supervisoremail", "homeemail", "workphoneext"},
		aliases: []alias{
			{header: "EID", field: "external_id"},
			{header: "EEID", field: "external_id"},
			{header: "Employee ID", field: "external_id"},
			{header: "ID", field: "external_id"},
			{header: "Employee #", field: "employee_number"},
			{header: "Employee Number", field: "employee_number"},
			{header: "Work Email", field: "email"},
			{header: "Email", field: "email"},
			{header: "Home Email", note: notePersonal},
			{header: "Preferred Name", field: "nickname"},
			{header: "Job Title", field: "title"},
			{header: "Employment Status", field: "user_type", alsoStatus: true,
				note: "BambooHR's Employment Status (Full-Time, Part-Time, …) is an employment type; Status says active or inactive"},
			{header: "Status", field: "status"},
			{header: "Supervisor Email", field: "manager", note: "the manager's email"},
			{header: "Supervisor EId", field: "manager", note: "the manager's EID", needs: "external_id",
				unmet: "the supervisor's BambooHR EID, and the file has no EID column to match it: add EID to the report, or Supervisor Email"},
			{header: "Supervisor ID", field: "manager", note: "the manager's Employee #", needs: "employee_number",
				unmet: "the supervisor's Employee #, and the file has no Employee # column to match it: add Employee # to the report, or Supervisor Email"},
			{header: "Supervisor", field: "manager_name", note: noteName + ` ("Last, First")`},
			{header: "Location", note: noteSite},
		},
		compose: true,
	},
	{
		source: SourceWorkday, name: "Workday",
		detect: []string{"primaryworkemail", "emailprimarywork", "legalfirstname", "legallastname", "businesstitle", "manageremployeeid",
			"workerstatus", "supervisoryorganization", "jobprofile", "workertype", "activestatus", "preferredfirstname"},
		aliases: []alias{
			{header: "Employee_ID", field: "external_id"},
			{header: "Worker_ID", field: "external_id"},
			{header: "Legal_First_Name", field: "given_name"},
			{header: "First_Name", field: "given_name"},
			{header: "Legal_Middle_Name", field: "middle_name"},
			{header: "Legal_Last_Name", field: "family_name"},
			{header: "Last_Name", field: "family_name"},
			{header: "Preferred_First_Name", field: "nickname"},
			{header: "Preferred_Last_Name", field: "preferred_family_name"},
			{header: "Primary_Work_Email", field: "email"},
			{header: "Email_Primary_Work", field: "email"},
			{header: "Work_Email", field: "email"},
			{header: "Email", field: "email"},
			{header: "Business_Title", field: "title"},
			{header: "Job_Title", field: "title"},
			{header: "Job_Profile", field: "title", note: "the title when the report has no Business_Title"},
			{header: "Supervisory_Organization", field: "department"},
			{header: "Department", field: "department"},
			{header: "Manager_Employee_ID", field: "manager", note: "the manager's Employee_ID"},
			{header: "Manager_ID", field: "manager", note: "the manager's Employee_ID"},
			{header: "Manager_Work_Email", field: "manager", note: "the manager's email"},
			{header: "Manager_Email", field: "manager", note: "the manager's email"},
			{header: "Manager", field: "manager_name", note: noteName},
			{header: "Worker_Status", field: "status"},
			{header: "Employee_Status", field: "status"},
			{header: "Active_Status", field: "status"},
			{header: "Worker_Type", field: "user_type"},
			{header: "Time_Type", field: "user_type"},
			{header: "Location", note: noteSite},
		},
		compose: true,
	},
	{
		source: SourceHiBob, name: "HiBob",
		detect: []string{"reportsto", "reportstoemail", "reportstoid", "lifecyclestatus", "site", "displayname"},
		aliases: []alias{
			{header: "Employee ID", field: "external_id"},
			{header: "ID", field: "external_id", note: "Bob's own id"},
			{header: "Display name", field: "display_name"},
			{header: "Email", field: "email"},
			{header: "Work email", field: "email"},
			{header: "Personal email", note: notePersonal},
			{header: "Title", field: "title"},
			{header: "Job title", field: "title"},
			{header: "Reports to email", field: "manager", note: "the manager's email"},
			{header: "Reports to ID", field: "manager", note: "the manager's Employee ID", needs: "external_id",
				unmet: "the manager's id, and the file has no Employee ID column to match it: add Employee ID to the report, or Reports to email"},
			{header: "Reports to", field: "manager_name", note: noteName + " (Bob's Reports to is the manager's display name)"},
			{header: "Lifecycle status", field: "status"},
			{header: "Status", field: "status"},
			{header: "Employment type", field: "user_type"},
			{header: "Site", note: noteSite},
		},
		compose: true,
	},
	{
		source: SourcePersonio, name: "Personio",
		detect: []string{"position", "office", "supervisor", "supervisorid", "personnelnumber", "subcompany", "weeklyhours", "costcenters"},
		aliases: []alias{
			{header: "ID", field: "external_id"},
			{header: "Employee ID", field: "external_id"},
			{header: "Personnel number", field: "employee_number"},
			{header: "Email", field: "email"},
			{header: "Work email", field: "email"},
			{header: "Preferred name", field: "nickname"},
			{header: "Position", field: "title"},
			{header: "Job title", field: "title"},
			{header: "Subcompany", field: "organization"},
			{header: "Cost centers", field: "cost_center"},
			{header: "Supervisor email", field: "manager", note: "the manager's email"},
			{header: "Supervisor ID", field: "manager", note: "the manager's Personio ID", needs: "external_id",
				unmet: "the supervisor's Personio ID, and the file has no ID column to match it: add ID to the report, or Supervisor email"},
			{header: "Supervisor", field: "manager_name", note: noteName + " (Personio's Supervisor is a name)"},
			{header: "Status", field: "status"},
			{header: "Employment type", field: "user_type"},
			{header: "Office", note: noteSite},
		},
		compose: true,
	},
	{
		source: SourceRippling, name: "Rippling",
		detect: []string{"legalfirstname", "legallastname", "preferredfirstname", "preferredlastname", "managerworkemail",
			"personalemail", "rolestate", "worklocation"},
		aliases: []alias{
			{header: "Employee ID", field: "external_id"},
			{header: "Employee number", field: "employee_number"},
			{header: "Legal first name", field: "given_name"},
			{header: "First name", field: "given_name"},
			{header: "Legal last name", field: "family_name"},
			{header: "Last name", field: "family_name"},
			{header: "Preferred first name", field: "nickname"},
			{header: "Preferred last name", field: "preferred_family_name"},
			{header: "Work email", field: "email"},
			{header: "Email", field: "email"},
			{header: "Personal email", note: notePersonal},
			{header: "Title", field: "title"},
			{header: "Job title", field: "title"},
			{header: "Manager work email", field: "manager", note: "the manager's email"},
			{header: "Manager email", field: "manager", note: "the manager's email"},
			{header: "Manager", field: "manager_name", note: noteName + " (Rippling's Manager is a name)"},
			{header: "Employment status", field: "status"},
			{header: "Role state", field: "status"},
			{header: "Employment type", field: "user_type"},
			{header: "Work location", note: noteSite},
		},
		compose: true,
	},
}

// generic is the profile of SourceGeneric: the alias table alone.
var generic = &profile{source: SourceGeneric, name: "generic"}

// profileOf returns the profile of a source (generic for an unknown one).
func profileOf(s Source) *profile {
	for _, p := range profiles {
		if p.source == s {
			return p
		}
	}
	return generic
}

// aliasOf returns the profile's alias for a normalised header and its
// rank (its place in the list), or nil.
func (p *profile) aliasOf(k string) (*alias, int) {
	for i := range p.aliases {
		if normalise(p.aliases[i].header) == k {
			return &p.aliases[i], i
		}
	}
	return nil, -1
}

// minDetect is how many of a profile's distinctive headers a file must
// have to be read with it.
const minDetect = 2

// Detect returns the source whose exports a header row looks like: the
// profile with the most of its distinctive headers in the row, when it
// has at least two and no other profile has as many; else
// [SourceGeneric]. It always returns one of [Sources].
func Detect(headers []string) Source {
	seen := make(map[string]bool, len(headers))
	for _, h := range headers {
		seen[normalise(h)] = true
	}
	best, score, tie := SourceGeneric, 0, false
	for _, p := range profiles {
		n := 0
		for _, d := range p.detect {
			if seen[d] {
				n++
			}
		}
		switch {
		case n > score:
			best, score, tie = p.source, n, false
		case n == score:
			tie = true
		}
	}
	if score < minDetect || tie {
		return SourceGeneric
	}
	return best
}
