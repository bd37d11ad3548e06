package sdk

import (
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
)

var (
	slugRe       = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	roleNameRe   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	permissionRe = regexp.MustCompile(`^[a-z0-9_.-]+:[a-z0-9_.-]+$`)
)

var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(v.RegisterValidation("slug", func(fl validator.FieldLevel) bool { return slugRe.MatchString(fl.Field().String()) }))
	must(v.RegisterValidation("rolename", func(fl validator.FieldLevel) bool { return roleNameRe.MatchString(fl.Field().String()) }))
	must(v.RegisterValidation("permission", func(fl validator.FieldLevel) bool { return permissionRe.MatchString(fl.Field().String()) }))
	must(v.RegisterValidation("utf8", func(fl validator.FieldLevel) bool { return utf8.ValidString(fl.Field().String()) }))
	must(v.RegisterValidation("status", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return s == "" || Status(s).Valid()
	}))
	return v
}

// ValidSlug reports whether s is a well-formed tenant slug: 1 to 63 lower
// case letters, digits and inner hyphens.
func ValidSlug(s string) bool { return slugRe.MatchString(s) }

// check validates a request struct and turns the first violation into an
// invalid-argument error naming the field.
func check(op string, req any) error {
	err := validate.Struct(req)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) || len(verrs) == 0 {
		return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonInvalid, Err: err}
	}
	fe := verrs[0]
	field := strings.TrimPrefix(fe.Namespace(), reflect.TypeOf(req).Elem().Name()+".")
	return invalid(op, field, describe(fe))
}

func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return fmt.Sprintf("%q is not a valid email address", fe.Value())
	case "max":
		if fe.Kind() == reflect.Slice {
			return "has more than " + fe.Param() + " entries"
		}
		return "must be at most " + fe.Param() + " characters"
	case "min":
		return "must be at least " + fe.Param()
	case "gte":
		return "must be at least " + fe.Param()
	case "lte":
		return "must be at most " + fe.Param()
	case "slug":
		return fmt.Sprintf("%q is not a valid slug (lower case letters, digits and inner hyphens, at most 63)", fe.Value())
	case "rolename":
		return fmt.Sprintf("%q is not a valid role name (lower case letters, digits and underscores, starting with a letter)", fe.Value())
	case "permission":
		return fmt.Sprintf("%q is not a valid permission (resource:action)", fe.Value())
	case "utf8":
		return "is not valid UTF-8"
	case "status":
		return fmt.Sprintf("%q is not a member status (invited, active, deactivated)", fe.Value())
	case "oneof":
		return "must be one of: " + fe.Param()
	}
	return "is invalid (" + fe.Tag() + ")"
}

// CursorAfter returns the cursor of the page that starts right after the
// item with the given id (a member, tenant or invitation id; for the audit
// log, the page of older events). Lists are ordered by id, so a host can
// resume a list from an item it holds without keeping cursors.
func CursorAfter(id string) string { return encodeCursor(id) }

func encodeCursor(id string) string {
	if id == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

func decodeCursor(op, c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 128 || !utf8.Valid(b) {
		return "", invalid(op, "Cursor", "is not a cursor returned by this API")
	}
	return string(b), nil
}

func pageParams(op string, o ListOptions) (size int, after string, err error) {
	size = o.PageSize
	switch {
	case size == 0:
		size = DefaultPageSize
	case size < 0 || size > MaxPageSize:
		return 0, "", invalid(op, "PageSize", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
	after, err = decodeCursor(op, o.Cursor)
	return size, after, err
}

// makePage trims a store result fetched with limit size+1 to size items and
// sets the next cursor when there was more.
func makePage[T any](items []T, size int, key func(T) string) *Page[T] {
	p := &Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > size {
		p.Items = items[:size]
		p.NextCursor = encodeCursor(key(items[size-1]))
	}
	return p
}
