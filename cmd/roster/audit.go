package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

// parseSince reads --since: an RFC 3339 time, a date, or a duration
// before now such as 24h.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError{fmt.Errorf("--since %q: give an RFC 3339 time (2026-01-02T15:04:05Z), a date (2026-01-02) or a duration before now (24h)", s)}
}

// auditPage is what 'audit list --json' prints.
type auditPage struct {
	Events     []*sdk.AuditEvent `json:"events"`
	NextCursor string            `json:"nextCursor,omitempty"`
}

func newAuditCmd(a *app) *cobra.Command {
	var slug string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read a tenant's audit log",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&slug, "tenant", "", "slug of the tenant (required)")
	pf.BoolVar(&a.jsonOut, "json", false, "print JSON on stdout instead of a table")
	_ = cmd.MarkPersistentFlagRequired("tenant")
	cmd.AddCommand(newAuditListCmd(a, &slug))
	return cmd
}

func newAuditListCmd(a *app, slug *string) *cobra.Command {
	var member, action, channel, since, limit, cursor string
	cmd := &cobra.Command{
		Use:   "list --tenant SLUG [--member M] [--action A] [--channel C] [--since T] [--limit N] [--cursor C]",
		Short: "List a tenant's audit events, newest first",
		Long: `List a tenant's audit events, newest first, a page at a time: when there are
more, the command says how to get the next page (--cursor).

--member selects the events about a member (its email address or id; an id
also finds a removed member's events). --channel selects the events that came
through one path: sdk (a member acting through the host application), scim (an
identity provider), sync (an HR sync) or system (the host or this command line).
--since takes an RFC 3339 time, a date, or a duration before now such as 24h.`,
		Example: "  roster audit list --tenant acme --member bob@acme.example --since 168h",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts sdk.AuditListOptions
			opts.Cursor = cursor
			if action != "" {
				if err := oneOf("--action", sdk.EventType(action), sdk.AuditActions...); err != nil {
					return err
				}
				opts.Action = action
			}
			if channel != "" {
				if err := oneOf("--channel", channel, sdk.AuditChannels...); err != nil {
					return err
				}
				opts.Channel = channel
			}
			if limit != "" {
				n, err := strconv.Atoi(strings.TrimSpace(limit))
				if err != nil || n < 1 || n > sdk.MaxPageSize {
					return usageError{fmt.Errorf("--limit %q: give a whole number of events from 1 to %d", limit, sdk.MaxPageSize)}
				}
				opts.PageSize = n
			}
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				if since != "" {
					t, err := parseSince(since, c.Now())
					if err != nil {
						return err
					}
					opts.Since = t
				}
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				if member != "" {
					opts.TargetID = member
					if strings.Contains(member, "@") {
						m, err := c.MemberByEmail(ctx, t.ID, member)
						if err != nil {
							if errors.Is(err, sdk.ErrNotFound) {
								return errorf(err, "tenant %q has no member %q; the events of a removed member are found by its id (--member ID)", t.Slug, member)
							}
							return err
						}
						opts.TargetID = m.ID
					}
				}
				p, err := c.AuditLog(ctx, sdk.SystemActor(), t.ID, opts)
				if sdk.FieldOf(err) == "Cursor" || (err != nil && cursor != "" && errors.Is(err, sdk.ErrInvalidArgument)) {
					return usageError{fmt.Errorf("--cursor %q: %s; use the cursor a previous 'roster audit list' printed", cursor, reasonMessage(err))}
				}
				if err != nil {
					return err
				}
				if a.jsonOut {
					evs := p.Items
					if evs == nil {
						evs = []*sdk.AuditEvent{}
					}
					return a.printJSON(auditPage{evs, p.NextCursor})
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "TIME\tACTION\tCHANNEL\tACTOR\tTARGET")
				for _, e := range p.Items {
					actor := string(e.ActorKind)
					if e.ActorID != "" && e.ActorID != actor {
						actor += ":" + e.ActorID
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Action, dash(e.Channel), actor, dash(e.TargetID))
				}
				if err := w.Flush(); err != nil {
					return err
				}
				if p.NextCursor != "" {
					a.say("More events: add --cursor %s", p.NextCursor)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&member, "member", "", "only events about this member (email address or id)")
	f.StringVar(&action, "action", "", "only events of this action, e.g. member.role_changed")
	f.StringVar(&channel, "channel", "", "only events that came through this channel: "+strings.Join(sdk.AuditChannels, ", "))
	f.StringVar(&since, "since", "", "only events at or after this time")
	f.StringVar(&limit, "limit", "", fmt.Sprintf("events a page, 1 to %d (default %d)", sdk.MaxPageSize, sdk.DefaultPageSize))
	f.StringVar(&cursor, "cursor", "", "continue after a previous page")
	return cmd
}
