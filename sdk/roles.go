package sdk

import "slices"

// Permission is a "resource:action" string such as "team:manage".
type Permission string

// Permissions of the default permission table.
const (
	PermDataSourcesManage Permission = "datasources:manage"
	PermChannelsManage    Permission = "channels:manage"
	PermSegmentsManage    Permission = "segments:manage"
	PermCampaignsCreate   Permission = "campaigns:create"
	PermCampaignsSend     Permission = "campaigns:send"
	PermTemplatesManage   Permission = "templates:manage"
	PermTeamManage        Permission = "team:manage"
	PermBillingManage     Permission = "billing:manage"
	PermBillingReminders  Permission = "billing:reminders"
	PermTenantDelete      Permission = "tenant:delete"
)

// Role is a named rank with permissions. Within a tenant a higher Rank
// outranks a lower one; the top-ranked role is the owner's.
type Role struct {
	Name        string       `json:"name" validate:"required,max=64,rolename"`
	Rank        int          `json:"rank" validate:"gte=0,lte=1000000"`
	Permissions []Permission `json:"permissions" validate:"max=100,dive,max=128,permission"`
}

// Has reports whether the role grants p.
func (r *Role) Has(p Permission) bool { return slices.Contains(r.Permissions, p) }

// RolePreset names a built-in role set.
type RolePreset string

// Built-in role presets.
const (
	// PresetStandard is owner > admin > standard (the default).
	PresetStandard RolePreset = "standard"
	// PresetCampaigns is owner > account_manager > campaign_creator
	// (Constant Contact): account managers manage the team and campaigns
	// but not billing — only the owner buys seats.
	PresetCampaigns RolePreset = "campaigns"
	// PresetPrimaryAdmin is primary_admin > admin (the Partner Portal):
	// tenants created with it act on equal ranks ([Settings.ActOnEqualRank]),
	// so every admin manages the other admins and only the primary admin is
	// protected.
	PresetPrimaryAdmin RolePreset = "primary_admin"
)

var (
	workPerms = []Permission{
		PermDataSourcesManage, PermChannelsManage, PermSegmentsManage,
		PermCampaignsCreate, PermCampaignsSend, PermTemplatesManage,
	}
	adminPerms = append(slices.Clone(workPerms), PermTeamManage, PermBillingManage)
	// Account managers: the team, not billing.
	managerPerms = append(slices.Clone(workPerms), PermTeamManage)
	ownerPerms   = append(slices.Clone(adminPerms), PermBillingReminders, PermTenantDelete)
	// Campaign creators may create but not send.
	creatorPerms = []Permission{
		PermDataSourcesManage, PermChannelsManage, PermSegmentsManage,
		PermCampaignsCreate, PermTemplatesManage,
	}
)

// PresetRoles returns the roles of a preset, highest rank first, and false
// for an unknown preset. The returned slice is a fresh copy.
func PresetRoles(p RolePreset) ([]Role, bool) {
	var rs []Role
	switch p {
	case PresetStandard, "":
		rs = []Role{
			{Name: "owner", Rank: 300, Permissions: ownerPerms},
			{Name: "admin", Rank: 200, Permissions: adminPerms},
			{Name: "standard", Rank: 100, Permissions: workPerms},
		}
	case PresetCampaigns:
		rs = []Role{
			{Name: "owner", Rank: 300, Permissions: ownerPerms},
			{Name: "account_manager", Rank: 200, Permissions: managerPerms},
			{Name: "campaign_creator", Rank: 100, Permissions: creatorPerms},
		}
	case PresetPrimaryAdmin:
		rs = []Role{
			{Name: "primary_admin", Rank: 200, Permissions: ownerPerms},
			{Name: "admin", Rank: 100, Permissions: adminPerms},
		}
	default:
		return nil, false
	}
	for i := range rs {
		rs[i].Permissions = slices.Clone(rs[i].Permissions)
	}
	return rs, true
}

// sortRoles orders roles highest rank first.
func sortRoles(rs []Role) {
	slices.SortStableFunc(rs, func(a, b Role) int { return b.Rank - a.Rank })
}
