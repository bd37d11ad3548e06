package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

func newMemberCmd(a *app) *cobra.Command {
	var slug string
	cmd := &cobra.Command{
		Use:   "member",
		Short: "List, show, add, invite, edit, deactivate, reactivate, remove and log out members of a tenant; change roles and the owner",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&slug, "tenant", "", "slug of the tenant (required)")
	pf.BoolVar(&a.jsonOut, "json", false, "print JSON on stdout instead of a table")
	_ = cmd.MarkPersistentFlagRequired("tenant")

	cmd.AddCommand(
		newMemberListCmd(a, &slug),
		newMemberAddCmd(a, &slug),
		newMemberActionCmd(a, &slug, "deactivate", "Deactivate a member: their sessions end and they keep their seat",
			"Deactivated", (*sdk.Client).Deactivate),
		newMemberActionCmd(a, &slug, "reactivate", "Reactivate a deactivated member",
			"Reactivated", (*sdk.Client).Reactivate),
		newMemberActionCmd(a, &slug, "logout", "End every session of a member",
			"Logged out", (*sdk.Client).ForceLogout),
		newMemberRemoveCmd(a, &slug),
		newMemberInviteCmd(a, &slug),
		newMemberResendCmd(a, &slug),
		newMemberRevokeCmd(a, &slug),
		newMemberShowCmd(a, &slug),
		newMemberEditCmd(a, &slug),
		newMemberRoleCmd(a, &slug),
		newMemberTransferOwnerCmd(a, &slug),
		newMemberBulkCmd(a, &slug),
	)
	return cmd
}

func newMemberListCmd(a *app, slug *string) *cobra.Command {
	var opts sdk.ListMembersOptions
	var status string
	cmd := &cobra.Command{
		Use:   "list --tenant SLUG [--status STATUS] [--role ROLE] [--prefix TEXT]",
		Short: "List the members of a tenant",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Status = sdk.Status(status)
			opts.PageSize = sdk.MaxPageSize
			if status != "" {
				if err := oneOf("--status", opts.Status, memberStatuses...); err != nil {
					return err
				}
			}
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				if opts.Role != "" {
					if err := checkRole("--role", opts.Role, t); err != nil {
						return err
					}
				}
				var all []*sdk.Member
				for {
					p, err := c.ListMembers(ctx, t.ID, opts)
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
						all = []*sdk.Member{}
					}
					return a.printJSON(all)
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "EMAIL\tNAME\tROLE\tSTATUS\tID")
				for _, m := range all {
					name := m.Name()
					if name == m.Email {
						name = "-"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.Email, name, m.Role, m.Status, m.ID)
				}
				if err := w.Flush(); err != nil {
					return err
				}
				a.say("%d member(s); %d of %d seat(s) used.", len(all), t.SeatsUsed, t.SeatLimit())
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "only members in this state: invited, active or deactivated")
	f.StringVar(&opts.Role, "role", "", "only members with this role")
	f.StringVar(&opts.Prefix, "prefix", "", "only members whose email or name starts with this")
	return cmd
}

func newMemberAddCmd(a *app, slug *string) *cobra.Command {
	var req sdk.AddMemberRequest
	cmd := &cobra.Command{
		Use:     "add --tenant SLUG --email EMAIL [--given-name NAME] [--family-name NAME] [--role ROLE]",
		Short:   "Add an active member to a tenant",
		Example: "  roster member add --tenant acme --email bob@acme.example --given-name Bob --role admin",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				if req.Role != "" {
					if err := checkGrantableRole("--role", req.Role, t); err != nil {
						return err
					}
				}
				req.TenantID = t.ID
				m, err := c.AddMember(ctx, sdk.SystemActor(), req)
				if err != nil {
					return seatHint(memberErr(err, t.Slug, req.Email), t.Slug)
				}
				if a.jsonOut {
					return a.printJSON(m)
				}
				fmt.Fprintln(a.stdout, m.ID)
				a.say("Added %s to tenant %q as %s.", m.Email, t.Slug, m.Role)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Email, "email", "", "email address (required)")
	f.StringVar(&req.GivenName, "given-name", "", "given name")
	f.StringVar(&req.FamilyName, "family-name", "", "family name")
	f.StringVar(&req.Role, "role", "", "role (default: the tenant's default role)")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

// memberAction is an SDK operation on one member.
type memberAction func(c *sdk.Client, ctx context.Context, actor sdk.Actor, tenantID, memberID string) (*sdk.Member, error)

func newMemberActionCmd(a *app, slug *string, name, short, done string, action memberAction) *cobra.Command {
	return &cobra.Command{
		Use:   name + " --tenant SLUG MEMBER",
		Short: short,
		Long:  short + ".\n\nMEMBER is the member's email address or id.",
		Args:  exactArgs(1, "MEMBER (an email address or id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, m, err := findMember(ctx, c, *slug, args[0])
				if err != nil {
					return err
				}
				m, err = action(c, ctx, sdk.SystemActor(), t.ID, m.ID)
				if err != nil {
					return seatHint(memberErr(err, t.Slug, args[0]), t.Slug)
				}
				if a.jsonOut {
					return a.printJSON(m)
				}
				a.say("%s %s in tenant %q (now %s).", done, m.Email, t.Slug, m.Status)
				return nil
			})
		},
	}
}

func newMemberRemoveCmd(a *app, slug *string) *cobra.Command {
	return &cobra.Command{
		Use:   "remove --tenant SLUG MEMBER",
		Short: "Delete a member permanently and free their seat",
		Long: `Delete a member permanently and free their seat. This cannot be undone.

MEMBER is the member's email address or id.`,
		Args: exactArgs(1, "MEMBER (an email address or id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, m, err := findMember(ctx, c, *slug, args[0])
				if err != nil {
					return err
				}
				if err := c.RemoveMember(ctx, sdk.SystemActor(), t.ID, m.ID); err != nil {
					return memberErr(err, t.Slug, args[0])
				}
				if a.jsonOut {
					return a.printJSON(struct {
						Removed string `json:"removed"`
					}{m.ID})
				}
				a.say("Removed %s from tenant %q.", m.Email, t.Slug)
				return nil
			})
		},
	}
}

// findMember resolves a tenant slug and a member reference: an email
// address (anything with an @) or a member id.
func findMember(ctx context.Context, c *sdk.Client, slug, ref string) (*sdk.Tenant, *sdk.Member, error) {
	t, err := tenantBySlug(ctx, c, slug)
	if err != nil {
		return nil, nil, err
	}
	var m *sdk.Member
	if strings.Contains(ref, "@") {
		m, err = c.MemberByEmail(ctx, t.ID, ref)
	} else {
		m, err = c.Member(ctx, t.ID, ref)
	}
	if err != nil {
		return nil, nil, memberErr(err, t.Slug, ref)
	}
	return t, m, nil
}

// inviteOutput is what 'member invite' and 'member resend' print with
// --json.
type inviteOutput struct {
	Secret     string          `json:"secret"`
	Member     *sdk.Member     `json:"member"`
	Invitation *sdk.Invitation `json:"invitation"`
}

// printInvite prints an invitation's secret (shown this once) on stdout
// and what to do with it on stderr.
func (a *app) printInvite(res *sdk.InviteResult, t *sdk.Tenant, done string) error {
	if a.jsonOut {
		return a.printJSON(inviteOutput{res.Secret, res.Member, res.Invitation})
	}
	fmt.Fprintln(a.stdout, res.Secret)
	a.say("%s %s to tenant %q as %s; the invitation expires at %s.", done, res.Member.Email, t.Slug, res.Member.Role,
		res.Invitation.ExpiresAt.Format(time.RFC3339))
	a.say("The invitation secret is shown once: send it to the invitee (typically in a link to your product's sign-up page).")
	return nil
}

func newMemberInviteCmd(a *app, slug *string) *cobra.Command {
	var req sdk.InviteRequest
	cmd := &cobra.Command{
		Use:   "invite --tenant SLUG --email EMAIL [--role ROLE] [--given-name NAME] [--family-name NAME] [--json]",
		Short: "Invite a member and print the invitation secret on stdout",
		Long: `Invite a member: they are listed as invited, hold a seat, and join when they
accept the invitation with its secret. The secret is printed on stdout this
once (with --json, in a JSON document); Roster keeps only its hash. Resend
issues a new one; revoke withdraws the invitation and frees the seat.`,
		Example: "  roster member invite --tenant acme --email dee@acme.example --role admin",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				if req.Role != "" {
					if err := checkGrantableRole("--role", req.Role, t); err != nil {
						return err
					}
				}
				req.TenantID = t.ID
				res, err := c.Invite(ctx, sdk.SystemActor(), req)
				if err != nil {
					return seatHint(inviteErr(err, t.Slug, req.Email), t.Slug)
				}
				return a.printInvite(res, t, "Invited")
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Email, "email", "", "email address (required)")
	f.StringVar(&req.GivenName, "given-name", "", "given name")
	f.StringVar(&req.FamilyName, "family-name", "", "family name")
	f.StringVar(&req.Role, "role", "", "role (default: the tenant's default role)")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func newMemberResendCmd(a *app, slug *string) *cobra.Command {
	return &cobra.Command{
		Use:   "resend --tenant SLUG MEMBER",
		Short: "Issue a new invitation secret for an invited member and print it on stdout",
		Long: `Issue a new invitation secret and expiry for an invited member and print the
secret on stdout, once; the previous secret stops working. Resends are
limited to a few a day and one a minute.

MEMBER is the member's email address or id.`,
		Args: exactArgs(1, "MEMBER (an email address or id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, m, err := findMember(ctx, c, *slug, args[0])
				if err != nil {
					return err
				}
				res, err := c.Resend(ctx, sdk.SystemActor(), t.ID, m.ID)
				if err != nil {
					return inviteErr(err, t.Slug, args[0])
				}
				return a.printInvite(res, t, "Re-invited")
			})
		},
	}
}

func newMemberRevokeCmd(a *app, slug *string) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke --tenant SLUG MEMBER",
		Short: "Withdraw a pending invitation: the invited member is removed and the seat freed",
		Long: `Withdraw a pending invitation: the invited member is removed, freeing the
seat and the address, and the invitation's secret says it was revoked.

MEMBER is the member's email address or id.`,
		Args: exactArgs(1, "MEMBER (an email address or id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, m, err := findMember(ctx, c, *slug, args[0])
				if err != nil {
					return err
				}
				if err := c.Revoke(ctx, sdk.SystemActor(), t.ID, m.ID); err != nil {
					return inviteErr(err, t.Slug, args[0])
				}
				if a.jsonOut {
					return a.printJSON(struct {
						Revoked string `json:"revoked"`
					}{m.ID})
				}
				a.say("Revoked the invitation of %s to tenant %q; the seat is free.", m.Email, t.Slug)
				return nil
			})
		},
	}
}

// inviteErr phrases the errors of invitation operations on member ref.
func inviteErr(err error, slug, ref string) error {
	switch sdk.ReasonOf(err) {
	case sdk.ReasonInvitationUsed, sdk.ReasonInvitationRevoked, sdk.ReasonResendRateLimited:
		return errorf(err, "%s: %s", ref, reasonMessage(err))
	}
	return memberErr(err, slug, ref)
}
