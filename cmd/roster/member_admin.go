package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

// input is the command's standard input.
func (a *app) input() io.Reader {
	if a.stdin == nil {
		return os.Stdin
	}
	return a.stdin
}

func newMemberShowCmd(a *app, slug *string) *cobra.Command {
	return &cobra.Command{
		Use:   "show --tenant SLUG MEMBER",
		Short: "Show a member",
		Long:  "Show a member.\n\nMEMBER is the member's email address or id.",
		Args:  exactArgs(1, "MEMBER (an email address or id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, m, err := findMember(ctx, c, *slug, args[0])
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(m)
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(w, "email\t%s\n", m.Email)
				fmt.Fprintf(w, "given-name\t%s\n", m.GivenName)
				fmt.Fprintf(w, "family-name\t%s\n", m.FamilyName)
				role := m.Role
				if m.ID == t.OwnerID {
					role += " (owner)"
				}
				fmt.Fprintf(w, "role\t%s\n", role)
				fmt.Fprintf(w, "status\t%s\n", m.Status)
				fmt.Fprintf(w, "mfa\t%t\n", m.MFAEnrolled)
				fmt.Fprintf(w, "id\t%s\n", m.ID)
				fmt.Fprintf(w, "created\t%s\n", m.CreatedAt.Format(time.RFC3339))
				return w.Flush()
			})
		},
	}
}

func newMemberEditCmd(a *app, slug *string) *cobra.Command {
	var email, given, family string
	var pwStdin bool
	cmd := &cobra.Command{
		Use:   "edit --tenant SLUG MEMBER [--email E] [--given-name G] [--family-name F] [--password-stdin]",
		Short: "Change a member's email address, names or password",
		Long: `Change a member's email address, names or password. --password-stdin reads
the new password from the first line of standard input, so that it stays
out of the shell's history; setting it ends the member's sessions.

MEMBER is the member's email address or id.`,
		Example: "  printf '%s\\n' \"$PW\" | roster member edit --tenant acme bob@acme.example --password-stdin",
		Args:    exactArgs(1, "MEMBER (an email address or id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			if !fs.Changed("email") && !fs.Changed("given-name") && !fs.Changed("family-name") && !pwStdin {
				return usageError{errors.New("nothing to change: give --email, --given-name, --family-name or --password-stdin")}
			}
			if pwStdin && fs.Changed("email") {
				return usageError{errors.New("--email and --password-stdin cannot be combined: change the email address and the password in two runs")}
			}
			var pw *string
			if pwStdin {
				line, err := bufio.NewReader(a.input()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("reading the password from standard input: %w", err)
				}
				line = strings.TrimRight(line, "\r\n")
				if line == "" {
					return usageError{errors.New("--password-stdin: standard input has no password on its first line")}
				}
				pw = &line
			}
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, m, err := findMember(ctx, c, *slug, args[0])
				if err != nil {
					return err
				}
				opt := func(flag, v string) *string {
					if fs.Changed(flag) {
						return &v
					}
					return nil
				}
				if pw == nil {
					m, err = c.UpdateProfile(ctx, sdk.SystemActor(), sdk.UpdateProfileRequest{
						TenantID: t.ID, MemberID: m.ID,
						Email: opt("email", email), GivenName: opt("given-name", given), FamilyName: opt("family-name", family)})
				} else {
					req := sdk.UpdateMemberRequest{TenantID: t.ID, MemberID: m.ID, Password: pw}
					if fs.Changed("given-name") {
						req.GivenName = given
						req.Fields = append(req.Fields, sdk.FieldGivenName)
					}
					if fs.Changed("family-name") {
						req.FamilyName = family
						req.Fields = append(req.Fields, sdk.FieldFamilyName)
					}
					m, err = c.UpdateMember(ctx, sdk.SystemActor(), req)
				}
				if sdk.FieldOf(err) == "Password" {
					return errorf(err, "--password-stdin: %s", reasonMessage(err))
				}
				if err != nil {
					if !fs.Changed("email") {
						email = ""
					}
					return editErr(err, t.Slug, args[0], email)
				}
				if a.jsonOut {
					return a.printJSON(m)
				}
				a.say("Updated %s in tenant %q.", m.Email, t.Slug)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "new email address")
	f.StringVar(&given, "given-name", "", "new given name")
	f.StringVar(&family, "family-name", "", "new family name")
	f.BoolVar(&pwStdin, "password-stdin", false, "read a new password from the first line of standard input")
	return cmd
}

// editErr phrases the errors of 'member edit' on member ref of tenant
// slug: a taken address is the new one (email), not the member's.
func editErr(err error, slug, ref, email string) error {
	if email == "" {
		return memberErr(err, slug, ref)
	}
	switch sdk.ReasonOf(err) {
	case sdk.ReasonEmailTaken, sdk.ReasonUserNameTaken:
		return errorf(err, "%q is already a member of tenant %q: choose another --email for %s", email, slug, ref)
	case sdk.ReasonEmailTakenElsewhere:
		return errorf(err, "--email %q: %s (addresses are unique across tenants here): choose another --email for %s", email, reasonMessage(err), ref)
	}
	return memberErr(err, slug, ref)
}

func newMemberRoleCmd(a *app, slug *string) *cobra.Command {
	return &cobra.Command{
		Use:     "role --tenant SLUG MEMBER ROLE",
		Short:   "Give a member another role",
		Long:    "Give a member another role. The owner role moves only with 'roster member transfer-owner'.\n\nMEMBER is the member's email address or id.",
		Example: "  roster member role --tenant acme bob@acme.example admin",
		Args:    exactArgs(2, "MEMBER (an email address or id) and ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, role := args[0], args[1]
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, m, err := findMember(ctx, c, *slug, ref)
				if err != nil {
					return err
				}
				if err := checkRole("ROLE", role, t); err != nil {
					return err
				}
				if role == t.OwnerRole() {
					return usageError{fmt.Errorf("%q is the owner's role and moves only with the ownership: run 'roster member transfer-owner --tenant %s %s'", role, t.Slug, ref)}
				}
				if m.ID == t.OwnerID {
					return errorf(sdk.ErrPermissionDenied, "%s is the owner of tenant %q and keeps the owner role; run 'roster member transfer-owner --tenant %s NEW-OWNER' first", ref, t.Slug, t.Slug)
				}
				m, err = c.ChangeRole(ctx, sdk.SystemActor(), t.ID, m.ID, role)
				if err != nil {
					return memberErr(err, t.Slug, ref)
				}
				if a.jsonOut {
					return a.printJSON(m)
				}
				a.say("%s in tenant %q now has the role %s.", m.Email, t.Slug, m.Role)
				return nil
			})
		},
	}
}

func newMemberTransferOwnerCmd(a *app, slug *string) *cobra.Command {
	return &cobra.Command{
		Use:   "transfer-owner --tenant SLUG MEMBER",
		Short: "Make an active member the owner of the tenant",
		Long: `Make an active member the owner of the tenant. The old owner receives the
tenant's successor role ('roster tenant settings SLUG' shows it).

MEMBER is the member's email address or id.`,
		Args: exactArgs(1, "MEMBER (an email address or id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, m, err := findMember(ctx, c, *slug, args[0])
				if err != nil {
					return err
				}
				if m.ID == t.OwnerID {
					a.say("%s already owns tenant %q.", m.Email, t.Slug)
					if a.jsonOut {
						return a.printJSON(t)
					}
					return nil
				}
				nt, err := c.TransferOwnership(ctx, sdk.SystemActor(), t.ID, m.ID)
				switch {
				case sdk.ReasonOf(err) == sdk.ReasonTargetNotActive || sdk.ReasonOf(err) == sdk.ReasonInactive:
					next := "roster member reactivate --tenant " + t.Slug + " " + args[0]
					if m.Status == sdk.StatusInvited {
						next = "roster member resend --tenant " + t.Slug + " " + args[0] + "' and wait for the invitation to be accepted"
						return errorf(err, "%s is %s, and only an active member can own tenant %q: run '%s", args[0], m.Status, t.Slug, next)
					}
					return errorf(err, "%s is %s, and only an active member can own tenant %q: run '%s' first", args[0], m.Status, t.Slug, next)
				case err != nil:
					return memberErr(err, t.Slug, args[0])
				}
				if a.jsonOut {
					return a.printJSON(nt)
				}
				a.say("%s now owns tenant %q; the previous owner has the role %s.", m.Email, nt.Slug, nt.SuccessorRole())
				return nil
			})
		},
	}
}
