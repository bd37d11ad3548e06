package sdk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Token is a SCIM bearer token of one tenant. The secret is shown once, when
// the token is created; Roster keeps only its SHA-256 hash, so a leaked
// database does not leak working tokens. A token authenticates for its own
// tenant only.
type Token struct {
	ID       string `json:"id"`
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
	// Hash is the hex SHA-256 of the secret. [Client.ListTokens] clears it.
	Hash string `json:"hash,omitempty"`
	// Hint is the last four characters of the secret, to tell tokens apart.
	Hint       string    `json:"hint"`
	CreatedBy  string    `json:"createdBy"` // the actor, "kind:id"
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"` // updated at most once per TokenTouchInterval
}

// TokenStore persists SCIM tokens; it is part of [Store]. Its indexes
// start with the tenant id.
type TokenStore interface {
	// CreateToken stores t. A token of the tenant with the same Hash returns
	// CodeAlreadyExists with ReasonTokenExists (nothing written); a
	// duplicate ID CodeAlreadyExists.
	CreateToken(ctx context.Context, t *Token) error
	// GetTokenByHash returns the tenant's token with that hash, or
	// CodeNotFound.
	GetTokenByHash(ctx context.Context, tenantID, hash string) (*Token, error)
	// ListTokens returns the tenant's tokens ordered by ID.
	ListTokens(ctx context.Context, tenantID string) ([]*Token, error)
	// DeleteToken deletes the token, or returns CodeNotFound.
	DeleteToken(ctx context.Context, tenantID, id string) error
	// TouchToken sets LastUsedAt to at unless it is already later; a
	// missing token is CodeNotFound.
	TouchToken(ctx context.Context, tenantID, id string, at time.Time) error
}

// Token events, action and reason.
const (
	EventTokenCreated EventType = "token.created"
	EventTokenRevoked EventType = "token.revoked"

	// ActionManageTokens is creating, listing and revoking a tenant's SCIM
	// tokens: only the owner and the host system may.
	ActionManageTokens Action = "tenant.manage_tokens"

	ReasonTokenExists Reason = "token_exists"
)

// Token secrets.
const (
	// TokenPrefix starts every generated secret, so that a leaked token is
	// recognisable (by secret scanners, in logs).
	TokenPrefix = "rst_"
	// MinTokenLength is the shortest operator-chosen secret RegisterToken
	// accepts.
	MinTokenLength = 32
	// MaxTokenLength is the longest secret accepted anywhere.
	MaxTokenLength = 512
	// TokenTouchInterval bounds how often a token's LastUsedAt is written.
	TokenTouchInterval = time.Minute
)

// checkTokens decides ActionManageTokens: the owner or the host system.
func (c *Client) checkTokens(ctx context.Context, op, tenantID string, actor Actor) error {
	p, err := c.Policy(ctx, actor, tenantID)
	if err != nil {
		return withOp(op, err)
	}
	return p.Check(ActionManageTokens, nil).Err(op)
}

// HashToken returns the stored form of a token secret: its hex SHA-256.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func tokenName(op, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "scim"
	}
	if len(name) > 100 || !utf8.ValidString(name) {
		return "", invalid(op, "Name", "must be valid UTF-8 of at most 100 characters")
	}
	return name, nil
}

func validSecret(s string) bool {
	if len(s) > MaxTokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// CreateToken creates a SCIM token for a tenant and returns its secret —
// TokenPrefix followed by 32 random bytes in unpadded base64url — which is
// shown this once and never stored. Only the owner or the host system may.
func (c *Client) CreateToken(ctx context.Context, actor Actor, tenantID, name string) (string, *Token, error) {
	const op = "sdk.CreateToken"
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, &Error{Op: op, Code: CodeUnknown, Err: err}
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	t, err := c.storeToken(ctx, op, actor, tenantID, name, secret)
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// CheckTokenSecret reports whether an operator-chosen secret is acceptable
// to RegisterToken: MinTokenLength to MaxTokenLength printable ASCII
// characters without spaces. A host can call it before it opens a store.
func CheckTokenSecret(secret string) error {
	if len(secret) < MinTokenLength || !validSecret(secret) {
		return invalid("sdk.CheckTokenSecret", "Secret", fmt.Sprintf("a token must be %d to %d printable ASCII characters without spaces (this one has %d)", MinTokenLength, MaxTokenLength, len(secret)))
	}
	return nil
}

// RegisterToken stores an operator-chosen secret (at least MinTokenLength
// printable ASCII characters, such as ROSTER_BOOTSTRAP_TOKEN) as a token of
// the tenant. It is idempotent: registering a secret the tenant already has
// returns that token and writes nothing. Only the owner or the host system
// may.
func (c *Client) RegisterToken(ctx context.Context, actor Actor, tenantID, name, secret string) (*Token, error) {
	const op = "sdk.RegisterToken"
	if err := CheckTokenSecret(secret); err != nil {
		return nil, withOp(op, err)
	}
	t, err := c.storeToken(ctx, op, actor, tenantID, name, secret)
	if ReasonOf(err) == ReasonTokenExists {
		t, err = c.store.GetTokenByHash(ctx, tenantID, HashToken(secret))
		if err != nil {
			return nil, withOp(op, err)
		}
		t.Hash = ""
		return t, nil
	}
	return t, err
}

func (c *Client) storeToken(ctx context.Context, op string, actor Actor, tenantID, name, secret string) (*Token, error) {
	name, err := tokenName(op, name)
	if err != nil {
		return nil, err
	}
	if err := c.checkTokens(ctx, op, tenantID, actor); err != nil {
		return nil, err
	}
	t := &Token{
		ID: c.newID(), TenantID: tenantID, Name: name, Hash: HashToken(secret), Hint: secret[len(secret)-4:],
		CreatedBy: actor.String(), CreatedAt: c.Now(),
	}
	if err := c.store.CreateToken(ctx, t); err != nil {
		return nil, withOp(op, err)
	}
	c.recordDetail(ctx, Event{Type: EventTokenCreated, TenantID: tenantID, Actor: actor}, t.ID, nil,
		map[string]string{"name": t.Name, "hint": t.Hint})
	out := *t
	out.Hash = ""
	return &out, nil
}

// ListTokens returns a tenant's tokens, without their hashes. Only the
// owner or the host system may.
func (c *Client) ListTokens(ctx context.Context, actor Actor, tenantID string) ([]*Token, error) {
	const op = "sdk.ListTokens"
	if err := c.checkTokens(ctx, op, tenantID, actor); err != nil {
		return nil, err
	}
	toks, err := c.store.ListTokens(ctx, tenantID)
	if err != nil {
		return nil, withOp(op, err)
	}
	for _, t := range toks {
		t.Hash = ""
	}
	return toks, nil
}

// RevokeToken deletes a token: requests bearing it fail from then on. Only
// the owner or the host system may.
func (c *Client) RevokeToken(ctx context.Context, actor Actor, tenantID, tokenID string) error {
	const op = "sdk.RevokeToken"
	if err := c.checkTokens(ctx, op, tenantID, actor); err != nil {
		return err
	}
	if err := c.store.DeleteToken(ctx, tenantID, tokenID); err != nil {
		return withOp(op, err)
	}
	c.recordDetail(ctx, Event{Type: EventTokenRevoked, TenantID: tenantID, Actor: actor}, tokenID, nil, nil)
	return nil
}

// AuthenticateToken returns the tenant's token whose secret this is. Any
// credential failure — an empty, malformed, unknown or revoked secret, or
// a token of another tenant — is CodeUnauthenticated with the same message,
// so a caller learns nothing about which; a store failure is reported as
// such (a transport answers 5xx, which identity providers retry, rather
// than a 401 that makes them give up). The hashes are compared in constant
// time. LastUsedAt is written at most once per TokenTouchInterval.
func (c *Client) AuthenticateToken(ctx context.Context, tenantID, secret string) (*Token, error) {
	const op = "sdk.AuthenticateToken"
	unauth := &Error{Op: op, Code: CodeUnauthenticated, Message: "the token is missing, invalid or revoked"}
	if secret == "" || tenantID == "" || !validSecret(secret) {
		return nil, unauth
	}
	want := HashToken(secret)
	t, err := c.store.GetTokenByHash(ctx, tenantID, want)
	if isNotFound(err) {
		return nil, unauth
	}
	if err != nil {
		return nil, withOp(op, err)
	}
	if t.TenantID != tenantID || subtle.ConstantTimeCompare([]byte(t.Hash), []byte(want)) != 1 {
		return nil, unauth
	}
	if now := c.Now(); now.Sub(t.LastUsedAt) >= TokenTouchInterval {
		if err := c.store.TouchToken(context.WithoutCancel(ctx), tenantID, t.ID, now); err != nil && !isNotFound(err) {
			c.log.Warn("roster: recording token use failed", "tenant", tenantID, "token", t.ID, "err", err)
		}
		t.LastUsedAt = now
	}
	t.Hash = ""
	return t, nil
}
