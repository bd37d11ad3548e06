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

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

// bulkOutcome is the result of one line of a bulk file.
type bulkOutcome struct {
	Line     int         `json:"line"`
	Member   string      `json:"member"`             // as written in the file
	MemberID string      `json:"memberId,omitempty"` // when it was found
	OK       bool        `json:"ok"`
	Reason   string      `json:"reason,omitempty"` // the SDK's reason, or not_found when the line names no member
	Error    string      `json:"error,omitempty"`
	Result   *sdk.Member `json:"result,omitempty"`
}

type bulkReport struct {
	Action    string        `json:"action"`
	Items     []bulkOutcome `json:"items"`
	Succeeded int           `json:"succeeded"`
	Failed    int           `json:"failed"`
}

func newMemberBulkCmd(a *app, slug *string) *cobra.Command {
	var file, role string
	cmd := &cobra.Command{
		Use:   "bulk remove|logout|role --tenant SLUG --file F|- [--role R]",
		Short: "Remove, log out or change the role of many members, one email address or id a line",
		Long: `Remove, log out or change the role of the members listed in a file (- for
standard input), one email address or member id a line; empty lines and
lines starting with # are skipped. Each member is handled on its own: a
failure is reported for its line and never stops the others. The exit
status is 1 when any line failed.`,
		Example: "  roster member bulk role --tenant acme --file leads.txt --role admin",
		Args:    exactArgs(1, "remove, logout or role"),
		RunE: func(cmd *cobra.Command, args []string) error {
			action := args[0]
			if err := oneOf("bulk action", action, "remove", "logout", "role"); err != nil {
				return err
			}
			if action == "role" && role == "" {
				return usageError{errors.New("bulk role needs --role ROLE")}
			}
			if action != "role" && role != "" {
				return usageError{fmt.Errorf("--role applies to 'bulk role' only, not 'bulk %s'", action)}
			}
			refs, lines, err := readBulkFile(a, file)
			if err != nil {
				return err
			}
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				if action == "role" {
					if err := checkGrantableRole("--role", role, t); err != nil {
						return err
					}
					if role == t.OwnerRole() {
						return usageError{fmt.Errorf("--role %q is the owner's role and moves only with 'roster member transfer-owner --tenant %s MEMBER'", role, t.Slug)}
					}
				}
				rep := bulkReport{Action: action, Items: make([]bulkOutcome, len(refs))}
				var ids []string
				var at []int                  // at[i] is the item of ids[i]
				firstLine := map[string]int{} // member id → the first line naming it
				for i, ref := range refs {
					o := bulkOutcome{Line: lines[i], Member: ref}
					m, err := lookupMember(ctx, c, t.ID, ref)
					if err != nil {
						o.Reason, o.Error = string(sdk.ReasonOf(err)), friendly(memberErr(err, t.Slug, ref))
						if o.Reason == "" && errors.Is(err, sdk.ErrNotFound) {
							o.Reason = "not_found"
						}
					} else {
						o.MemberID = m.ID
						ids = append(ids, m.ID)
						at = append(at, i)
						if _, seen := firstLine[m.ID]; !seen {
							firstLine[m.ID] = o.Line
						}
					}
					rep.Items[i] = o
				}
				if len(ids) > 0 {
					var res *sdk.BulkResult
					switch action {
					case "remove":
						res, err = c.BulkRemove(ctx, sdk.SystemActor(), t.ID, ids)
					case "logout":
						res, err = c.BulkForceLogout(ctx, sdk.SystemActor(), t.ID, ids)
					default:
						res, err = c.BulkChangeRole(ctx, sdk.SystemActor(), t.ID, ids, role)
					}
					if err != nil {
						return err
					}
					for j, it := range res.Items {
						o := &rep.Items[at[j]]
						switch {
						case sdk.ReasonOf(it.Err) == sdk.ReasonDuplicateItem:
							// The SDK numbers the items it was given, not the
							// file's lines.
							o.Reason = string(sdk.ReasonOf(it.Err))
							o.Error = fmt.Sprintf("listed twice: line %d names the same member; delete this line", firstLine[o.MemberID])
							continue
						case it.Err != nil:
							o.Reason, o.Error = string(sdk.ReasonOf(it.Err)), bulkItemErr(it.Err, t, o.Member)
							continue
						}
						o.OK, o.Result = true, it.Member
					}
				}
				for _, o := range rep.Items {
					if o.OK {
						rep.Succeeded++
					} else {
						rep.Failed++
					}
				}
				if a.jsonOut {
					if err := a.printJSON(rep); err != nil {
						return err
					}
				} else {
					w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(w, "LINE\tMEMBER\tRESULT")
					for _, o := range rep.Items {
						res := "ok"
						if !o.OK {
							res = "failed: " + o.Error
						}
						fmt.Fprintf(w, "%d\t%s\t%s\n", o.Line, o.Member, res)
					}
					if err := w.Flush(); err != nil {
						return err
					}
				}
				if rep.Failed > 0 {
					return errorf(nil, "bulk %s: %d of %d member(s) failed; fix the failed lines and run again with only them", action, rep.Failed, len(rep.Items))
				}
				a.say("bulk %s: %d member(s) done in tenant %q.", action, rep.Succeeded, t.Slug)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "file", "", "file of email addresses or member ids, one a line; - for standard input (required)")
	f.StringVar(&role, "role", "", "the role to give, for 'bulk role'")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// readBulkFile reads the member references of a bulk file (- is standard
// input) and the line number of each.
func readBulkFile(a *app, name string) ([]string, []int, error) {
	var r io.Reader
	if name == "-" {
		r = a.input()
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, errorf(err, "--file: %v", err)
		}
		defer f.Close()
		r = f
	}
	var refs []string
	var lines []int
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		refs = append(refs, s)
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, errorf(err, "--file %s: %v", name, err)
	}
	if len(refs) == 0 {
		return nil, nil, usageError{fmt.Errorf("--file %s lists no member: give one email address or id a line", name)}
	}
	if len(refs) > sdk.MaxBulkItems {
		return nil, nil, usageError{fmt.Errorf("--file %s lists %d members; at most %d a run: split the file", name, len(refs), sdk.MaxBulkItems)}
	}
	return refs, lines, nil
}

// lookupMember finds a member of a tenant by email address (anything with
// an @) or id.
func lookupMember(ctx context.Context, c *sdk.Client, tenantID, ref string) (*sdk.Member, error) {
	if strings.Contains(ref, "@") {
		return c.MemberByEmail(ctx, tenantID, ref)
	}
	return c.Member(ctx, tenantID, ref)
}

// bulkItemErr phrases the failure of one bulk item on member ref.
func bulkItemErr(err error, t *sdk.Tenant, ref string) string {
	switch sdk.ReasonOf(err) {
	case sdk.ReasonTargetIsOwner, sdk.ReasonSelfAction:
		return fmt.Sprintf("%s is the owner of tenant %q; run 'roster member transfer-owner --tenant %s NEW-OWNER' first", ref, t.Slug, t.Slug)
	}
	return friendly(memberErr(err, t.Slug, ref))
}
