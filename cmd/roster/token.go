package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/sdk"
)

func newTokenCmd(a *app) *cobra.Command {
	var slug string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the SCIM tokens of a tenant",
		Long: `Create, list and revoke the SCIM bearer tokens of a tenant. An identity
provider (Okta, Microsoft Entra ID, ...) provisions the tenant's members at
the SCIM base URL /scim/v2/SLUG of 'roster serve' with one of them. A
token is shown once, when it is created; Roster stores only its hash.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&slug, "tenant", "", "slug of the tenant (required)")
	_ = cmd.MarkPersistentFlagRequired("tenant")
	cmd.AddCommand(newTokenCreateCmd(a, &slug), newTokenListCmd(a, &slug), newTokenRevokeCmd(a, &slug))
	return cmd
}

func newTokenCreateCmd(a *app, slug *string) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "create --tenant SLUG [--name NAME]",
		Short: "Create a SCIM token and print it on stdout",
		Long: `Create a SCIM bearer token for a tenant and print it, alone, on stdout.
It is shown this once: store it now (in the identity provider's SCIM
settings, or a secret manager).`,
		Example: "  roster token create --tenant acme --name okta > okta-token.txt",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				secret, tok, err := c.CreateToken(ctx, sdk.SystemActor(), t.ID, name)
				if err != nil {
					return tokenErr(err, t.Slug, "")
				}
				fmt.Fprintln(a.stdout, secret)
				a.say("Created SCIM token %q (id %s) for tenant %q.", tok.Name, tok.ID, t.Slug)
				a.say("It is shown once; store it now. Roster keeps only its hash.")
				a.say("SCIM base URL: /scim/v2/%s on the roster server, for example %s/scim/v2/%s", t.Slug, a.exampleURL(), t.Slug)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a name to tell tokens apart, such as okta or entra (default scim)")
	return cmd
}

func newTokenListCmd(a *app, slug *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list --tenant SLUG [--json]",
		Short: "List the SCIM tokens of a tenant (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				toks, err := c.ListTokens(ctx, sdk.SystemActor(), t.ID)
				if err != nil {
					return tokenErr(err, t.Slug, "")
				}
				if a.jsonOut {
					if toks == nil {
						toks = []*sdk.Token{}
					}
					return a.printJSON(toks)
				}
				if len(toks) == 0 {
					a.say("Tenant %q has no SCIM tokens. Create one with: roster token create --tenant %s", t.Slug, t.Slug)
					return nil
				}
				w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tENDS WITH\tCREATED\tLAST USED")
				for _, k := range toks {
					used := "never"
					if !k.LastUsedAt.IsZero() {
						used = k.LastUsedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(w, "%s\t%s\t…%s\t%s\t%s\n", k.ID, k.Name, k.Hint, k.CreatedAt.Format(time.RFC3339), used)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&a.jsonOut, "json", false, "print JSON on stdout instead of a table")
	return cmd
}

func newTokenRevokeCmd(a *app, slug *string) *cobra.Command {
	var ttl knob
	cmd := &cobra.Command{
		Use:   "revoke --tenant SLUG ID [--token-cache-ttl 10s]",
		Short: "Revoke a SCIM token: servers refuse it within their token cache TTL",
		Long: `Revoke a SCIM token. A server remembers a valid token for its
--token-cache-ttl (` + envTokenCacheTTL + `, default 10s), so servers stop accepting
a revoked token within that time; give the same value here (or set the
variable for both) and the message says how long.`,
		Args: exactArgs(1, "ID (a token id, from 'roster token list')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ttl.resolve(cmd.Flags(), a.getenv)
			within, err := ttl.tokenCacheTTL()
			if err != nil {
				return err
			}
			return a.withClient(cmd, openAdmin, func(ctx context.Context, c *sdk.Client) error {
				t, err := tenantBySlug(ctx, c, *slug)
				if err != nil {
					return err
				}
				if err := c.RevokeToken(ctx, sdk.SystemActor(), t.ID, args[0]); err != nil {
					return tokenErr(err, t.Slug, args[0])
				}
				if within <= 0 {
					a.say("Revoked SCIM token %s of tenant %q; requests bearing it now fail.", args[0], t.Slug)
				} else {
					a.say("Revoked SCIM token %s of tenant %q; servers stop accepting it within %s (their token cache TTL, --token-cache-ttl).", args[0], t.Slug, shortDuration(within))
				}
				return nil
			})
		},
	}
	tokenCacheTTLKnob(cmd.Flags(), &ttl, "how long servers remember a valid token, as given to 'roster serve'")
	return cmd
}

// tokenErr phrases the errors of token operations on tenant slug.
func tokenErr(err error, slug, id string) error {
	switch {
	case id != "" && errors.Is(err, sdk.ErrNotFound):
		return errorf(err, "tenant %q has no token %q (list them with 'roster token list --tenant %s')", slug, id, slug)
	}
	return err
}

// exampleURL is the base URL a server started with the current settings
// would have, for messages.
func (a *app) exampleURL() string {
	addr := a.getenv(envAddr)
	if addr == "" {
		addr = defaultAddr
	}
	return "http://" + addr
}

// shortDuration writes d without trailing zero units: 1m, not 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
