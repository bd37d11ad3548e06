package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

// withClient opens the store the command line selects, runs fn with a
// client on it, and closes the store.
func (a *app) withClient(cmd *cobra.Command, mode openMode, fn func(ctx context.Context, c *sdk.Client) error) error {
	return a.withStore(cmd, a.chooseStore(cmd, false), mode, func(ctx context.Context, st *openedStore, log *slog.Logger) error {
		return fn(ctx, sdk.New(st.store, sdk.WithLogger(log)))
	})
}

// withStore opens the store c of an admin command, runs fn on it with the
// command's logger, and closes it.
func (a *app) withStore(cmd *cobra.Command, c storeChoice, mode openMode, fn func(ctx context.Context, st *openedStore, log *slog.Logger) error) error {
	log, err := a.logger(slog.LevelWarn)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	open := a.open
	if open == nil {
		open = openStore
	}
	st, err := open(ctx, c, mode, log)
	if err != nil {
		return err
	}
	defer func() {
		// Closing must finish even after an interrupt.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := st.Close(cctx); cerr != nil {
			log.Warn("closing the store", "err", cerr)
		}
	}()
	return fn(ctx, st, log)
}

// tenantBySlug finds a tenant, phrasing "not found" for the terminal.
func tenantBySlug(ctx context.Context, c *sdk.Client, slug string) (*sdk.Tenant, error) {
	if slug == "" {
		return nil, usageError{errors.New("--tenant SLUG is required")}
	}
	t, err := c.TenantBySlug(ctx, slug)
	if sdk.ReasonOf(err) == sdk.ReasonTenantDeleting {
		return nil, errorf(err, "tenant %q is being deleted: an earlier 'roster tenant delete' stopped half-way; run 'roster tenant delete %s --yes' to finish it", slug, slug)
	}
	if errors.Is(err, sdk.ErrNotFound) {
		return nil, errorf(err, "no tenant with slug %q (list them with 'roster tenant list')", slug)
	}
	return t, err
}

func newTenantCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create, list, show, reconcile and delete tenants; change their seats and settings",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().BoolVar(&a.jsonOut, "json", false, "print JSON on stdout instead of a table")
	cmd.AddCommand(newTenantCreateCmd(a), newTenantListCmd(a), newTenantReconcileCmd(a),
		newTenantShowCmd(a), newTenantSeatsCmd(a), newTenantSettingsCmd(a), newTenantDeleteCmd(a))
	return cmd
}

func newTenantCreateCmd(a *app) *cobra.Command {
	var req sdk.CreateTenantRequest
	var preset, seats string
	cmd := &cobra.Command{
		Use:   "create SLUG --owner-email EMAIL [--name NAME] [--seats N] [--roles PRESET]",
		Short: "Create a tenant and its owner",
		Long: `Create a tenant with the given slug (lower-case letters, digits and hyphens)
and its owner, an active member holding the tenant's first seat.

Role presets: standard (owner > admin > standard, the default),
campaigns (owner > account_manager > campaign_creator),
primary_admin (primary_admin > admin).`,
		Example: "  roster tenant create acme --owner-email ann@acme.example --seats 25",
		Args:    exactArgs(1, "SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Slug = args[0]
			req.RolePreset = sdk.RolePreset(preset)
			n, err := seatCount("--seats", seats, 1)
			if err != nil {
				return err
			}
			req.IncludedSeats = n
			return a.withClient(cmd, openAdminCreate, func(ctx context.Context, c *sdk.Client) error {
				t, owner, err := c.CreateTenant(ctx, sdk.SystemActor(), req)
				if err != nil {
					return tenantErr(err, req.Slug)
				}
				if a.jsonOut {
					return a.printJSON(struct {
						Tenant *sdk.Tenant `json:"tenant"`
						Owner  *sdk.Member `json:"owner"`
					}{t, owner})
				}
				fmt.Fprintln(a.stdout, t.ID)
				a.say("Created tenant %q (%s) owned by %s, %d seat(s).", t.Slug, t.Name, owner.Email, t.SeatLimit())
				a.say("Add members with: roster member add --tenant %s --email EMAIL", t.Slug)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.OwnerEmail, "owner-email", "", "email address of the tenant's owner (required)")
	f.StringVar(&req.Name, "name", "", "display name (default: the slug)")
	f.StringVar(&req.OwnerGivenName, "owner-given-name", "", "owner's given name")
	f.StringVar(&req.OwnerFamilyName, "owner-family-name", "", "owner's family name")
	f.StringVar(&seats, "seats", "10", "seats included in the plan")
	f.StringVar(&preset, "roles", string(sdk.PresetStandard), "role preset: standard, campaigns or primary_admin")
	_ = cmd.MarkFlagRequired("owner-email")
	return cmd
}

func newTenantListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				var all []*sdk.Tenant
				opts := sdk.ListOptions{PageSize: sdk.MaxPageSize}
				for {
					p, err := c.ListTenants(ctx, opts)
					if err != nil {
						return err
					}
					all = append(all, p.Items...)
					if p.NextCursor == "" {
						break
					}
					opts.Cursor = p.NextCursor
				}
				if a.jsonOut {
					if all == nil {
						all = []*sdk.Tenant{}
					}
					return a.printJSON(all)
				}
				if len(all) == 0 {
					a.say("No tenants yet. Create one with: roster tenant create SLUG --owner-email EMAIL")
					return nil
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "SLUG\tNAME\tOWNER\tSEATS\tCREATED\tID")
				for _, t := range all {
					owner := t.OwnerID
					if t.Deleting {
						owner = "(being deleted: run 'roster tenant delete " + t.Slug + " --yes' to finish)"
					} else if m, err := c.Member(ctx, t.ID, t.OwnerID); err == nil {
						owner = m.Email
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", t.Slug, t.Name, owner,
						t.SeatsUsed, t.SeatLimit(), t.CreatedAt.Format(time.DateOnly), t.ID)
				}
				return w.Flush()
			})
		},
	}
}

// exactArgs is cobra.ExactArgs with a message naming the argument.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s expects %s, got %d argument(s)", cmd.CommandPath(), names, len(args))}
		}
		return nil
	}
}

// reconcileResult is what [reconcileTenant] repaired in one tenant.
type reconcileResult struct {
	Tenant        string `json:"tenant"`
	SeatsBefore   int    `json:"seatsBefore"`
	SeatsAfter    int    `json:"seatsAfter"`
	RolesRepaired int    `json:"rolesRepaired"`
	// Groups is nil when the store has no groups.
	Groups *groupRepairs `json:"groups,omitempty"`
	// Deleted: the tenant's deletion had stopped half-way, and the
	// reconcile finished it.
	Deleted bool `json:"deleted,omitempty"`
}

type groupRepairs struct {
	EdgesRemoved int `json:"edgesRemoved"`
	RolesChanged int `json:"rolesChanged"`
}

// repaired reports whether anything was out of order.
func (r *reconcileResult) repaired() bool {
	return r.Deleted || r.SeatsBefore != r.SeatsAfter || r.RolesRepaired > 0 ||
		(r.Groups != nil && (r.Groups.EdgesRemoved > 0 || r.Groups.RolesChanged > 0))
}

// String describes the repairs for people.
func (r *reconcileResult) String() string {
	if !r.repaired() {
		return fmt.Sprintf("tenant %q: nothing to repair (%d seat(s) in use)", r.Tenant, r.SeatsAfter)
	}
	if r.Deleted {
		return fmt.Sprintf("tenant %q: finished its deletion, which had stopped half-way", r.Tenant)
	}
	var parts []string
	if r.SeatsBefore != r.SeatsAfter {
		parts = append(parts, fmt.Sprintf("seat counter %d -> %d", r.SeatsBefore, r.SeatsAfter))
	}
	if r.RolesRepaired > 0 {
		parts = append(parts, fmt.Sprintf("%d role(s) reset after an interrupted ownership transfer", r.RolesRepaired))
	}
	if g := r.Groups; g != nil && g.EdgesRemoved > 0 {
		parts = append(parts, fmt.Sprintf("%d stale group membership(s) removed", g.EdgesRemoved))
	}
	if g := r.Groups; g != nil && g.RolesChanged > 0 {
		parts = append(parts, fmt.Sprintf("%d role(s) set from group mappings", g.RolesChanged))
	}
	return fmt.Sprintf("tenant %q: repaired %s", r.Tenant, strings.Join(parts, "; "))
}

// reconcileTenant repairs what a crash can leave behind in a tenant: its
// seat counter and owner roles ([sdk.Client.Reconcile]) and, when the
// store has groups, its group memberships and mapped roles
// ([sdk.Client.ReconcileGroups]).
//
// The seat recount lowers nothing while seats keep moving (it reports
// ReasonVersionMismatch); it is tried again a few times, a little later
// each time, before that is reported.
func reconcileTenant(ctx context.Context, c *sdk.Client, t *sdk.Tenant) (*reconcileResult, error) {
	if t.Deleting {
		// A deletion that stopped half-way is finished, not repaired.
		if err := c.DeleteTenant(ctx, sdk.SystemActor(), t.ID); err != nil {
			return nil, err
		}
		return &reconcileResult{Tenant: t.Slug, Deleted: true}, nil
	}
	var rep *sdk.ReconcileReport
	var err error
	for attempt := 1; ; attempt++ {
		rep, err = c.Reconcile(ctx, t.ID)
		if sdk.ReasonOf(err) != sdk.ReasonVersionMismatch || attempt == reconcileAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
	if sdk.ReasonOf(err) == sdk.ReasonVersionMismatch {
		return nil, errorf(err, "tenant %q: seats kept moving while they were counted, so the seat counter was left as it is (it can only be too high, never too low); run 'roster tenant reconcile %s' again when the tenant is quieter", t.Slug, t.Slug)
	}
	if err != nil {
		return nil, err
	}
	res := &reconcileResult{Tenant: t.Slug, SeatsBefore: rep.SeatsBefore, SeatsAfter: rep.SeatsAfter, RolesRepaired: rep.RolesRepaired}
	g, err := c.ReconcileGroups(ctx, t.ID)
	switch {
	case err != nil:
		return res, err
	default:
		res.Groups = &groupRepairs{EdgesRemoved: g.EdgesRemoved, RolesChanged: g.RolesChanged}
	}
	return res, nil
}

// reconcileAttempts bounds how often reconcileTenant tries a recount that
// seats keep interrupting.
const reconcileAttempts = 5

func newTenantReconcileCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "reconcile SLUG",
		Short: "Repair what a crash can leave behind in a tenant (seat counter, roles, groups)",
		Long: `Repair what a crash between two database steps can leave behind in a tenant:
a seat counter that disagrees with the members holding seats, member roles
that disagree with the owner after an interrupted transfer, group
memberships of deleted members or groups, and roles that disagree with the
tenant's group mappings. It is safe to run at any time, also while a server
runs; 'roster serve' runs it for every tenant when it starts, and there also
finishes a tenant deletion that stopped half-way.`,
		Args: exactArgs(1, "SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, args[0])
				if err != nil {
					return err
				}
				res, err := reconcileTenant(ctx, c, t)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(res)
				}
				a.say("%s.", res)
				return nil
			})
		},
	}
}
