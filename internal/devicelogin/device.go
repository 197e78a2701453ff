package devicelogin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ClientID is the OAuth client_id `authserver login` sends; authserver
// shows it on the approval page.
const ClientID = "authserver-cli"

// DeviceGrantType is RFC 8628's grant type.
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Errors of the poll (RFC 8628 3.5), wrapped with a sentence for people.
var (
	ErrExpired = errors.New("expired_token")
	ErrDenied  = errors.New("access_denied")
)

// DeviceCode is the answer of the device authorization endpoint.
type DeviceCode struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// Token is what the token endpoint answers once the code is approved.
type Token struct {
	AccessToken  string `json:"access_token"`
	Token        string `json:"token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
}

// Subject is the `sub` of the access token (a JWT): the name the person
// was signed in as. The token is not verified here; the registry does that.
func (t Token) Subject() string {
	raw := t.AccessToken
	if raw == "" {
		raw = t.Token
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Sub
}

// Client runs the device grant against one authserver.
type Client struct {
	HTTP     *http.Client
	Base     string // the authserver's public URL
	TokenURL string // the token endpoint (the realm); default Base+TokenPath
	Service  string // the registry's service, sent with both requests
	Scope    string // optional: repository:NAME:ACTIONS ..., space-separated
	// Sleep waits d or until ctx ends (tests replace it); default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for the code's expiry; default time.Now.
	Now func() time.Time
}

// Start asks for a device code (RFC 8628 3.1).
func (c *Client) Start(ctx context.Context) (DeviceCode, error) {
	form := url.Values{"client_id": {ClientID}}
	if c.Service != "" {
		form.Set("service", c.Service)
	}
	if c.Scope != "" {
		form.Set("scope", c.Scope)
	}
	var dc DeviceCode
	status, body, err := c.post(ctx, strings.TrimRight(c.Base, "/")+"/oauth/device/code", form)
	if err != nil {
		return dc, fmt.Errorf("device code: %w", err)
	}
	if status != http.StatusOK {
		return dc, fmt.Errorf("device code: %s", describe(status, body))
	}
	if err := json.Unmarshal(body, &dc); err != nil {
		return dc, fmt.Errorf("device code: bad answer: %w", err)
	}
	if dc.DeviceCode == "" || dc.UserCode == "" || dc.VerificationURI == "" {
		return dc, errors.New("device code: the answer lacks device_code, user_code or verification_uri")
	}
	return dc, nil
}

// Poll asks the token endpoint every interval until the person approves or
// denies the code in the browser, or it expires (RFC 8628 3.4, 3.5):
// authorization_pending waits, slow_down adds 5 seconds to the interval.
// A server that cannot be reached, or answers 5xx, is asked again until the
// code expires.
func (c *Client) Poll(ctx context.Context, dc DeviceCode) (Token, error) {
	sleep, now := c.Sleep, c.Now
	if sleep == nil {
		sleep = sleepCtx
	}
	if now == nil {
		now = time.Now
	}
	interval := time.Duration(dc.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	expiresIn := time.Duration(dc.ExpiresIn) * time.Second
	if expiresIn <= 0 {
		expiresIn = 10 * time.Minute
	}
	deadline := now().Add(expiresIn)
	tokenURL := c.TokenURL
	if tokenURL == "" {
		tokenURL = strings.TrimRight(c.Base, "/") + TokenPath
	}
	form := url.Values{"grant_type": {DeviceGrantType}, "device_code": {dc.DeviceCode}, "client_id": {ClientID}}
	if c.Service != "" {
		form.Set("service", c.Service)
	}
	if c.Scope != "" {
		form.Set("scope", c.Scope)
	}
	for {
		if err := sleep(ctx, interval); err != nil {
			return Token{}, err
		}
		if now().After(deadline) {
			return Token{}, fmt.Errorf("%w: the code %s was not approved within %s; run the command again", ErrExpired, dc.UserCode, expiresIn)
		}
		status, body, err := c.post(ctx, tokenURL, form)
		if err != nil {
			if ctx.Err() != nil {
				return Token{}, ctx.Err()
			}
			continue // a network error: ask again until the code expires
		}
		if status == http.StatusOK {
			var t Token
			if err := json.Unmarshal(body, &t); err != nil {
				return Token{}, fmt.Errorf("token: bad answer: %w", err)
			}
			if t.RefreshToken == "" {
				return Token{}, errors.New("token: the answer has no refresh_token")
			}
			return t, nil
		}
		if status >= 500 {
			continue
		}
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oe)
		switch oe.Error {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second
		case "expired_token":
			return Token{}, fmt.Errorf("%w: the code %s expired before it was approved; run the command again", ErrExpired, dc.UserCode)
		case "access_denied":
			return Token{}, fmt.Errorf("%w: the sign-in with code %s was denied in the browser", ErrDenied, dc.UserCode)
		default:
			return Token{}, fmt.Errorf("token: %s", describe(status, body))
		}
	}
}

func (c *Client) post(ctx context.Context, u string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

// describe turns an error answer into a sentence: an OAuth error
// ({"error","error_description"}), authserver's errcode body
// ({"errors":[{"code","message"}]}), or the status.
func describe(status int, body []byte) string {
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Errors      []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &oe) == nil {
		switch {
		case oe.Error != "" && oe.Description != "":
			return fmt.Sprintf("%s (%d %s: %s)", oe.Description, status, http.StatusText(status), oe.Error)
		case oe.Error != "":
			return fmt.Sprintf("%d %s: %s", status, http.StatusText(status), oe.Error)
		case len(oe.Errors) > 0:
			return fmt.Sprintf("%d %s: %s: %s", status, http.StatusText(status), oe.Errors[0].Code, oe.Errors[0].Message)
		}
	}
	if status == http.StatusNotFound {
		return "404 Not Found: this authserver does not offer device sign-in (is oidc: configured?)"
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
