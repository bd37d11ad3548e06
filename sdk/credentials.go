package sdk

import (
	"context"
	"crypto/subtle"

	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Credentials are a member's secrets, for hosts that keep credentials in
// Roster. They live apart from the member record so that member lists and
// audit events never carry them.
type Credentials struct {
	TenantID     string
	MemberID     string
	PasswordHash string // argon2id, PHC string format; "" when no password is set
	TOTPSecret   string // base32; "" when TOTP is not enrolled
	// TOTPPending is a secret issued by EnrollTOTP and not yet confirmed.
	TOTPPending string
	// TOTPLastStep is the last accepted time step, so a code is never
	// accepted twice.
	TOTPLastStep int64
	UpdatedAt    time.Time
}

// CredentialStore persists credentials.
type CredentialStore interface {
	// GetCredentials returns the member's credentials, or CodeNotFound
	// when none were ever set.
	GetCredentials(ctx context.Context, tenantID, memberID string) (*Credentials, error)
	// PutCredentials creates or replaces the member's second-factor state
	// (TOTPSecret, TOTPPending, TOTPLastStep) and UpdatedAt. It MUST leave
	// the password hash as it is and ignore c.PasswordHash: only member
	// writes set a password ([MemberWrite.PasswordHash]), so a TOTP change
	// made from credentials read earlier can never undo a password change
	// that raced into the gap.
	PutCredentials(ctx context.Context, c *Credentials) error
	// DeleteCredentials deletes them; deleting absent credentials is not an
	// error.
	DeleteCredentials(ctx context.Context, tenantID, memberID string) error
	// AdvanceTOTPStep sets TOTPLastStep to step if, in one atomic step, the
	// stored value is lower, and reports whether it did: of two concurrent
	// sign-ins with one code, exactly one advances. Absent credentials
	// report false.
	AdvanceTOTPStep(ctx context.Context, tenantID, memberID string, step int64) (bool, error)
}

// Reasons for credential refusals.
const (
	ReasonWeakPassword       Reason = "weak_password"
	ReasonWrongCredentials   Reason = "wrong_credentials"
	ReasonWrongCode          Reason = "wrong_code"
	ReasonMFANotEnrolled     Reason = "mfa_not_enrolled"
	ReasonMFAAlreadyEnrolled Reason = "mfa_already_enrolled"
)

// Password rules.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

var commonPasswords = map[string]bool{
	"password1234": true, "123456789012": true, "qwertyuiopas": true, "passwordpassword": true,
	"letmeinletmein": true, "iloveyou1234": true, "administrator": true, "changemechangeme": true,
}

// CheckPassword reports whether a password is acceptable: 12 to 256
// characters of valid UTF-8, not a single repeated character and not a
// well-known password. The error says which rule failed.
func CheckPassword(pw string) error { return checkPassword(pw, MinPasswordLength) }

func checkPassword(pw string, minLen int) error {
	const op = "sdk.CheckPassword"
	weak := func(msg string) error {
		return &Error{Op: op, Code: CodeInvalidArgument, Reason: ReasonWeakPassword, Field: "Password", Message: msg}
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		return weak("a password is required")
	case !utf8.ValidString(pw):
		return weak("the password is not valid UTF-8")
	case n < minLen:
		return weak(fmt.Sprintf("the password must have at least %d characters (it has %d)", minLen, n))
	case n > MaxPasswordLength:
		return weak(fmt.Sprintf("the password must have at most %d characters", MaxPasswordLength))
	case strings.Count(pw, pw[:1]) == len(pw):
		return weak("the password must not repeat a single character")
	case commonPasswords[strings.ToLower(pw)]:
		return weak("the password is too common")
	}
	return nil
}

// WithPasswordParams sets the argon2id cost. The default is the
// recommendation of RFC 9106 for memory-constrained servers (64 MiB, one
// pass); tests may lower it.
func WithPasswordParams(memoryKiB, iterations uint32, parallelism uint8) Option {
	return func(c *Client) {
		c.pwParams = &argon2id.Params{Memory: memoryKiB, Iterations: iterations, Parallelism: parallelism, SaltLength: 16, KeyLength: 32}
	}
}

// WithIssuer sets the issuer shown by authenticator apps for TOTP.
func WithIssuer(name string) Option { return func(c *Client) { c.issuer = name } }

func (c *Client) hashPassword(pw string) (string, error) {
	p := c.pwParams
	if p == nil {
		p = argon2id.DefaultParams
	}
	return argon2id.CreateHash(pw, p)
}

func (c *Client) loadCredentials(ctx context.Context, op string, m *Member) (*Credentials, error) {
	cr, err := c.store.GetCredentials(ctx, m.TenantID, m.ID)
	if isNotFound(err) {
		return &Credentials{TenantID: m.TenantID, MemberID: m.ID}, nil
	}
	return cr, withOp(op, err)
}

// SetPassword sets a member's password. Members set their own; setting
// someone else's needs ActionSetPassword (team:manage and a higher rank),
// and the owner's password is theirs alone. Every session of the member
// ends (their session epoch moves) in the same write that stores the new
// hash; the current password again changes nothing. It is
// [Client.UpdateMember] with a password.
func (c *Client) SetPassword(ctx context.Context, actor Actor, tenantID, memberID, password string) (*Member, error) {
	return c.updateMember(ctx, "sdk.SetPassword", actor, UpdateMemberRequest{TenantID: tenantID, MemberID: memberID, Password: &password})
}

// EventMemberPasswordChanged is emitted when a password is set.
const EventMemberPasswordChanged EventType = "member.password_changed"

// SignIn is the outcome of a successful password check.
type SignIn struct {
	Member *Member
	// MFARequired means the member has TOTP enrolled: ask for a code and
	// call VerifyTOTP before treating the session as signed in.
	MFARequired bool
	// MFAEnrollmentRequired means the tenant requires MFA and the member
	// has not enrolled: let them enrol (EnrollTOTP, ConfirmTOTP) before
	// anything else.
	MFAEnrollmentRequired bool
	// SessionEpoch is the epoch to store in the session (see SessionValid).
	SessionEpoch int64
}

// VerifyPassword checks a member's email and password. Any failure —
// unknown email, no password set, wrong password — is the same
// CodeUnauthenticated error with ReasonWrongCredentials, so that accounts
// cannot be probed; an inactive member gets ReasonInactive.
func (c *Client) VerifyPassword(ctx context.Context, tenantID, email, password string) (*SignIn, error) {
	const op = "sdk.VerifyPassword"
	wrong := &Error{Op: op, Code: CodeUnauthenticated, Reason: ReasonWrongCredentials, Message: "wrong email or password"}
	if len(password) > 4*MaxPasswordLength {
		return nil, wrong
	}
	m, err := c.store.GetMemberBy(ctx, tenantID, KeyEmail, NormalizeEmail(email))
	if isNotFound(err) {
		// Spend the time a real check would, so timing does not reveal
		// which addresses exist.
		_, _ = c.hashPassword(password)
		return nil, wrong
	}
	if err != nil {
		return nil, withOp(op, err)
	}
	cr, err := c.loadCredentials(ctx, op, m)
	if err != nil {
		return nil, err
	}
	if cr.PasswordHash == "" {
		_, _ = c.hashPassword(password)
		return nil, wrong
	}
	ok, err := argon2id.ComparePasswordAndHash(password, cr.PasswordHash)
	if err != nil {
		return nil, withOp(op, err)
	}
	if !ok {
		return nil, wrong
	}
	if m.Status != StatusActive {
		return nil, &Error{Op: op, Code: CodePermissionDenied, Reason: ReasonInactive, Message: "the membership is not active"}
	}
	t, err := c.getTenant(ctx, op, tenantID)
	if err != nil {
		return nil, err
	}
	return &SignIn{
		Member:                m,
		MFARequired:           cr.TOTPSecret != "",
		MFAEnrollmentRequired: t.Settings.RequireMFA && cr.TOTPSecret == "",
		SessionEpoch:          m.SessionEpoch,
	}, nil
}

// TOTPEnrollment is what an authenticator app needs.
type TOTPEnrollment struct {
	Secret string // base32, for manual entry
	URL    string // otpauth:// URL, for a QR code
}

// EnrollTOTP starts TOTP enrolment for the member acting on themself: it
// returns a new secret, pending until ConfirmTOTP proves the app has it.
func (c *Client) EnrollTOTP(ctx context.Context, actor Actor, tenantID string) (*TOTPEnrollment, error) {
	const op = "sdk.EnrollTOTP"
	m, err := c.selfMember(ctx, op, actor, tenantID)
	if err != nil {
		return nil, err
	}
	cr, err := c.loadCredentials(ctx, op, m)
	if err != nil {
		return nil, err
	}
	if cr.TOTPSecret != "" {
		return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonMFAAlreadyEnrolled, Message: "TOTP is already enrolled"}
	}
	issuer := c.issuer
	if issuer == "" {
		issuer = "Roster"
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: m.Email})
	if err != nil {
		return nil, withOp(op, err)
	}
	cr.TOTPPending, cr.UpdatedAt = key.Secret(), c.Now()
	if err := c.store.PutCredentials(ctx, cr); err != nil {
		return nil, withOp(op, err)
	}
	return &TOTPEnrollment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP completes enrolment with a code from the app; the member is
// then MFA-enrolled.
func (c *Client) ConfirmTOTP(ctx context.Context, actor Actor, tenantID, code string) (*Member, error) {
	const op = "sdk.ConfirmTOTP"
	m, err := c.selfMember(ctx, op, actor, tenantID)
	if err != nil {
		return nil, err
	}
	cr, err := c.loadCredentials(ctx, op, m)
	if err != nil {
		return nil, err
	}
	if cr.TOTPPending == "" {
		return nil, &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonMFANotEnrolled, Message: "start enrolment with EnrollTOTP first"}
	}
	step, err := c.validateCode(op, cr.TOTPPending, code, 0)
	if err != nil {
		return nil, err
	}
	cr.TOTPSecret, cr.TOTPPending, cr.TOTPLastStep, cr.UpdatedAt = cr.TOTPPending, "", step, c.Now()
	if err := c.store.PutCredentials(ctx, cr); err != nil {
		return nil, withOp(op, err)
	}
	return c.mutate(ctx, op, actor, tenantID, m.ID, 0, EventMemberUpdated, func(_ *Policy, before, m *Member) (SeatChange, error) {
		if before.MFAEnrolled {
			return 0, errNoChange
		}
		m.MFAEnrolled = true
		return 0, nil
	})
}

// VerifyTOTP checks a code at sign-in. A wrong, malformed or replayed code
// is CodeUnauthenticated with ReasonWrongCode.
func (c *Client) VerifyTOTP(ctx context.Context, tenantID, memberID, code string) error {
	const op = "sdk.VerifyTOTP"
	cr, err := c.store.GetCredentials(ctx, tenantID, memberID)
	if isNotFound(err) || (err == nil && cr.TOTPSecret == "") {
		return &Error{Op: op, Code: CodeFailedPrecondition, Reason: ReasonMFANotEnrolled, Message: "the member has not enrolled TOTP"}
	}
	if err != nil {
		return withOp(op, err)
	}
	step, err := c.validateCode(op, cr.TOTPSecret, code, cr.TOTPLastStep)
	if err != nil {
		return err
	}
	advanced, err := c.store.AdvanceTOTPStep(ctx, tenantID, memberID, step)
	if err != nil {
		return withOp(op, err)
	}
	if !advanced {
		// A concurrent sign-in used this code (or a later one) first.
		return &Error{Op: op, Code: CodeUnauthenticated, Reason: ReasonWrongCode, Field: "Code", Message: "the code is wrong or expired"}
	}
	return nil
}

// validateCode accepts a 6-digit code for the current 30-second step or
// the one before or after (clock skew), but never a step at or before
// lastStep (replay). It returns the matching step.
func (c *Client) validateCode(op, secret, code string, lastStep int64) (int64, error) {
	wrong := &Error{Op: op, Code: CodeUnauthenticated, Reason: ReasonWrongCode, Field: "Code", Message: "the code is wrong or expired"}
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, wrong
	}
	now := c.Now()
	for _, skew := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(skew) * 30 * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, withOp(op, err)
		}
		step := at.Unix() / 30
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > lastStep {
			return step, nil
		}
	}
	return 0, wrong
}

// selfMember returns the active member an actor acting on their own
// credentials is.
func (c *Client) selfMember(ctx context.Context, op string, actor Actor, tenantID string) (*Member, error) {
	if actor.Kind != ActorMember {
		return nil, deny(ReasonNotMember).Err(op)
	}
	m, err := c.store.GetMember(ctx, tenantID, actor.ID)
	if isNotFound(err) {
		return nil, deny(ReasonNotMember).Err(op)
	}
	if err != nil {
		return nil, withOp(op, err)
	}
	if m.Status != StatusActive {
		return nil, deny(ReasonInactive).Err(op)
	}
	return m, nil
}
