package sdk

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an [Error]. Codes are append-only: a code's value and
// meaning never change, so callers may switch on them and map them to
// transport status codes (HTTP, SCIM, gRPC) in one place.
type Code int

const (
	// CodeUnknown is an error the SDK could not classify, usually a store
	// failure. Transports report it as an internal error.
	CodeUnknown Code = iota
	// CodeInvalidArgument means the caller's input was malformed; Field names
	// the offending input.
	CodeInvalidArgument
	// CodeNotFound means the tenant, member or other resource does not exist.
	CodeNotFound
	// CodeAlreadyExists means a uniqueness rule refused the write (slug,
	// email, external id).
	CodeAlreadyExists
	// CodeFailedPrecondition means the system is not in the state the
	// operation requires: a stale version, the owner being protected, an
	// invitation that expired.
	CodeFailedPrecondition
	// CodePermissionDenied means policy refused the actor.
	CodePermissionDenied
	// CodeResourceExhausted means a quota refused the write, such as the
	// tenant's seat limit.
	CodeResourceExhausted
	// CodeUnauthenticated means a credential (token, password, secret) was
	// missing or wrong.
	CodeUnauthenticated
)

var codeNames = [...]string{
	CodeUnknown:            "unknown",
	CodeInvalidArgument:    "invalid argument",
	CodeNotFound:           "not found",
	CodeAlreadyExists:      "already exists",
	CodeFailedPrecondition: "failed precondition",
	CodePermissionDenied:   "permission denied",
	CodeResourceExhausted:  "resource exhausted",
	CodeUnauthenticated:    "unauthenticated",
}

// String returns the code's lower-case name, such as "not found".
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Sentinel errors, one per [Code]. An [*Error] matches the sentinel of its
// code with [errors.Is], so callers write errors.Is(err, sdk.ErrNotFound)
// without caring which operation failed or why.
var (
	ErrUnknown            = &codeError{CodeUnknown}
	ErrInvalidArgument    = &codeError{CodeInvalidArgument}
	ErrNotFound           = &codeError{CodeNotFound}
	ErrAlreadyExists      = &codeError{CodeAlreadyExists}
	ErrFailedPrecondition = &codeError{CodeFailedPrecondition}
	ErrPermissionDenied   = &codeError{CodePermissionDenied}
	ErrResourceExhausted  = &codeError{CodeResourceExhausted}
	ErrUnauthenticated    = &codeError{CodeUnauthenticated}
)

var sentinels = [...]error{
	CodeUnknown:            ErrUnknown,
	CodeInvalidArgument:    ErrInvalidArgument,
	CodeNotFound:           ErrNotFound,
	CodeAlreadyExists:      ErrAlreadyExists,
	CodeFailedPrecondition: ErrFailedPrecondition,
	CodePermissionDenied:   ErrPermissionDenied,
	CodeResourceExhausted:  ErrResourceExhausted,
	CodeUnauthenticated:    ErrUnauthenticated,
}

type codeError struct{ code Code }

func (e *codeError) Error() string { return e.code.String() }

// Reason is a stable, machine-readable explanation of a refusal, such as
// "seat_limit" or "target_is_owner". Reasons never change once published;
// transports may show them to API clients and UIs may switch on them.
type Reason string

// Reasons the SDK reports. The list is append-only.
const (
	ReasonNone Reason = ""

	// Policy refusals (also reported by [Decision]).
	ReasonSeatLimit         Reason = "seat_limit"
	ReasonTargetIsOwner     Reason = "target_is_owner"
	ReasonSelfAction        Reason = "self_action"
	ReasonRankTooLow        Reason = "rank_too_low"
	ReasonRoleAboveActor    Reason = "role_above_actor"
	ReasonMissingPermission Reason = "missing_permission"
	ReasonNotMember         Reason = "not_member"
	ReasonInactive          Reason = "inactive"
	ReasonOwnerOnly         Reason = "owner_only"
	ReasonOwnerRole         Reason = "owner_role"
	ReasonTargetNotActive   Reason = "target_not_active"

	// State and input refusals.
	ReasonEmailTaken          Reason = "email_taken"
	ReasonEmailTakenElsewhere Reason = "email_taken_elsewhere"
	ReasonExternalIDTaken     Reason = "external_id_taken"
	ReasonUserNameTaken       Reason = "user_name_taken"
	ReasonSlugTaken           Reason = "slug_taken"
	ReasonVersionMismatch     Reason = "version_mismatch"
	ReasonSeatsInUse          Reason = "seats_in_use"
	ReasonUnknownRole         Reason = "unknown_role"
	ReasonInvalid             Reason = "invalid"
	ReasonAlreadyInState      Reason = "already_in_state"

	// Sync guards (see [Client.Sync]), both with CodeFailedPrecondition.
	// ReasonDeprovisionLimit: the sync would deprovision more members than
	// [SyncOptions] allow; nothing was written. ReasonEmptyInput: a sync
	// with no records was asked to deprovision, which would empty the
	// tenant; nothing was written, whatever the options.
	ReasonDeprovisionLimit Reason = "deprovision_limit"
	ReasonEmptyInput       Reason = "empty_input"

	// ReasonTenantDeleting (with CodeNotFound): the tenant's deletion
	// started and has not finished ([Tenant.Deleting]); deleting it again
	// ([Client.DeleteTenant]) finishes it.
	ReasonTenantDeleting Reason = "tenant_deleting"
)

// Error is the one error type the SDK returns. It says which operation
// failed (Op), how to classify it (Code), why (Reason), which input was at
// fault (Field, for invalid arguments) and what caused it (Err).
//
// Use [errors.Is] with a sentinel such as [ErrNotFound] to test the code and
// [ReasonOf] to read the reason:
//
//	if sdk.ReasonOf(err) == sdk.ReasonSeatLimit { ... }
type Error struct {
	Op      string // operation, e.g. "sdk.AddMember"
	Code    Code   // classification
	Reason  Reason // stable reason, may be empty
	Field   string // offending input field for CodeInvalidArgument
	Message string // human-readable detail, safe to show to the actor
	Err     error  // underlying cause, may be nil
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Code.String())
	if e.Reason != "" {
		b.WriteString(" (")
		b.WriteString(string(e.Reason))
		b.WriteString(")")
	}
	if e.Field != "" {
		b.WriteString(": field ")
		b.WriteString(e.Field)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool {
	ce, ok := target.(*codeError)
	return ok && ce.code == e.Code
}

// E builds an [*Error]. Stores use it to translate backend failures at their
// boundary, for example E("mongo.CreateMember", CodeAlreadyExists,
// ReasonEmailTaken, "", err).
func E(op string, code Code, reason Reason, msg string, cause error) *Error {
	return &Error{Op: op, Code: code, Reason: reason, Message: msg, Err: cause}
}

// CodeOf returns the code of the first [*Error] in err's chain, CodeUnknown
// for any other non-nil error, and CodeUnknown for nil.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	for c, s := range sentinels {
		if errors.Is(err, s) {
			return Code(c)
		}
	}
	return CodeUnknown
}

// ReasonOf returns the reason of the first [*Error] in err's chain that
// carries one, or ReasonNone.
func ReasonOf(err error) Reason {
	for err != nil {
		if e, ok := err.(*Error); ok && e.Reason != "" {
			return e.Reason
		}
		err = errors.Unwrap(err)
	}
	return ReasonNone
}

// FieldOf returns the offending field of the first [*Error] in err's chain
// that names one, or "".
func FieldOf(err error) string {
	for err != nil {
		if e, ok := err.(*Error); ok && e.Field != "" {
			return e.Field
		}
		err = errors.Unwrap(err)
	}
	return ""
}

// withOp returns err with the SDK operation op recorded, so a store error
// says which SDK call saw it. Context errors pass through untouched; errors
// that are not [*Error] become CodeUnknown with err as the cause.
func withOp(op string, err error) error {
	if err == nil {
		return nil
	}
	if isContextErr(err) {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		if strings.HasPrefix(e.Op, "sdk.") {
			return err
		}
		cp := *e
		cp.Op = op
		return &cp
	}
	return &Error{Op: op, Code: CodeUnknown, Err: err}
}

func invalid(op, field, msg string) *Error {
	return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonInvalid, Field: field, Message: msg}
}
