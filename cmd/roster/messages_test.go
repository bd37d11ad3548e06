package main

import "testing"

// TestValidationMessages: values a command cannot take are usage errors
// (exit 2) that name the flag, the value and what it takes, and point at
// the subcommand's help.
func TestValidationMessages(t *testing.T) {
	t.Parallel()
	st, _, _ := newAcme(t, 3)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tenant", "settings", "acme", "--require-mfa=maybe"}, `--require-mfa "maybe": use true or false`},
		{[]string{"tenant", "settings", "acme", "--unique-email-across-tenants=si"}, `--unique-email-across-tenants "si": use true or false`},
		{[]string{"member", "add", "--tenant", "acme", "--email", "x@acme.test", "--role", "bogus"}, `--role "bogus": tenant "acme" has no such role; use one of owner, admin, standard`},
		{[]string{"member", "invite", "--tenant", "acme", "--email", "x@acme.test", "--role", "bogus"}, `--role "bogus": tenant "acme" has no such role; use one of owner, admin, standard`},
		{[]string{"tenant", "create", "beta", "--owner-email", "a@b.test", "--seats", "ten"}, `--seats "ten": give a whole number of seats`},
		{[]string{"member", "list", "--tenant", "acme", "--role", "bogus"}, `use one of owner, admin, standard`},
		{[]string{"tenant", "settings", "acme", "--default-role", "owner"}, `--default-role "owner": the owner's role moves only with the ownership ('roster member transfer-owner --tenant acme MEMBER'); use one of admin, standard`},
		{[]string{"tenant", "settings", "acme", "--successor-role", "owner"}, `use one of admin, standard`},
		{[]string{"tenant", "settings", "acme", "--seat-states", ""}, `--seat-states: give at least one of invited, active, deactivated`},
		{[]string{"member", "add", "--tenant", "acme", "--email", "x@acme.test", "--role", "owner"}, `--role "owner": the owner's role moves only with the ownership`},
	} {
		r := rosterOn(t, st, tc.args...)
		wantCode(t, r, 2, tc.want)
		wantCode(t, r, 2, "Run 'roster "+tc.args[0]+" "+tc.args[1]+" --help' for usage.")
	}
	// A full tenant's refusal names the command that buys seats, and a
	// seat removal that cannot happen says how many could go.
	wantCode(t, rosterOn(t, st, "member", "add", "--tenant", "acme", "--email", "x@acme.test"), 1, "run 'roster tenant seats acme --add N' to buy more")
	wantCode(t, rosterOn(t, st, "tenant", "seats", "acme", "--remove", "1"), 1, "(no extra seat is free to remove now)")
}
