package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/sdk"
)

// scimError is the error body of RFC 7644 §3.12. It is elimity's type, so
// that errors returned from the resource callbacks elimity runs keep their
// status and detail.
type scimError = scimerrors.ScimError

// scimType values of RFC 7644 §3.12, Table 9.
const (
	typeInvalidFilter = scimerrors.ScimTypeInvalidFilter
	typeTooMany       = scimerrors.ScimTypeTooMany
	typeUniqueness    = scimerrors.ScimTypeUniqueness
	typeMutability    = scimerrors.ScimTypeMutability
	typeInvalidSyntax = scimerrors.ScimTypeInvalidSyntax
	typeInvalidPath   = scimerrors.ScimTypeInvalidPath
	typeNoTarget      = scimerrors.ScimTypeNoTarget
	typeInvalidValue  = scimerrors.ScimTypeInvalidValue
)

func badRequest(t scimerrors.ScimType, format string, args ...any) scimError {
	return scimError{Status: http.StatusBadRequest, ScimType: t, Detail: fmt.Sprintf(format, args...)}
}

// Messages of refusals an identity-provider admin has to act on.
const (
	detailSeatLimit = "The tenant's seat limit is reached: buy more seats or remove a member in Roster, then retry."
	detailOwner     = "This user is the tenant's owner and cannot be deactivated, deleted or changed through SCIM: " +
		"transfer ownership to another member in Roster first."
	detailInternal = "An internal error occurred; it has been logged. Retry later."
)

// sdkFields maps the SDK's request field names that are not profile
// fields to SCIM attribute names; profile fields are mapped through the
// attribute table (fieldPaths).
var sdkFields = map[string]string{
	"Email":       "emails",
	"DisplayName": "displayName",
	"ExternalID":  "externalId",
	"Members":     "members",
	"Password":    "password",
	"Status":      "active",
	"Where":       "filter",
}

// fieldPaths maps each profile field of the table to its attribute.
var fieldPaths = func() map[sdk.Field]*attribute {
	m := map[sdk.Field]*attribute{}
	var walk func(as []*attribute)
	walk = func(as []*attribute) {
		for _, a := range as {
			if a.kind == inList {
				m[a.list.field] = a
			} else if a.kind == inProfile && a.field != "" && a.typ != tComplex {
				m[a.field] = a
			}
			if !a.multi {
				walk(a.subs)
			}
		}
	}
	walk(coreUser)
	walk(enterpriseUser)
	return m
}()

// scimField names the attribute an SDK error's Field is about as a SCIM
// client wrote it: "name.givenName" for "givenName", the URN-qualified
// path of an extension's attribute, and "emails.value (item 2)" for
// "emails[1].value". slug is the tenant's, for its custom attributes.
func scimField(f, slug string) string {
	if a, ok := sdkFields[f]; ok {
		return a
	}
	if name, ok := sdk.Field(f).IsCustom(); ok {
		if slug == "" {
			return "custom attribute " + name
		}
		return customURN(slug) + ":" + name
	}
	base, rest, item := f, "", -1
	if i := strings.IndexByte(f, '['); i >= 0 {
		if j := strings.IndexByte(f[i:], ']'); j > 0 {
			if n, err := strconv.Atoi(f[i+1 : i+j]); err == nil {
				base, rest, item = f[:i], f[i+j+1:], n
			}
		}
	}
	a, ok := fieldPaths[sdk.Field(base)]
	if !ok {
		return f
	}
	p := a.path() + rest
	if item >= 0 {
		p += " (item " + strconv.Itoa(item+1) + ")"
	}
	return p
}

// errorFor maps an error of the SDK (or of this package) to the SCIM error
// returned to the client, by the error's code and reason (RFC 7644 §3.12).
// It is the one place where SDK refusals become HTTP statuses. Errors it
// cannot classify become a 500 whose detail says nothing about the cause:
// the caller logs the cause (see [Handler.fail]).
func errorFor(err error) scimError { return errorIn(err, "") }

// errorIn is errorFor for a request to the tenant whose slug is given,
// which names its custom attributes.
func errorIn(err error, slug string) scimError {
	var se scimError
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return scimError{Status: http.StatusInternalServerError, Detail: "The request was cancelled or timed out before it completed."}
	}
	msg := messageOf(err)
	reason := sdk.ReasonOf(err)
	switch sdk.CodeOf(err) {
	case sdk.CodeInvalidArgument:
		if f := sdk.FieldOf(err); f != "" && reason != sdk.ReasonUnknownMember {
			msg = scimField(f, slug) + ": " + msg
		}
		if f := sdk.FieldOf(err); f == "Where" {
			return scimError{Status: http.StatusBadRequest, ScimType: typeInvalidFilter, Detail: msg}
		}
		return scimError{Status: http.StatusBadRequest, ScimType: typeInvalidValue, Detail: msg}
	case sdk.CodeNotFound:
		return scimError{Status: http.StatusNotFound, Detail: "Resource not found."}
	case sdk.CodeAlreadyExists:
		switch reason {
		case sdk.ReasonUserNameTaken:
			msg = "userName is already in use in this tenant (compared case-insensitively)."
		case sdk.ReasonEmailTaken:
			msg = "The user's email address (the primary email, else the work email, else userName) is already used by another member of this tenant."
		case sdk.ReasonEmailTakenElsewhere:
			msg = "The email address is already used by another account."
		case sdk.ReasonExternalIDTaken:
			msg = "externalId is already in use in this tenant."
		case sdk.ReasonGroupNameTaken:
			msg = "A group with this displayName already exists in this tenant (compared case-insensitively)."
		}
		return scimError{Status: http.StatusConflict, ScimType: typeUniqueness, Detail: msg}
	case sdk.CodeFailedPrecondition:
		switch reason {
		case sdk.ReasonVersionMismatch:
			return scimError{Status: http.StatusPreconditionFailed, Detail: "The resource changed since the version given in If-Match; fetch it again and retry."}
		case sdk.ReasonTargetIsOwner:
			return scimError{Status: http.StatusForbidden, Detail: detailOwner}
		case sdk.ReasonReassignFailed:
			return scimError{Status: http.StatusInternalServerError, Detail: "The user's data could not be reassigned, so the user was not deleted; retry later."}
		}
		return scimError{Status: http.StatusBadRequest, ScimType: typeMutability, Detail: msg}
	case sdk.CodePermissionDenied:
		return scimError{Status: http.StatusForbidden, Detail: msg}
	case sdk.CodeResourceExhausted:
		if reason == sdk.ReasonSeatLimit {
			return scimError{Status: http.StatusForbidden, Detail: detailSeatLimit}
		}
		return scimError{Status: http.StatusForbidden, Detail: msg}
	case sdk.CodeUnauthenticated:
		return scimError{Status: http.StatusUnauthorized, Detail: "The bearer token is missing, invalid or revoked."}
	}
	return scimError{Status: http.StatusInternalServerError, Detail: detailInternal}
}

// messageOf returns the human part of an SDK error, safe to show.
func messageOf(err error) string {
	var e *sdk.Error
	if errors.As(err, &e) && e.Message != "" {
		m := e.Message
		if !strings.HasSuffix(m, ".") {
			m += "."
		}
		return strings.ToUpper(m[:1]) + m[1:]
	}
	return "The request was refused."
}

// fail maps err and logs the cause of server errors; the client never sees
// it.
func (h *Handler) fail(r *http.Request, err error) scimError {
	se := errorIn(err, mux.Vars(r)["tenant"])
	if se.Status >= 500 {
		h.log.Error("scim: request failed", "method", r.Method, "path", r.URL.Path, "status", se.Status, "err", err)
		requestInfo(r.Context()).Err = err
	}
	return se
}

// writeError writes a SCIM error response (RFC 7644 §3.12). Every error
// this package writes goes through here or through elimity, whose errors
// have the same body and content type.
func writeError(w http.ResponseWriter, se scimError) {
	body, _ := se.MarshalJSON()
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(se.Status)
	_, _ = w.Write(body)
}
