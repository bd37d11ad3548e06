package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rosterhq/roster/sdk"
)

// tenantDeleted is the --json output of 'roster tenant delete'.
type tenantDeleted struct {
	Deleted bool        `json:"deleted"`
	Tenant  *sdk.Tenant `json:"tenant"`
	// Members is the number of members the tenant had (counted before the
	// deletion; -1 when finishing a deletion that had started).
	Members int `json:"members"`
}

func newTenantDeleteCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete SLUG [--yes]",
		Short: "Delete a tenant and everything it holds, permanently",
		Long: `Delete a tenant and everything it holds — members, their passwords, invitations,
groups, SCIM tokens and the audit log — permanently. Its slug is free again afterwards.

On a terminal it asks you to type the slug again. Elsewhere (a script, a pipe) it
refuses unless --yes is given. A deletion that stopped half-way (a crash, on MongoDB,
which deletes in steps) leaves the tenant answering "being deleted"; running the
command again finishes it.`,
		Example: "  roster tenant delete acme\n  roster tenant delete acme --yes --json",
		Args:    exactArgs(1, "SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			slug := strings.ToLower(strings.TrimSpace(args[0]))
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, members, err := tenantToDelete(ctx, c, slug)
				if err != nil {
					return err
				}
				if !yes {
					if err := a.confirmSlug(t, members); err != nil {
						return err
					}
				}
				if err := c.DeleteTenant(ctx, sdk.SystemActor(), t.ID); err != nil {
					if sdk.ReasonOf(err) == sdk.ReasonVersionMismatch {
						return errorf(err, "tenant %q changed while it was being deleted (%s); nothing was deleted: run the command again", slug, sdk.ReasonVersionMismatch)
					}
					return err
				}
				if a.jsonOut {
					return a.printJSON(tenantDeleted{Deleted: true, Tenant: t, Members: members})
				}
				if members < 0 {
					fmt.Fprintf(a.stdout, "finished deleting tenant %s (%s)\n", t.Slug, t.ID)
				} else {
					fmt.Fprintf(a.stdout, "deleted tenant %s (%s): %d %s and their groups, invitations, tokens and audit log\n", t.Slug, t.ID, members, plural(members, "member", "members"))
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking for the slug again (needed when standard input is not a terminal)")
	return cmd
}

// tenantToDelete finds the tenant with slug, and how many members it has.
// A tenant whose deletion stopped half-way is found too (members -1), so
// that the command can finish it.
func tenantToDelete(ctx context.Context, c *sdk.Client, slug string) (*sdk.Tenant, int, error) {
	t, err := c.TenantBySlug(ctx, slug)
	if sdk.ReasonOf(err) == sdk.ReasonTenantDeleting {
		t, err := deletingTenant(ctx, c, slug)
		return t, -1, err
	}
	if err != nil {
		_, err = tenantBySlug(ctx, c, slug)
		return nil, 0, err
	}
	n, err := c.CountMembers(ctx, t.ID, sdk.ListMembersOptions{})
	if err != nil {
		return nil, 0, err
	}
	return t, n, nil
}

// deletingTenant finds the tenant with slug among those whose deletion
// has not finished.
func deletingTenant(ctx context.Context, c *sdk.Client, slug string) (*sdk.Tenant, error) {
	after := ""
	for {
		page, err := c.ListTenants(ctx, sdk.ListOptions{PageSize: 500, Cursor: after})
		if err != nil {
			return nil, err
		}
		for _, t := range page.Items {
			if t.Slug == slug && t.Deleting {
				return t, nil
			}
		}
		if page.NextCursor == "" {
			return nil, errorf(sdk.ErrNotFound, "no tenant with slug %q (list them with 'roster tenant list')", slug)
		}
		after = page.NextCursor
	}
}

// confirmSlug asks the person at the terminal to type the tenant's slug
// again, and refuses when standard input is not a terminal.
func (a *app) confirmSlug(t *sdk.Tenant, members int) error {
	in := a.input()
	if !readerIsTerminal(in) {
		return usageError{fmt.Errorf("refusing to delete tenant %q without confirmation: standard input is not a terminal, so give --yes", t.Slug)}
	}
	what := "everything it holds"
	if members >= 0 {
		what = fmt.Sprintf("its %d %s and everything else it holds", members, plural(members, "member", "members"))
	}
	fmt.Fprintf(a.stderr, "This deletes tenant %s (%s) and %s, permanently.\nType the slug to confirm: ", t.Slug, t.ID, what)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if strings.TrimSpace(line) != t.Slug {
		return errorf(nil, "the slug typed (%q) is not %q: nothing was deleted", strings.TrimSpace(line), t.Slug)
	}
	return nil
}

// terminalReader is a standard input that knows whether it is a terminal;
// tests use it to stand in for one.
type terminalReader interface {
	io.Reader
	IsTerminal() bool
}

// readerIsTerminal reports whether r is a terminal.
func readerIsTerminal(r io.Reader) bool {
	switch r := r.(type) {
	case terminalReader:
		return r.IsTerminal()
	case *os.File:
		return term.IsTerminal(int(r.Fd()))
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
