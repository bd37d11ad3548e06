package mongo

import (
	"context"
	"errors"
	"strings"

	driver "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rosterhq/roster/sdk"
)

// Server error codes the store reacts to.
const (
	codeNamespaceExists = 48
	codeIndexNotFound   = 27
	// codeFerretInternal is FerretDB's InternalError. FerretDB v1 on SQLite
	// reports a unique index violated by an update (not an insert) as an
	// internal error whose message contains "UNIQUE constraint failed"
	// instead of a duplicate key error.
	codeFerretInternal = 1
)

// translate turns a driver error into the store's answer: context errors
// of the caller's context pass through untouched, a missing document
// becomes CodeNotFound, anything else CodeUnknown with the driver error as
// the cause. Duplicate keys are translated by the callers, which know which
// indexes the write could violate.
func translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	var se *sdk.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, driver.ErrNoDocuments) {
		return sdk.E(op, sdk.CodeNotFound, "", "not found", nil)
	}
	return sdk.E(op, sdk.CodeUnknown, "", "database error", err)
}

// isDuplicate reports whether err is a unique index violation, however the
// server spells it.
func isDuplicate(err error) bool {
	if driver.IsDuplicateKeyError(err) {
		return true
	}
	var se driver.ServerError
	return errors.As(err, &se) && se.HasErrorCode(codeFerretInternal) && se.HasErrorMessage("UNIQUE constraint failed")
}

// isIndexNotFound reports whether err says that an index to drop does not
// exist.
func isIndexNotFound(err error) bool {
	var ce driver.CommandError
	return errors.As(err, &ce) && (ce.Code == codeIndexNotFound || ce.Name == "IndexNotFound")
}

// duplicateIndex returns the name of the violated index when the server's
// message names it (MongoDB does: "... index: tenantId_emailKey_unique dup
// key: ..."; FerretDB v1 names it only for updates, with a table prefix),
// or "".
func duplicateIndex(err error) string {
	msg := err.Error()
	for _, name := range []string{idxMemberMail, idxMemberUser, idxMemberExt, idxSlug} {
		if strings.Contains(msg, name) {
			return name
		}
	}
	if strings.Contains(msg, "_id_") || strings.Contains(msg, "index: _id") {
		return "_id_"
	}
	return ""
}

func notFound(op, what string) error {
	return sdk.E(op, sdk.CodeNotFound, "", what+" not found", nil)
}

func stale(op string) error {
	return sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, "the record changed since it was read", nil)
}

func seatLimit(op string) error {
	return sdk.E(op, sdk.CodeResourceExhausted, sdk.ReasonSeatLimit, "the tenant's seat limit is reached", nil)
}

func seatsInUse(op string) error {
	return sdk.E(op, sdk.CodeFailedPrecondition, sdk.ReasonSeatsInUse, "cannot remove seats that are in use or included in the plan", nil)
}

func emailTaken(op string, cause error) error {
	return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonEmailTaken, "a member with this email address exists", cause)
}

func emailTakenElsewhere(op string) error {
	return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonEmailTakenElsewhere, "the email address is used in another tenant", nil)
}

func externalIDTaken(op string, cause error) error {
	return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonExternalIDTaken, "a member with this external id exists", cause)
}

func userNameTaken(op string, cause error) error {
	return sdk.E(op, sdk.CodeAlreadyExists, sdk.ReasonUserNameTaken, "a member with this userName exists", cause)
}
