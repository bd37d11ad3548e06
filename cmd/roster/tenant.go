package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

// withClient opens the store the command line selects, runs fn with a
// client on it, and closes the store.
func (a *app) withClient(cmd *cobra.Command, mode openMode, fn func(ctx context.Context, c *sdk.Client) error) error {
	log, err := a.logger(slog.LevelWarn)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := openStore(ctx, a.chooseStore(cmd, false), mode, log)
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
	return fn(ctx, sdk.New(st.store, sdk.WithLogger(log)))
}

// tenantBySlug finds a tenant, phrasing "not found" for the terminal.
func tenantBySlug(ctx context.Context, c *sdk.Client, slug string) (*sdk.Tenant, error) {
	if slug == "" {
		return nil, usageError{errors.New("--tenant SLUG is required")}
	}
	t, err := c.TenantBySlug(ctx, slug)
	if errors.Is(err, sdk.ErrNotFound) {
		return nil, errorf(err, "no tenant with slug %q (list them with 'roster tenant list')", slug)
	}
	return t, err
}

func newTenantCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create and list tenants",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().BoolVar(&a.jsonOut, "json", false, "print JSON on stdout instead of a table")
	cmd.AddCommand(newTenantCreateCmd(a), newTenantListCmd(a))
	return cmd
}

func newTenantCreateCmd(a *app) *cobra.Command {
	var req sdk.CreateTenantRequest
	var preset string
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
	f.IntVar(&req.IncludedSeats, "seats", 10, "seats included in the plan")
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
					if m, err := c.Member(ctx, t.ID, t.OwnerID); err == nil {
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
