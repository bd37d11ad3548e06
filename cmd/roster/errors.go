package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rosterhq/roster/sdk"
)

// cliError is an error already phrased for the person at the terminal.
type cliError struct {
	msg string
	err error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.err }

func errorf(cause error, format string, args ...any) error {
	return &cliError{msg: fmt.Sprintf(format, args...), err: cause}
}

// flagOf maps the request fields the SDK names in invalid-argument errors
// to the flags that set them.
var flagOf = map[string]string{
	"Slug":            "tenant slug",
	"Name":            "--name",
	"OwnerEmail":      "--owner-email",
	"OwnerGivenName":  "--owner-given-name",
	"OwnerFamilyName": "--owner-family-name",
	"IncludedSeats":   "--seats",
	"RolePreset":      "--roles",
	"Email":           "--email",
	"GivenName":       "--given-name",
	"FamilyName":      "--family-name",
	"Role":            "--role",
	"Status":          "--status",
	"Prefix":          "--prefix",
	"Deprovision":     "--deprovision",
	"Records":         "--file",
}

// friendly turns an error into the sentence printed after "roster: ".
// Commands phrase the errors whose context they know (which slug, which
// member) as a cliError; this covers the rest.
func friendly(err error) string {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.msg
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out: " + err.Error()
	}
	var se *sdk.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	switch se.Code {
	case sdk.CodeInvalidArgument:
		if f := sdk.FieldOf(err); f != "" {
			name, ok := flagOf[f]
			if !ok {
				name = f
			}
			return name + ": " + se.Message
		}
	case sdk.CodeUnknown:
		return err.Error()
	}
	if se.Message != "" {
		return se.Message
	}
	return err.Error()
}

// tenantErr phrases the errors of an operation on the tenant with slug.
func tenantErr(err error, slug string) error {
	switch {
	case err == nil:
		return nil
	case sdk.ReasonOf(err) == sdk.ReasonSlugTaken:
		return errorf(err, "tenant slug %q is taken", slug)
	case sdk.FieldOf(err) == "Slug" && errors.Is(err, sdk.ErrInvalidArgument):
		return errorf(err, "%q is not a valid tenant slug: use 1 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit (for example %q)", slug, "acme-eu")
	}
	return err
}

// memberErr phrases the errors of an operation on member ref (an email
// address or id) of tenant slug.
func memberErr(err error, slug, ref string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sdk.ErrNotFound):
		return errorf(err, "tenant %q has no member %q (list them with 'roster member list --tenant %s')", slug, ref, slug)
	case sdk.ReasonOf(err) == sdk.ReasonEmailTaken:
		return errorf(err, "%q is already a member of tenant %q", ref, slug)
	case sdk.ReasonOf(err) == sdk.ReasonTargetIsOwner:
		return errorf(err, "%s is the owner of tenant %q and cannot be changed this way (%s): transfer ownership first with 'roster member transfer-owner --tenant %s MEMBER'", ref, slug, sdk.ReasonTargetIsOwner, slug)
	case sdk.ReasonOf(err) == sdk.ReasonSeatLimit:
		return errorf(err, "tenant %q has no free seat: %s", slug, reasonMessage(err))
	case sdk.ReasonOf(err) == sdk.ReasonUnknownRole && errors.Is(err, sdk.ErrInvalidArgument):
		return errorf(err, "--role: %s", reasonMessage(err))
	}
	return err
}

func reasonMessage(err error) string {
	var se *sdk.Error
	if errors.As(err, &se) && se.Message != "" {
		return se.Message
	}
	return err.Error()
}
