package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/server/errcode"
	"github.com/authserver/authserver/internal/store"
)

// writeJSON answers 200 with v encoded as JSON, never cached (RFC 8628
// section 3.2, as a token answer). The token endpoint's own answers take
// writeToken's faster path.
func writeJSON(w http.ResponseWriter, v any) {
	h := w.Header()
	h["Content-Type"], h["Cache-Control"], h["Pragma"] = hdrJSON, hdrNoStore, hdrNoCache
	_ = json.NewEncoder(w).Encode(v)
}

// deviceCodeResponse is RFC 8628 section 3.2's answer.
type deviceCodeResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// oauthError is an RFC 6749 error body, as the device grant answers.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// handleDeviceCode is POST /oauth/device/code (RFC 8628 section 3.1): a
// form with client_id (required), scope and service (optional, kept as
// given and shown to the person who approves).
func (s *Server) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "POST body must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "INVALID_REQUEST", "request body too large")
			return
		}
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "malformed form body")
		return
	}
	f := r.PostForm
	clientID, service := f.Get("client_id"), f.Get("service")
	scope := strings.Join(f["scope"], " ")
	if clientID == "" {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "client_id is required")
		return
	}
	if rerr := checkLengths("client_id", clientID, "service", service); rerr != nil {
		writeError(w, rerr.Status, rerr.Code, rerr.Message)
		return
	}
	if len(scope) > MaxFormBytes/2 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "scope too long")
		return
	}
	network := ipOf(r)
	if s.opts.Network != nil {
		network = s.opts.Network(network)
	}
	if !s.opts.DeviceStarts.Allow(network) {
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "too many device authorizations from this network: try again in a minute")
		return
	}
	da, err := s.opts.Device.Start(r.Context(), clientID, scope, service)
	if err != nil {
		errcode.Fail(w, r, s.logFor(r), s.opts.Metrics, err)
		return
	}
	base := strings.TrimRight(s.opts.DevicePublicURL, "/")
	s.logFor(r).Info("device authorization started", "client_id", audit.Clip(clientID), "client_ip", ipOf(r),
		"user_code", da.UserCode)
	writeJSON(w, deviceCodeResponse{DeviceCode: da.DeviceCode, UserCode: da.UserCode, VerificationURI: base + "/device",
		VerificationURIComplete: base + "/device?user_code=" + da.UserCode,
		ExpiresIn:               int(da.ExpiresIn / time.Second), Interval: int(da.Interval / time.Second)})
}

// deviceError answers a device_code poll that gets no token: 400 with the
// RFC's error code (authorization_pending, slow_down, access_denied,
// expired_token, invalid_grant).
func (s *Server) deviceError(w http.ResponseWriter, r *http.Request, oc *outcome, e *oidc.DeviceError) {
	oc.result = metrics.ResultBadRequest
	if e.Code != oidc.DeviceAuthorizationPending && e.Code != oidc.DeviceSlowDown {
		s.logFor(r).Info("device grant refused", "error", e.Code, "reason", e.Description, "client_ip", ipOf(r))
		// A poll that ends without a token (denied, expired, unknown) is
		// audited as a refused login; waiting polls are not.
		if s.opts.Audit != nil {
			s.opts.Audit.Record(store.AuditRecord{Time: time.Now(), Method: authn.MethodSSO, ClientIP: ipOf(r),
				UserAgent: audit.Clip(r.UserAgent()), Service: audit.Clip(r.PostFormValue("service")),
				ClientID: audit.Clip(r.PostFormValue("client_id")), RequestID: info(r).id, Kind: store.AuditKindToken,
				Result: store.AuditUnauthorized, Endpoint: login.EndpointToken,
				Reason: audit.Clip("device grant " + e.Code + ": " + e.Description)})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(oauthError{Error: e.Code, Description: e.Description})
}
