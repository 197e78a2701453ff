package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/store"
)

// The device authorization grant (RFC 8628), run by authserver itself so
// it works with any provider: the CLI asks for a code, the person approves
// it at /device after signing in with SSO, and the CLI's poll at
// /service/token is answered with an access token and a refresh token that
// hangs on that sign-in.

// Device flow timings (RFC 8628 expires_in and interval).
const (
	DeviceCodeTTL  = 10 * time.Minute
	DeviceInterval = 5 * time.Second
)

// UserCodeAlphabet are the letters of a user code: consonants without
// vowels (no words), no look-alikes (RFC 8628 section 6.1).
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// DeviceCodePrefix starts every device_code.
const DeviceCodePrefix = "asd_"

// DeviceStore is what Devices reads and writes.
type DeviceStore interface {
	CreateDeviceCode(ctx context.Context, d *store.DeviceCode) error
	GetDeviceCode(ctx context.Context, userCode string) (store.DeviceCode, error)
	DecideDeviceCode(ctx context.Context, userCode string, approve bool, userID, signInID int64, at time.Time) (store.DeviceCode, error)
	PollDeviceCode(ctx context.Context, hash string, at time.Time) (store.DeviceCode, error)
	GetSignIn(ctx context.Context, id int64) (store.SignIn, error)
}

// Devices runs device authorizations.
type Devices struct {
	st       DeviceStore
	accounts *authn.Accounts
	now      func() time.Time
}

// NewDevices returns the device flow over st; accounts builds (and
// re-checks) the identity of the person who approved. now nil is time.Now.
func NewDevices(st DeviceStore, accounts *authn.Accounts, now func() time.Time) *Devices {
	if now == nil {
		now = time.Now
	}
	return &Devices{st: st, accounts: accounts, now: now}
}

// DeviceAuthorization is the answer to POST /oauth/device/code, less the
// URIs the server adds.
type DeviceAuthorization struct {
	DeviceCode string
	// UserCode is shown as XXXX-XXXX.
	UserCode  string
	ExpiresIn time.Duration
	Interval  time.Duration
}

// Start makes a device authorization for clientID asking for scope and
// service (kept as given, shown at approval).
func (d *Devices) Start(ctx context.Context, clientID, scope, service string) (DeviceAuthorization, error) {
	code, err := secret.New(DeviceCodePrefix, false)
	if err != nil {
		return DeviceAuthorization{}, err
	}
	now := d.now()
	for range 5 { // a user code already in use is drawn again
		uc := newUserCode()
		err = d.st.CreateDeviceCode(ctx, &store.DeviceCode{Hash: secret.Hash(code), UserCode: uc, ClientID: clientID, Scope: scope,
			Service: service, CreatedAt: now, ExpiresAt: now.Add(DeviceCodeTTL), Interval: DeviceInterval})
		if err == nil {
			return DeviceAuthorization{DeviceCode: code, UserCode: FormatUserCode(uc), ExpiresIn: DeviceCodeTTL, Interval: DeviceInterval}, nil
		}
		if !errors.Is(err, store.ErrAlreadyExists) {
			break
		}
	}
	return DeviceAuthorization{}, fmt.Errorf("device authorization: %w: %w", authn.ErrUnavailable, err)
}

func newUserCode() string {
	b := make([]byte, 8)
	out := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		// 256 is not a multiple of 20: the bias (at most 1 in 12) costs a
		// fraction of a bit of 34.6; the code lives 10 minutes.
		out[i] = UserCodeAlphabet[int(b[i])%len(UserCodeAlphabet)]
	}
	return string(out)
}

// FormatUserCode shows a stored user code as XXXX-XXXX.
func FormatUserCode(uc string) string {
	if len(uc) != 8 {
		return uc
	}
	return uc[:4] + "-" + uc[4:]
}

// NormalizeUserCode reads what a person typed: case, dashes and spaces do
// not matter. ok is false when it cannot be a user code.
func NormalizeUserCode(typed string) (string, bool) {
	uc := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, typed)
	if len(uc) != 8 {
		return "", false
	}
	for _, r := range uc {
		if !strings.ContainsRune(UserCodeAlphabet, r) {
			return "", false
		}
	}
	return uc, true
}

// Pending returns the pending, unexpired request for a typed user code;
// ok false when there is none (unknown, decided, expired).
func (d *Devices) Pending(ctx context.Context, typed string) (store.DeviceCode, bool, error) {
	uc, ok := NormalizeUserCode(typed)
	if !ok {
		return store.DeviceCode{}, false, nil
	}
	dc, err := d.st.GetDeviceCode(ctx, uc)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.DeviceCode{}, false, nil
	case err != nil:
		return store.DeviceCode{}, false, fmt.Errorf("device code: %w: %w", authn.ErrUnavailable, err)
	}
	return dc, dc.Status == store.DevicePending && d.now().Before(dc.ExpiresAt), nil
}

// Decide approves or denies the request with the typed user code for the
// person signed in as id (Identity.SignInID set); ok false when there is no
// pending request for it any more.
func (d *Devices) Decide(ctx context.Context, typed string, approve bool, id authn.Identity) (store.DeviceCode, bool, error) {
	uc, ok := NormalizeUserCode(typed)
	if !ok {
		return store.DeviceCode{}, false, nil
	}
	dc, err := d.st.DecideDeviceCode(ctx, uc, approve, id.UserID, id.SignInID, d.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.DeviceCode{}, false, nil
	case err != nil:
		return store.DeviceCode{}, false, fmt.Errorf("decide device code: %w: %w", authn.ErrUnavailable, err)
	}
	return dc, true, nil
}

// DeviceError is a poll answered with an RFC 8628 (or RFC 6749) error:
// 400 {"error": Code}.
type DeviceError struct {
	Code        string
	Description string
}

func (e *DeviceError) Error() string { return "device grant: " + e.Code + ": " + e.Description }

// RFC 8628 section 3.5 error codes, and RFC 6749's invalid_grant.
const (
	DeviceAuthorizationPending = "authorization_pending"
	DeviceSlowDown             = "slow_down"
	DeviceAccessDenied         = "access_denied"
	DeviceExpiredToken         = "expired_token"
	DeviceInvalidGrant         = "invalid_grant"
)

// Redeem answers a poll of clientID with deviceCode: a *DeviceError while
// the request is not approved (or can never be), else the identity of the
// person who approved it, as it is now (disabled users are refused),
// MethodSSO, hanging on their sign-in (SignInID, NotAfter at its end). An
// approval is redeemed once.
func (d *Devices) Redeem(ctx context.Context, deviceCode, clientID string) (authn.Identity, error) {
	now := d.now()
	if !strings.HasPrefix(deviceCode, DeviceCodePrefix) || len(deviceCode) > 128 {
		return authn.Identity{}, &DeviceError{DeviceInvalidGrant, "not a device_code of this server"}
	}
	dc, err := d.st.PollDeviceCode(ctx, secret.Hash(deviceCode), now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return authn.Identity{}, &DeviceError{DeviceInvalidGrant, "unknown device_code (expired ones are forgotten)"}
	case err != nil:
		return authn.Identity{}, fmt.Errorf("device grant: %w: %w", authn.ErrUnavailable, err)
	case dc.ClientID != clientID:
		return authn.Identity{}, &DeviceError{DeviceInvalidGrant, "the device_code was issued to another client_id"}
	case !now.Before(dc.ExpiresAt):
		return authn.Identity{}, &DeviceError{DeviceExpiredToken, "the device_code expired: start again"}
	case dc.Status == store.DeviceDenied:
		return authn.Identity{}, &DeviceError{DeviceAccessDenied, "the request was denied"}
	case dc.Status == store.DeviceUsed:
		return authn.Identity{}, &DeviceError{DeviceInvalidGrant, "the device_code was already used"}
	case dc.Status == store.DeviceApproved:
		return d.approved(ctx, dc)
	case !dc.LastPoll.IsZero() && now.Sub(dc.LastPoll) < dc.Interval:
		return authn.Identity{}, &DeviceError{DeviceSlowDown, fmt.Sprintf("poll at most every %s", dc.Interval)}
	}
	return authn.Identity{}, &DeviceError{DeviceAuthorizationPending, "waiting for the person to approve"}
}

// approved is the identity an approved request stands for.
func (d *Devices) approved(ctx context.Context, dc store.DeviceCode) (authn.Identity, error) {
	id, why, err := d.accounts.Current(ctx, dc.User, authn.MethodSSO, d.now())
	if err != nil {
		return authn.Identity{}, fmt.Errorf("device grant: %w", err)
	}
	if why == "" && id.UserID != dc.UserID {
		why = "user was re-created"
	}
	if why == "" {
		if why, err = d.accounts.SignIn(ctx, dc.SignInID); err != nil {
			return authn.Identity{}, fmt.Errorf("device grant: %w", err)
		}
	}
	if why != "" {
		return authn.Identity{}, &DeviceError{DeviceAccessDenied, "the approving user may no longer sign in: " + why}
	}
	id.SignInID = dc.SignInID
	id.NotAfter = d.signInEnd(ctx, dc.SignInID)
	return id, nil
}

// signInEnd reads when sign-in id ends (zero when it cannot be read: every
// use of the refresh token checks the sign-in anyway).
func (d *Devices) signInEnd(ctx context.Context, id int64) time.Time {
	si, err := d.st.GetSignIn(ctx, id)
	if err != nil {
		return time.Time{}
	}
	return si.ExpiresAt
}
