package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

func newGroupCmd(a *app) *cobra.Command {
	var slug string
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List and show a tenant's groups, and map a group to a role",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&slug, "tenant", "", "slug of the tenant (required)")
	pf.BoolVar(&a.jsonOut, "json", false, "print JSON on stdout instead of a table")
	_ = cmd.MarkPersistentFlagRequired("tenant")
	cmd.AddCommand(newGroupListCmd(a, &slug), newGroupShowCmd(a, &slug), newGroupRoleCmd(a, &slug))
	return cmd
}

func newGroupListCmd(a *app, slug *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list --tenant SLUG",
		Short: "List the groups of a tenant",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				all := []*sdk.Group{}
				opts := sdk.ListOptions{PageSize: sdk.MaxPageSize}
				for {
					p, err := c.ListGroups(ctx, t.ID, opts)
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
					return a.printJSON(all)
				}
				if len(all) == 0 {
					a.say("Tenant %q has no groups; an identity provider creates them over SCIM.", t.Slug)
					return nil
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tROLE\tEXTERNAL ID\tID")
				for _, g := range all {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", g.DisplayName, dash(g.Role), dash(g.ExternalID), g.ID)
				}
				return w.Flush()
			})
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// findGroup resolves a group reference of tenant t: its id, or else its
// display name.
func findGroup(ctx context.Context, c *sdk.Client, t *sdk.Tenant, ref string) (*sdk.Group, error) {
	g, err := c.Group(ctx, t.ID, ref)
	if err == nil || !errors.Is(err, sdk.ErrNotFound) {
		return g, err
	}
	p, _, err := c.SearchGroups(ctx, t.ID, sdk.GroupSearch{Where: sdk.Compare(sdk.FieldDisplayName, sdk.OpEq, ref), ListOptions: sdk.ListOptions{PageSize: 1}})
	if err != nil {
		return nil, err
	}
	if len(p.Items) == 0 {
		return nil, errorf(sdk.ErrNotFound, "tenant %q has no group %q (list them with 'roster group list --tenant %s')", t.Slug, ref, t.Slug)
	}
	return p.Items[0], nil
}

// groupView is a group and its members, for 'group show'.
type groupView struct {
	*sdk.Group
	Members []string `json:"members"` // member ids
}

func newGroupShowCmd(a *app, slug *string) *cobra.Command {
	return &cobra.Command{
		Use:   "show --tenant SLUG GROUP",
		Short: "Show a group and its members",
		Long:  "Show a group and its members.\n\nGROUP is the group's id or display name.",
		Args:  exactArgs(1, "GROUP (an id or display name)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				g, err := findGroup(ctx, c, t, args[0])
				if err != nil {
					return err
				}
				v := groupView{Group: g, Members: []string{}}
				opts := sdk.ListOptions{PageSize: sdk.MaxPageSize}
				for {
					p, err := c.GroupMembers(ctx, t.ID, g.ID, opts)
					if err != nil {
						return err
					}
					v.Members = append(v.Members, p.Items...)
					if p.NextCursor == "" {
						break
					}
					opts.Cursor = p.NextCursor
				}
				if a.jsonOut {
					return a.printJSON(v)
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(w, "name\t%s\n", g.DisplayName)
				fmt.Fprintf(w, "role\t%s\n", dash(g.Role))
				fmt.Fprintf(w, "external-id\t%s\n", dash(g.ExternalID))
				fmt.Fprintf(w, "id\t%s\n", g.ID)
				fmt.Fprintf(w, "created\t%s\n", g.CreatedAt.Format(time.RFC3339))
				fmt.Fprintf(w, "members\t%d\n", len(v.Members))
				for _, id := range v.Members {
					email := "-"
					if m, err := c.Member(ctx, t.ID, id); err == nil {
						email = m.Email
					}
					fmt.Fprintf(w, "\t%s\t%s\n", email, id)
				}
				return w.Flush()
			})
		},
	}
}

func newGroupRoleCmd(a *app, slug *string) *cobra.Command {
	var clearRole bool
	cmd := &cobra.Command{
		Use:   "role --tenant SLUG GROUP ROLE|--clear",
		Short: "Map a group to a role, or remove its mapping",
		Long: `Map a group to a role: its members get the highest-ranked role among their
mapped groups, or the tenant's default role when none maps to one. --clear
removes the mapping. The owner's role never changes this way.

GROUP is the group's id or display name.`,
		Example: "  roster group role --tenant acme Engineering admin",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case clearRole && len(args) != 1:
				return usageError{fmt.Errorf("%s --clear expects GROUP, got %d argument(s)", cmd.CommandPath(), len(args))}
			case !clearRole && len(args) != 2:
				return usageError{fmt.Errorf("%s expects GROUP and ROLE (or GROUP --clear), got %d argument(s)", cmd.CommandPath(), len(args))}
			}
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				role := ""
				if !clearRole {
					role = args[1]
					if err := checkRole("ROLE", role, t); err != nil {
						return err
					}
					if role == t.OwnerRole() {
						return usageError{fmt.Errorf("ROLE %q is the owner's role and cannot be mapped; it moves only with 'roster member transfer-owner --tenant %s MEMBER'", role, t.Slug)}
					}
				}
				g, err := findGroup(ctx, c, t, args[0])
				if err != nil {
					return err
				}
				g, err = c.SetGroupRole(ctx, sdk.SystemActor(), t.ID, g.ID, role)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(g)
				}
				if role == "" {
					a.say("Group %q of tenant %q maps to no role now; its members' roles were recomputed.", g.DisplayName, t.Slug)
				} else {
					a.say("Group %q of tenant %q maps to %s now; its members' roles were recomputed.", g.DisplayName, t.Slug, role)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&clearRole, "clear", false, "remove the group's role mapping")
	return cmd
}
