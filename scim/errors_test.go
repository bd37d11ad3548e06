package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/sdk"
)

func TestErrorFor(t *testing.T) {
	e := func(code sdk.Code, reason sdk.Reason, msg string) error {
		return sdk.E("sdk.X", code, reason, msg, nil)
	}
	field := func(f, msg string) error {
		return &sdk.Error{Op: "sdk.AddMember", Code: sdk.CodeInvalidArgument, Reason: sdk.ReasonInvalid, Field: f, Message: msg}
	}
	cases := []struct {
		name     string
		err      error
		status   int
		scimType string
		detail   string // substring
	}{
		{"invalid field", field("Email", `"x" is not a valid email address`), 400, "invalidValue", `emails: "x" is not a valid email address.`},
		{"invalid name part", field("givenName", "must be at most 256 bytes"), 400, "invalidValue", "name.givenName: Must be at most 256 bytes."},
		{"invalid enterprise field", field("department", "must be at most 256 bytes"), 400, "invalidValue", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department: Must be"},
		{"invalid manager", field("managerId", "is not a member"), 400, "invalidValue", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value: Is not"},
		{"invalid item", field("emails[1].value", `"x" is not an email address`), 400, "invalidValue", `emails.value (item 2): "x" is not an email address.`},
		{"item without value", field("phoneNumbers[0]", "needs a value"), 400, "invalidValue", `phoneNumbers (item 1): Needs a value.`},
		{"two primaries", field("addresses", "items 0 and 1 are both primary"), 400, "invalidValue", `addresses: Items 0 and 1`},
		{"invalid custom", field("custom.level", `"x" is not an integer`), 400, "invalidValue", `custom attribute level: "x" is not an integer.`},
		{"invalid group name", field("DisplayName", "is required"), 400, "invalidValue", `displayName: Is required.`},
		{"invalid where", field("Where", `"gt" does not apply`), 400, "invalidFilter", "filter:"},
		{"unknown member", &sdk.Error{Code: sdk.CodeInvalidArgument, Reason: sdk.ReasonUnknownMember, Field: "Members", Message: `member "x" does not exist in this tenant`}, 400, "invalidValue", `Member "x" does not exist`},
		{"not found", e(sdk.CodeNotFound, "", "member not found"), 404, "", "not found"},
		{"userName taken", e(sdk.CodeAlreadyExists, sdk.ReasonUserNameTaken, ""), 409, "uniqueness", "userName is already in use"},
		{"email taken", e(sdk.CodeAlreadyExists, sdk.ReasonEmailTaken, ""), 409, "uniqueness", "email address"},
		{"email elsewhere", e(sdk.CodeAlreadyExists, sdk.ReasonEmailTakenElsewhere, ""), 409, "uniqueness", "another account"},
		{"external id taken", e(sdk.CodeAlreadyExists, sdk.ReasonExternalIDTaken, ""), 409, "uniqueness", "externalId"},
		{"group name taken", e(sdk.CodeAlreadyExists, sdk.ReasonGroupNameTaken, ""), 409, "uniqueness", "displayName"},
		{"version mismatch", e(sdk.CodeFailedPrecondition, sdk.ReasonVersionMismatch, ""), 412, "", "If-Match"},
		{"owner", e(sdk.CodeFailedPrecondition, sdk.ReasonTargetIsOwner, ""), 403, "", "transfer ownership"},
		{"reassign failed", e(sdk.CodeFailedPrecondition, sdk.ReasonReassignFailed, "hook: db down"), 500, "", "not deleted"},
		{"other precondition", e(sdk.CodeFailedPrecondition, sdk.ReasonTargetNotActive, "the member's invitation is pending"), 400, "mutability", "invitation is pending"},
		{"permission", e(sdk.CodePermissionDenied, sdk.ReasonRankTooLow, "you can only act on members ranked below you"), 403, "", "ranked below"},
		{"seat limit", e(sdk.CodeResourceExhausted, sdk.ReasonSeatLimit, ""), 403, "", "seat limit is reached"},
		{"unauthenticated", e(sdk.CodeUnauthenticated, "", "secret detail"), 401, "", "bearer token"},
		{"unknown", e(sdk.CodeUnknown, "", "mongo: connection refused to 10.0.0.7"), 500, "", "internal error"},
		{"plain error", errors.New("boom at /secret/path"), 500, "", "internal error"},
		{"wrapped sdk error", fmt.Errorf("ctx: %w", e(sdk.CodeNotFound, "", "")), 404, "", ""},
		{"context", context.DeadlineExceeded, 500, "", "timed out"},
		{"scim error passes", scimError{Status: 413, Detail: "too big"}, 413, "", "too big"},
		{"wrapped scim error", fmt.Errorf("x: %w", scimError{Status: 400, ScimType: typeInvalidPath}), 400, "invalidPath", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			se := errorFor(c.err)
			if se.Status != c.status || string(se.ScimType) != c.scimType || !strings.Contains(se.Detail, c.detail) {
				t.Fatalf("errorFor(%v) = %d %q %q; want %d %q containing %q", c.err, se.Status, se.ScimType, se.Detail, c.status, c.scimType, c.detail)
			}
			for _, leak := range []string{"10.0.0.7", "/secret/path", "secret detail", "db down"} {
				if strings.Contains(se.Detail, leak) {
					t.Fatalf("detail %q leaks the cause", se.Detail)
				}
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	rec := newRecorder()
	writeError(rec, scimError{Status: http.StatusTooManyRequests, Detail: "slow down"})
	if rec.code != 429 || rec.h.Get("Content-Type") != contentType ||
		rec.body.String() != `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"slow down","status":"429"}` {
		t.Fatalf("got %d %v %s", rec.code, rec.h, rec.body.String())
	}
}

type recorder struct {
	h    http.Header
	code int
	body strings.Builder
}

func newRecorder() *recorder                    { return &recorder{h: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(c int)           { r.code = c }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
