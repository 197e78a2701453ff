package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/metrics"
	"github.com/authserver/authserver/internal/server/errcode"
)

// Limits enforced before any credential is checked.
const (
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes = 1 << 20
	// MaxFieldBytes bounds the Basic user name and every path or query
	// parameter.
	MaxFieldBytes = 256
)

// Options are what the API needs; internal/server mounts the handler New
// returns under /api.
type Options struct {
	// Admin performs every operation, with the caller as its Actor.
	Admin *admin.Service
	// Gate checks Basic credentials: the token endpoint's login gate
	// (server.Options.Gate), so passwords and personal access tokens work,
	// failures count against the same throttle and are audited with
	// endpoint "api"; robots are refused with 403.
	Gate *login.Gate
	// Metrics counts backend failures; nil counts nothing.
	Metrics *metrics.Metrics
	// ClientIP resolves the caller's address (server.ClientIP, which
	// honours trusted proxies); nil uses the TCP peer.
	ClientIP func(*http.Request) string
	// RequestID is the request's id (server.RequestID), for the audit
	// record of a failed login; nil: none.
	RequestID func(*http.Request) string
	// Realm is named in WWW-Authenticate: Basic on a 401.
	Realm string
	// Version is authserver's version, reported as harbor_version.
	Version string
	// AuthMode is Harbor's auth_mode: "ldap_auth" with a directory, else
	// "db_auth".
	AuthMode string
	// RegistryURL is reported by /systeminfo (the registry's public host).
	RegistryURL string
	// RobotPrefix is robots.prefix ("robot$").
	RobotPrefix string
	// AdminOnlyProjects reports api.project_creation: adminonly (admin
	// enforces it; the API only reports it).
	AdminOnlyProjects bool
	Logger            *slog.Logger
	// PublicURL is the server's own URL (server.public_url, or the default
	// config.RealmBase derives from server.addr). A POST, PUT, PATCH or
	// DELETE whose Origin header names another origin is refused with 403
	// (browser.go); empty refuses every request that carries an Origin.
	PublicURL string
}

// API serves the REST API.
type API struct {
	opt Options
	log *slog.Logger
}

// New returns the API's handler, routed relative to /api.
func New(opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{opt: opt, log: opt.Logger}
	return a.router()
}

// router builds the chi router from routes, the one table that the OpenAPI
// document is built from too.
func (a *API) router() chi.Router {
	r := chi.NewRouter()
	r.Use(a.browserSafe, a.limits)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "not found: authserver serves only the access-related part of Harbor's API")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method "+r.Method+" is not supported here")
	})
	for _, rt := range a.routes() {
		r.Method(rt.method, rt.path, a.handle(rt))
	}
	return r
}

// limits refuses oversized bodies and parameters before authentication.
func (a *API) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "BAD_REQUEST", fmt.Sprintf("body larger than %d bytes", MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		for k, vs := range r.URL.Query() {
			for _, v := range vs {
				if len(k) > MaxFieldBytes || len(v) > MaxFieldBytes {
					writeError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("query parameter %.64s too long: at most %d bytes", k, MaxFieldBytes))
					return
				}
			}
		}
		if len(r.URL.Path) > 4*MaxFieldBytes {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "path too long")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// route is one endpoint.
type route struct {
	method, path, summary string
	// anonymous routes serve callers without credentials too (as the
	// anonymous actor); others answer 401 first.
	anonymous bool
	// query are the query parameters it takes; any other is 400.
	query []param
	// body and result name the request and 2XX response schemas in the
	// OpenAPI document (schemas.go); "" for none.
	body, result string
	fn           func(*call) error
}

// unknownParam refuses, before any credential is checked, a query
// parameter the route does not take, as an unknown field of a JSON body
// is refused: a misspelt filter would otherwise list everything.
func (rt route) unknownParam(r *http.Request) error {
	for k := range r.URL.Query() {
		if !slices.ContainsFunc(rt.query, func(p param) bool { return p.name == k }) {
			names := make([]string, len(rt.query))
			for i, p := range rt.query {
				names[i] = p.name
			}
			takes := "none"
			if len(names) > 0 {
				takes = strings.Join(names, ", ")
			}
			return badf("unknown query parameter %.64q (this operation takes: %s)", k, takes)
		}
	}
	return nil
}

// call is one request being served.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	who admin.Actor
	a   *API
}

func (a *API) handle(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, a: a}
		err := rt.unknownParam(r)
		var who admin.Actor
		if err == nil {
			who, err = a.authenticate(r, rt.anonymous)
		}
		if err == nil {
			c.who = who
			err = rt.fn(c)
		}
		if err != nil {
			errcode.Fail(w, r, a.log, a.opt.Metrics, err)
		}
	}
}

func (a *API) clientIP(r *http.Request) string {
	if a.opt.ClientIP != nil {
		return a.opt.ClientIP(r)
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// authenticate turns Basic credentials into the actor, through the login
// gate. Without credentials the actor is anonymous, which only anonymous
// routes serve.
func (a *API) authenticate(r *http.Request, anonymous bool) (admin.Actor, error) {
	ip := a.clientIP(r)
	if r.Header.Get("Authorization") == "" {
		if !anonymous {
			return admin.Actor{}, a.unauthorized("authentication required")
		}
		return admin.Actor{ClientIP: ip}, nil
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" || pass == "" {
		return admin.Actor{}, a.unauthorized("authentication required: Basic credentials expected")
	}
	var rid string
	if a.opt.RequestID != nil {
		rid = a.opt.RequestID(r)
	}
	id, err := a.opt.Gate.Login(r.Context(), login.Attempt{Endpoint: login.EndpointAPI, Grant: login.GrantBasic,
		Username: user, Secret: pass, ClientIP: ip, UserAgent: r.UserAgent(), RequestID: rid})
	if err != nil {
		return admin.Actor{}, err
	}
	if id.Robot != nil {
		return admin.Actor{}, &errcode.Error{Status: http.StatusForbidden, Code: "FORBIDDEN", Message: "robot accounts may not use the API"}
	}
	return admin.Actor{Name: id.Name, Admin: id.Admin, UserID: id.UserID, GroupDNs: id.GroupDNs, ClientIP: ip, Method: id.Method,
		PasswordVerifiedAt: id.PasswordVerifiedAt}, nil
}

// unauthorized is a request that needs credentials it did not bring.
func (a *API) unauthorized(msg string) error {
	return &login.Error{Kind: login.KindUnauthorized, Msg: msg, Challenge: `Basic realm="` + a.opt.Realm + `"`}
}

func badf(format string, args ...any) error { return errcode.BadRequest(fmt.Sprintf(format, args...)) }

// errUnsupportedMedia is a body that is not JSON: 415, as Harbor answers.
var errUnsupportedMedia = &errcode.Error{Status: http.StatusUnsupportedMediaType, Code: "UNSUPPORTED_MEDIA_TYPE",
	Message: "Content-Type must be application/json"}

// writeError answers with status and Harbor's error body (the registry's
// errcode shape).
func writeError(w http.ResponseWriter, status int, code, msg string) {
	errcode.Write(w, status, code, msg)
}

// json answers status with v.
func (c *call) json(status int, v any) error {
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(status)
	return json.NewEncoder(c.w).Encode(v)
}

func (c *call) ok(v any) error { return c.json(http.StatusOK, v) }

func (c *call) empty(status int) error {
	c.w.WriteHeader(status)
	return nil
}

// done ends a change that answers nothing: err as it is, or 200 with no
// body when the change succeeded.
func (c *call) done(err error) error {
	if err != nil {
		return err
	}
	return c.empty(http.StatusOK)
}

// created answers 201 with Location: the resource's path by id, or by
// name when the request sets X-Resource-Name-In-Location: true.
func (c *call) created(collection string, id int64, name string) error {
	loc := collection + "/" + strconv.FormatInt(id, 10)
	if strings.EqualFold(c.r.Header.Get("X-Resource-Name-In-Location"), "true") && name != "" {
		loc = collection + "/" + name
	}
	c.w.Header().Set("Location", "/api/v2.0"+loc)
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

// decode reads a JSON body into v strictly: unknown fields, wrong types
// and trailing data are 400.
func (c *call) decode(v any) error {
	if !isJSON(c.r) {
		return errUnsupportedMedia
	}
	dec := json.NewDecoder(c.r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return badf("malformed JSON body: %s", jsonProblem(err))
	}
	if dec.More() {
		return badf("malformed JSON body: data after the object")
	}
	return nil
}

// jsonProblem says what is wrong with a JSON body in the client's terms:
// the field and the JSON type it wants, never Go's type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		want := map[reflect.Kind]string{reflect.String: "a string", reflect.Bool: "true or false", reflect.Slice: "an array",
			reflect.Map: "an object", reflect.Struct: "an object", reflect.Pointer: "an object"}[te.Type.Kind()]
		if want == "" {
			want = "a number"
			if te.Type.Kind() >= reflect.Int && te.Type.Kind() <= reflect.Uint64 {
				want = "an integer"
			}
		}
		field := te.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("%s: want %s, got %s", field, want, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the body ends too early"
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + f
	}
	return "not the JSON this operation takes"
}

func chiParam(c *call, name string) string { return chi.URLParam(c.r, name) }

// id parses the path parameter name as a positive integer.
func (c *call) id(name string) (int64, error) {
	v := chi.URLParam(c.r, name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, badf("%s %q: want a positive integer", name, v)
	}
	return n, nil
}

// byID finds the resource whose id is the path parameter name with get,
// which checks the actor's right to read it.
func byID[T any](c *call, name string, get func(context.Context, admin.Actor, int64) (T, error)) (T, error) {
	id, err := c.id(name)
	if err != nil {
		var zero T
		return zero, err
	}
	return get(c.r.Context(), c.who, id)
}

// show answers 200 with the path's resource, found by find and rendered
// by render.
func show[T, R any](c *call, find func() (T, error), render func(T) R) error {
	v, err := find()
	if err != nil {
		return err
	}
	return c.ok(render(v))
}

// act changes the path's resource: find it (404 when missing), then fn
// with it; 200 with no body when fn succeeds.
func act[T any](c *call, find func() (T, error), fn func(T) error) error {
	v, err := find()
	if err != nil {
		return err
	}
	return c.done(fn(v))
}

// change starts a change to the path's resource: find it (404 before any
// complaint about the body), then decode the body into req.
func change[T any](c *call, find func() (T, error), req any) (T, error) {
	v, err := find()
	if err != nil {
		return v, err
	}
	return v, c.decode(req)
}

// harborTime is Harbor's time format: RFC 3339 UTC.
func harborTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00.000Z"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
