package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// csrfTTL is how long a form's CSRF token is accepted: a page left open
// longer must be reloaded before its form is sent.
const csrfTTL = 12 * time.Hour

// token returns the CSRF token of forms drawn for id at now: the time it
// was issued and an HMAC of the tenant, the member and that time, so a
// token is bound to one actor in one tenant and expires. The screen keeps
// no state and sets no cookie: a forged form cannot know the key.
func (h *Handler) token(id Identity, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + h.mac(id, ts)
}

func (h *Handler) mac(id Identity, ts string) string {
	m := hmac.New(sha256.New, h.csrfKey)
	// Lengths first, so that no two identities write the same bytes.
	m.Write([]byte("roster-ui-csrf\x00" + strconv.Itoa(len(id.TenantID)) + ":" + id.TenantID + strconv.Itoa(len(id.MemberID)) + ":" + id.MemberID + "\x00" + ts))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validToken reports whether tok was issued for id less than csrfTTL
// before now.
func (h *Handler) validToken(id Identity, tok string, now time.Time) bool {
	ts, sum, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	age := now.Sub(time.Unix(sec, 0))
	if age < -time.Minute || age > csrfTTL {
		return false
	}
	return hmac.Equal([]byte(sum), []byte(h.mac(id, ts)))
}
