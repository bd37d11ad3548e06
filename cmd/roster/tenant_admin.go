package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

// seatCount parses the value s of a seat-count flag, refusing anything but
// a whole number of at least min with a message naming the flag.
func seatCount(flag, s string, minimum int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, usageError{fmt.Errorf("%s %q: give a whole number of seats, e.g. 5", flag, s)}
	}
	if n < minimum || n > 10_000_000 {
		return 0, usageError{fmt.Errorf("%s %d: give a number of seats between %d and 10000000", flag, n, minimum)}
	}
	return n, nil
}

// roleNames lists a tenant's roles, highest ranked first.
func roleNames(t *sdk.Tenant) string {
	names := make([]string, len(t.Roles))
	for i, r := range t.Roles {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// checkRole refuses a role tenant t does not have, listing the ones it has.
func checkRole(flag, role string, t *sdk.Tenant) error {
	if t.Role(role) == nil {
		return usageError{fmt.Errorf("%s %q: tenant %q has no such role; use one of %s", flag, role, t.Slug, roleNames(t))}
	}
	return nil
}

// checkGrantableRole refuses a role tenant t does not have, or its
// owner's role, which moves only with the ownership, listing the roles
// that can be given.
func checkGrantableRole(flag, role string, t *sdk.Tenant) error {
	if err := checkRole(flag, role, t); err != nil || role != t.OwnerRole() {
		return err
	}
	others := make([]string, 0, len(t.Roles))
	for _, r := range t.Roles[1:] {
		others = append(others, r.Name)
	}
	return usageError{fmt.Errorf("%s %q: the owner's role moves only with the ownership ('roster member transfer-owner --tenant %s MEMBER'); use one of %s",
		flag, role, t.Slug, strings.Join(others, ", "))}
}

// oneOf refuses a value that is not one of valid, listing them.
func oneOf[T ~string](flag string, v T, valid ...T) error {
	if slices.Contains(valid, v) {
		return nil
	}
	s := make([]string, len(valid))
	for i, x := range valid {
		s[i] = string(x)
	}
	return usageError{fmt.Errorf("%s %q: use one of %s", flag, v, strings.Join(s, ", "))}
}

// seatHint adds to a seat-limit refusal the command that buys seats.
func seatHint(err error, slug string) error {
	if sdk.ReasonOf(err) != sdk.ReasonSeatLimit {
		return err
	}
	return errorf(err, "tenant %q has no free seat: run 'roster tenant seats %s --add N' to buy more, or 'roster member remove --tenant %s MEMBER' to free one", slug, slug, slug)
}

var memberStatuses = []sdk.Status{sdk.StatusInvited, sdk.StatusActive, sdk.StatusDeactivated}

func newTenantShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show SLUG",
		Short: "Show a tenant: owner, seats, roles and settings",
		Args:  exactArgs(1, "SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, args[0])
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(t)
				}
				owner := t.OwnerID
				if m, err := c.Member(ctx, t.ID, t.OwnerID); err == nil {
					owner = m.Email + " (" + m.ID + ")"
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(w, "slug\t%s\n", t.Slug)
				fmt.Fprintf(w, "name\t%s\n", t.Name)
				fmt.Fprintf(w, "id\t%s\n", t.ID)
				fmt.Fprintf(w, "owner\t%s\n", owner)
				fmt.Fprintf(w, "seats\t%d used of %d (%d included, %d extra)\n", t.SeatsUsed, t.SeatLimit(), t.IncludedSeats, t.ExtraSeats)
				fmt.Fprintf(w, "roles\t%s\n", roleNames(t))
				fmt.Fprintf(w, "created\t%s\n", t.CreatedAt.Format(time.RFC3339))
				if err := w.Flush(); err != nil {
					return err
				}
				return printSettings(a, t)
			})
		},
	}
}

func newTenantSeatsCmd(a *app) *cobra.Command {
	var add, remove string
	cmd := &cobra.Command{
		Use:   "seats SLUG --add N | --remove N",
		Short: "Buy extra seats for a tenant or give them back",
		Long: `Buy N extra seats for a tenant (--add) or give N extra seats back (--remove).
Seats in use and the seats included in the plan cannot be removed.`,
		Example: "  roster tenant seats acme --add 5",
		Args:    exactArgs(1, "SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			if fs.Changed("add") == fs.Changed("remove") {
				return usageError{errors.New("give one of --add N or --remove N")}
			}
			op, flag, val := (*sdk.Client).AddSeats, "--add", add
			if fs.Changed("remove") {
				op, flag, val = (*sdk.Client).RemoveSeats, "--remove", remove
			}
			n, err := seatCount(flag, val, 1)
			if err != nil {
				return err
			}
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, args[0])
				if err != nil {
					return err
				}
				nt, err := op(c, ctx, sdk.SystemActor(), t.ID, n)
				if sdk.ReasonOf(err) == sdk.ReasonSeatsInUse {
					most := max(0, min(t.ExtraSeats, t.SeatLimit()-t.SeatsUsed))
					alt := fmt.Sprintf(", or remove at most %d", most)
					if most == 0 {
						alt = " (no extra seat is free to remove now)"
					}
					return errorf(err, "tenant %q: %s (%d in use, %d included, %d extra); free seats first with 'roster member remove --tenant %s MEMBER'%s",
						t.Slug, reasonMessage(err), t.SeatsUsed, t.IncludedSeats, t.ExtraSeats, t.Slug, alt)
				}
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(nt)
				}
				a.say("Tenant %q now has %d seat(s) (%d included, %d extra), %d in use.", nt.Slug, nt.SeatLimit(), nt.IncludedSeats, nt.ExtraSeats, nt.SeatsUsed)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&add, "add", "", "buy this many extra seats")
	cmd.Flags().StringVar(&remove, "remove", "", "give back this many extra seats")
	return cmd
}

// settingsView is a tenant's settings as they apply, defaults filled in.
type settingsView struct {
	InvitePolicy             sdk.InvitePolicy `json:"invitePolicy"`
	SeatStates               []sdk.Status     `json:"seatStates"`
	DefaultRole              string           `json:"defaultRole"`
	SuccessorRole            string           `json:"successorRole"`
	RequireMFA               bool             `json:"requireMFA"`
	UniqueEmailAcrossTenants bool             `json:"uniqueEmailAcrossTenants"`
	ActOnEqualRank           bool             `json:"actOnEqualRank"`
	InvitationTTL            string           `json:"invitationTTL"`
}

func viewSettings(t *sdk.Tenant) settingsView {
	s := t.Settings
	v := settingsView{
		InvitePolicy: s.InvitePolicy, SeatStates: s.SeatStates,
		DefaultRole: t.DefaultRole(), SuccessorRole: t.SuccessorRole(),
		RequireMFA: s.RequireMFA, UniqueEmailAcrossTenants: s.UniqueEmailAcrossTenants,
		ActOnEqualRank: s.ActOnEqualRank, InvitationTTL: s.InvitationTTL.String(),
	}
	if v.InvitePolicy == "" {
		v.InvitePolicy = sdk.InviteTeamManagers
	}
	if len(v.SeatStates) == 0 {
		v.SeatStates = memberStatuses
	}
	if s.InvitationTTL == 0 {
		v.InvitationTTL = sdk.DefaultInvitationTTL.String()
	}
	return v
}

func printSettings(a *app, t *sdk.Tenant) error {
	v := viewSettings(t)
	states := make([]string, len(v.SeatStates))
	for i, s := range v.SeatStates {
		states[i] = string(s)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "invite-policy\t%s\n", v.InvitePolicy)
	fmt.Fprintf(w, "seat-states\t%s\n", strings.Join(states, ","))
	fmt.Fprintf(w, "default-role\t%s\n", v.DefaultRole)
	fmt.Fprintf(w, "successor-role\t%s\n", v.SuccessorRole)
	fmt.Fprintf(w, "require-mfa\t%t\n", v.RequireMFA)
	fmt.Fprintf(w, "unique-email-across-tenants\t%t\n", v.UniqueEmailAcrossTenants)
	fmt.Fprintf(w, "act-on-equal-rank\t%t\n", v.ActOnEqualRank)
	fmt.Fprintf(w, "invitation-ttl\t%s\n", v.InvitationTTL)
	return w.Flush()
}

func newTenantSettingsCmd(a *app) *cobra.Command {
	var policy, defRole, succRole string
	var states []string
	var mfa, unique bool
	cmd := &cobra.Command{
		Use: "settings SLUG [--invite-policy team_manage|owner_only] [--seat-states STATE,...] [--default-role R] " +
			"[--successor-role R] [--require-mfa=BOOL] [--unique-email-across-tenants=BOOL]",
		Short: "Print a tenant's settings, or change them",
		Long: `Print a tenant's settings (no flag), or change the ones given.

--seat-states lists the member states that hold a seat: invited, active,
deactivated (active must be one of them).`,
		Example: "  roster tenant settings acme --invite-policy owner_only --require-mfa=true",
		Args:    exactArgs(1, "SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			if fs.Changed("invite-policy") {
				if err := oneOf("--invite-policy", sdk.InvitePolicy(policy), sdk.InviteTeamManagers, sdk.InviteOwnerOnly); err != nil {
					return err
				}
			}
			if cmd.Flags().Changed("seat-states") && len(states) == 0 {
				return usageError{errors.New("--seat-states: give at least one of invited, active, deactivated (comma-separated)")}
			}
			var seatStates []sdk.Status
			for _, s := range states {
				st := sdk.Status(strings.TrimSpace(s))
				if err := oneOf("--seat-states", st, memberStatuses...); err != nil {
					return err
				}
				seatStates = append(seatStates, st)
			}
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, args[0])
				if err != nil {
					return err
				}
				s := t.Settings
				changed := false
				set := func(flag string, apply func() error) error {
					if !fs.Changed(flag) {
						return nil
					}
					changed = true
					return apply()
				}
				err = errors.Join(
					set("invite-policy", func() error { s.InvitePolicy = sdk.InvitePolicy(policy); return nil }),
					set("seat-states", func() error { s.SeatStates = seatStates; return nil }),
					set("default-role", func() error { s.DefaultRole = defRole; return checkGrantableRole("--default-role", defRole, t) }),
					set("successor-role", func() error { s.SuccessorRole = succRole; return checkGrantableRole("--successor-role", succRole, t) }),
					set("require-mfa", func() error { s.RequireMFA = mfa; return nil }),
					set("unique-email-across-tenants", func() error { s.UniqueEmailAcrossTenants = unique; return nil }),
				)
				if err != nil {
					var u usageError
					if errors.As(err, &u) {
						return u
					}
					return err
				}
				if changed {
					t, err = c.UpdateTenant(ctx, sdk.SystemActor(), sdk.UpdateTenantRequest{TenantID: t.ID, Settings: &s, ExpectedVersion: t.Version})
					if err != nil {
						return settingsErr(err, args[0])
					}
				}
				if a.jsonOut {
					return a.printJSON(viewSettings(t))
				}
				if changed {
					a.say("Updated the settings of tenant %q.", t.Slug)
				}
				return printSettings(a, t)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&policy, "invite-policy", "", "who may add and invite members: team_manage or owner_only")
	f.StringSliceVar(&states, "seat-states", nil, "member states holding a seat, comma-separated: invited, active, deactivated")
	f.StringVar(&defRole, "default-role", "", "role of members added without one")
	f.StringVar(&succRole, "successor-role", "", "role the old owner receives on an ownership transfer")
	f.BoolVar(&mfa, "require-mfa", false, "require members to enrol a second factor")
	f.BoolVar(&unique, "unique-email-across-tenants", false, "refuse an email address another tenant's member has")
	return cmd
}

// settingsErr phrases the errors of changing tenant slug's settings.
func settingsErr(err error, slug string) error {
	switch {
	case sdk.ReasonOf(err) == sdk.ReasonVersionMismatch:
		return errorf(err, "tenant %q changed while its settings were being saved; run the command again", slug)
	case errors.Is(err, sdk.ErrInvalidArgument):
		f := strings.TrimPrefix(sdk.FieldOf(err), "Settings.")
		flag := map[string]string{"SeatStates": "--seat-states", "DefaultRole": "--default-role", "SuccessorRole": "--successor-role", "InvitePolicy": "--invite-policy"}[f]
		if flag == "" {
			flag = "settings"
		}
		return errorf(err, "tenant %q: %s: %s", slug, flag, reasonMessage(err))
	}
	return err
}
