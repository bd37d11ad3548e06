package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/rosterhq/roster/sdk"
)

var _ sdk.CredentialStore = (*Store)(nil)

// GetCredentials implements [sdk.CredentialStore].
func (s *Store) GetCredentials(ctx context.Context, tenantID, memberID string) (*sdk.Credentials, error) {
	const op = "sqlite.GetCredentials"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &sdk.Credentials{TenantID: tenantID, MemberID: memberID}
	var updated string
	st, release := s.read(qCredGet)
	defer release()
	err := st.QueryRowContext(ctx, tenantID, memberID).Scan(&c.PasswordHash, &c.TOTPSecret, &c.TOTPPending, &c.TOTPLastStep, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "credentials")
	}
	if err == nil {
		c.UpdatedAt, err = parseTime(updated)
	}
	if err != nil {
		return nil, s.translate(ctx, op, err)
	}
	return c, nil
}

// PutCredentials implements [sdk.CredentialStore]: an upsert that leaves
// password_hash as it is.
func (s *Store) PutCredentials(ctx context.Context, c *sdk.Credentials) error {
	const op = "sqlite.PutCredentials"
	return s.write(ctx, op, func(x *wtx) error {
		_, err := x.exec(qCredPutTOTP, c.TenantID, c.MemberID, c.TOTPSecret, c.TOTPPending, c.TOTPLastStep, timeText(c.UpdatedAt))
		return err
	})
}

// DeleteCredentials implements [sdk.CredentialStore].
func (s *Store) DeleteCredentials(ctx context.Context, tenantID, memberID string) error {
	const op = "sqlite.DeleteCredentials"
	return s.write(ctx, op, func(x *wtx) error {
		_, err := x.exec(qCredDelete, tenantID, memberID)
		return err
	})
}

// AdvanceTOTPStep implements [sdk.CredentialStore] with one conditional
// UPDATE.
func (s *Store) AdvanceTOTPStep(ctx context.Context, tenantID, memberID string, step int64) (bool, error) {
	const op = "sqlite.AdvanceTOTPStep"
	var n int64
	err := s.write(ctx, op, func(x *wtx) error {
		var err error
		n, err = x.exec(qCredAdvance, tenantID, memberID, step)
		return err
	})
	return n == 1, err
}
