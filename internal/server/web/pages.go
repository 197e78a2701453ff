package web

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authserver/authserver/internal/admin"
	"github.com/authserver/authserver/internal/audit"
	"github.com/authserver/authserver/internal/authn"
	"github.com/authserver/authserver/internal/authn/oidc"
	"github.com/authserver/authserver/internal/authn/secret"
	"github.com/authserver/authserver/internal/login"
	"github.com/authserver/authserver/internal/server/errcode"
	"github.com/authserver/authserver/internal/store"
)

// fail answers err with its page: the one error-to-status mapping
// (errcode.Of) decides the status; a provider or store that cannot be
// asked is a 503 page, never a 401 or 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, s *session) {
	rep := errcode.Of(err)
	switch {
	case rep.Bug:
		h.o.Logger.Error("internal error", "method", r.Method, "path", audit.Clip(r.URL.Path), "err", err)
		h.message(w, r, http.StatusInternalServerError, "Something went wrong", "The server could not do this (the log says why).", s)
		return
	case rep.Status == http.StatusServiceUnavailable:
		h.o.Logger.Error("backend failed", "method", r.Method, "path", audit.Clip(r.URL.Path), "err", err)
		h.o.Metrics.StoreError()
		title, text := "Unavailable", "The server cannot reach what it needs right now: try again in a minute."
		if errors.Is(err, oidc.ErrProvider) {
			title, text = "Sign-in unavailable", "Your company's sign-in service cannot be reached right now: try again in a minute."
		}
		w.Header().Set("Retry-After", "30")
		h.message(w, r, http.StatusServiceUnavailable, title, text, s)
		return
	}
	h.message(w, r, rep.Status, http.StatusText(rep.Status), rep.Message, s)
}

// note writes an audit record of an SSO event (best effort: a sign-in
// that happened is not undone because its record could not be written,
// but the failure is logged).
func (h *Handler) note(r *http.Request, who admin.Actor, action, target, result string) {
	if err := h.o.Admin.Note(r.Context(), who, action, target, result); err != nil {
		h.o.Logger.Error("cannot write audit record", "action", action, "target", target, "err", err)
	}
}

// login is GET /login?next=: off to the provider.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	next := oidc.SafeNext(r.URL.Query().Get("next"))
	network := h.o.ClientIP(r)
	if h.o.Network != nil {
		network = h.o.Network(network)
	}
	if !h.o.Starts.Allow(network) {
		w.Header().Set("Retry-After", "60")
		h.message(w, r, http.StatusTooManyRequests, "Too many sign-ins", "Too many sign-ins were started from your network in the last minute: try again in a minute.", nil)
		return
	}
	p, err := h.o.Provider.Begin(r.Context(), next)
	if err != nil {
		h.fail(w, r, err, nil)
		return
	}
	h.setCookie(w, loginCookie, p.Cookie, "/login", int(oidc.LoginTTL/time.Second))
	http.Redirect(w, r, p.URL, http.StatusFound)
}

// callback is GET /login/callback: the provider sends the browser back
// with a code (or an error); a session is made.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	who := admin.Actor{Name: "anonymous", ClientIP: h.o.ClientIP(r), Method: authn.MethodSSO}
	h.setCookie(w, loginCookie, "", "/login", -1)
	if e := q.Get("error"); e != "" {
		msg := "The sign-in service said: " + audit.Clip(e)
		if d := q.Get("error_description"); d != "" {
			msg += " (" + audit.Clip(d) + ")"
		}
		h.note(r, who, "sso.signin", "issuer "+h.o.Provider.Issuer(), store.AuditUnauthorized)
		h.message(w, r, http.StatusForbidden, "Sign-in refused", msg, nil)
		return
	}
	cookie := ""
	if c, err := r.Cookie(loginCookie); err == nil {
		cookie = c.Value
	}
	in, err := h.o.Provider.Finish(r.Context(), q.Get("state"), cookie, q.Get("code"))
	var ref *oidc.Refusal
	if errors.As(err, &ref) {
		if ref.User != "" {
			who.Name = ref.User
		}
		h.o.Logger.Info("sso sign-in refused", "user", audit.Clip(ref.User), "reason", ref.Reason, "client_ip", who.ClientIP)
		h.note(r, who, "sso.signin", "refused: "+audit.Clip(ref.Reason), store.AuditUnauthorized)
		h.o.Metrics.Login(login.EndpointWeb, login.ResultUnauthorized, authn.MethodSSO)
		h.message(w, r, http.StatusForbidden, "Sign-in refused", ref.Reason, nil)
		return
	}
	if err != nil {
		h.o.Metrics.Login(login.EndpointWeb, login.ResultUnavailable, authn.MethodSSO)
		h.fail(w, r, err, nil)
		return
	}
	who = admin.Actor{Name: in.User.Name, UserID: in.User.ID, Admin: in.Identity.Admin, ClientIP: who.ClientIP,
		Method: authn.MethodSSO, SignInID: in.SignIn.ID, SignInEnds: in.SignIn.ExpiresAt}
	if in.Onboarded {
		h.note(r, who, "user.onboard", fmt.Sprintf("user %s from %s", in.User.Name, h.o.Provider.Issuer()), store.AuditDone)
	}
	h.note(r, who, "sso.signin", fmt.Sprintf("sign-in %d of user %s (groups %s)", in.SignIn.ID, in.User.Name,
		audit.Clip(strings.Join(in.Groups, ","))), store.AuditDone)
	h.o.Metrics.Login(login.EndpointWeb, login.ResultOK, authn.MethodSSO)
	value := random()
	now := h.o.Now()
	ends := in.SignIn.ExpiresAt
	if ends.After(now.Add(SessionTTL)) {
		ends = now.Add(SessionTTL)
	}
	ws := store.WebSession{Hash: secret.Hash(value), SignInID: in.SignIn.ID, UserID: in.User.ID, CSRF: random(),
		CreatedAt: now, ExpiresAt: ends}
	if err := h.o.Store.CreateWebSession(r.Context(), &ws); err != nil {
		h.fail(w, r, fmt.Errorf("create web session: %w: %w", authn.ErrUnavailable, err), nil)
		return
	}
	h.setCookie(w, SessionCookie, value, "/", int(ends.Sub(now)/time.Second))
	h.o.Logger.Info("sso sign-in", "user", in.User.Name, "onboarded", in.Onboarded, "groups", len(in.Groups), "client_ip", who.ClientIP)
	h.redirect(w, r, in.Next)
}

// logout is POST /logout: the session row goes (the cookie with it). The
// credentials minted from the sign-in stay: they outlive the browser.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	h.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		if err := h.o.Store.DeleteWebSession(r.Context(), s.web.Hash); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.fail(w, r, fmt.Errorf("sign out: %w: %w", authn.ErrUnavailable, err), s)
			return
		}
		h.setCookie(w, SessionCookie, "", "/", -1)
		h.note(r, h.actor(r, s), "sso.signout", "web session of user "+s.id.Name, store.AuditDone)
		v := view{Title: "Signed out", Notice: "You are signed out. Credentials you made stay valid until they expire or are revoked.",
			Next: h.base + "/login", NextText: "Sign in again"}
		h.render(w, http.StatusOK, "message", v)
	})(w, r)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// home is GET /: "Your registry credentials".
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		h.showHome(w, r, s, http.StatusOK, "", "", "")
	})(w, r)
}

func (h *Handler) showHome(w http.ResponseWriter, r *http.Request, s *session, status int, errText, newName, newSecret string) {
	ctx := r.Context()
	who := h.actor(r, s)
	v := view{Title: "Your registry credentials", User: s.id.Name, CSRF: s.web.CSRF, Error: errText,
		SessionEnds: day(s.id.NotAfter), Registry: h.o.Registry, DefaultDays: "until your sign-in ends",
		NewName: newName, NewSecret: newSecret}
	pats, err := h.o.Admin.ListPATs(ctx, who, s.id.Name)
	if err != nil {
		h.fail(w, r, err, s)
		return
	}
	for _, t := range pats {
		v.PATs = append(v.PATs, patRow{Name: t.Name, Created: day(t.CreatedAt), Expires: day(t.ExpiresAt), LastUsed: day(t.LastUsedAt)})
	}
	rts, err := h.o.Admin.ListRefreshTokens(ctx, who, s.id.Name)
	if err != nil {
		h.fail(w, r, err, s)
		return
	}
	for _, t := range rts {
		v.Refresh = append(v.Refresh, refreshRow{ID: t.ID, Client: t.ClientID, Created: day(t.CreatedAt), LastUsed: day(t.LastUsedAt),
			Expires: day(t.ExpiresAt)})
	}
	ps, err := h.o.Admin.ListProjects(ctx, who)
	if err != nil {
		h.fail(w, r, err, s)
		return
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	roles, err := h.o.Admin.ProjectRoles(ctx, who, names)
	if err != nil {
		h.fail(w, r, fmt.Errorf("project roles: %w: %w", authn.ErrUnavailable, err), s)
		return
	}
	for _, p := range ps {
		role := string(roles[p.Name])
		switch {
		case role == "" && s.id.Admin:
			role = "sysadmin"
		case role == "":
			role = "none (public)"
		}
		v.Projects = append(v.Projects, projectRow{Name: p.Name, Role: role, Public: p.Public})
	}
	sort.Slice(v.Projects, func(i, j int) bool { return v.Projects[i].Name < v.Projects[j].Name })
	if ou, err := h.o.Store.GetOIDCUser(ctx, s.id.Name); err == nil {
		v.Groups = ou.Groups
	}
	h.render(w, status, "home", v)
}

// createPAT is POST /tokens (name, expires in days): the secret is shown
// once, on the page this answers.
func (h *Handler) createPAT(w http.ResponseWriter, r *http.Request) {
	h.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		name := strings.TrimSpace(r.PostForm.Get("name"))
		var life time.Duration
		if d := strings.TrimSpace(r.PostForm.Get("expires")); d != "" {
			n, err := strconv.Atoi(d)
			if err != nil || n < 1 || n > 36500 {
				h.showHome(w, r, s, http.StatusBadRequest, "Expires: a number of days from 1 to 36500, or empty.", "", "")
				return
			}
			life = time.Duration(n) * 24 * time.Hour
		}
		_, sec, err := h.o.Admin.CreatePAT(r.Context(), h.actor(r, s), admin.NewPAT{User: s.id.Name, Name: name, Lifetime: life})
		if err != nil {
			if rep := errcode.Of(err); rep.Status < 500 {
				h.showHome(w, r, s, rep.Status, rep.Message, "", "")
				return
			}
			h.fail(w, r, err, s)
			return
		}
		h.o.Logger.Info("personal access token created", "user", s.id.Name, "token", name, "via", "web")
		h.showHome(w, r, s, http.StatusOK, "", name, sec)
	})(w, r)
}

// revokePAT is POST /tokens/{name}/revoke.
func (h *Handler) revokePAT(w http.ResponseWriter, r *http.Request) {
	h.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		if err := h.o.Admin.RevokePAT(r.Context(), h.actor(r, s), s.id.Name, chi.URLParam(r, "name")); err != nil {
			h.fail(w, r, err, s)
			return
		}
		h.redirect(w, r, "/")
	})(w, r)
}

// revokeRefresh is POST /refresh-tokens/{id}/revoke.
func (h *Handler) revokeRefresh(w http.ResponseWriter, r *http.Request) {
	h.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil || id <= 0 {
			h.message(w, r, http.StatusBadRequest, "Bad request", "No such refresh token.", s)
			return
		}
		if err := h.o.Admin.RevokeRefreshToken(r.Context(), h.actor(r, s), s.id.Name, id); err != nil {
			h.fail(w, r, err, s)
			return
		}
		h.redirect(w, r, "/")
	})(w, r)
}

// device is GET /device[?user_code=]: the code form, or the request it
// names with the approve and deny buttons.
func (h *Handler) device(w http.ResponseWriter, r *http.Request) {
	h.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		v := view{Title: "Sign in a device", User: s.id.Name, CSRF: s.web.CSRF}
		typed := r.URL.Query().Get("user_code")
		if typed == "" {
			h.render(w, http.StatusOK, "device", v)
			return
		}
		dc, ok, err := h.o.Devices.Pending(r.Context(), typed)
		if err != nil {
			h.fail(w, r, err, s)
			return
		}
		if !ok {
			v.Error = "No request waits for that code: it is mistyped, expired (codes live " + oidc.DeviceCodeTTL.String() +
				") or already decided. Start again in your terminal."
			h.render(w, http.StatusNotFound, "device", v)
			return
		}
		v.Device = &deviceView{ClientID: dc.ClientID, Scope: dc.Scope, UserCode: oidc.FormatUserCode(dc.UserCode)}
		h.render(w, http.StatusOK, "device", v)
	})(w, r)
}

// decide is POST /device (user_code, decision approve|deny).
func (h *Handler) decide(w http.ResponseWriter, r *http.Request) {
	h.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		decision := r.PostForm.Get("decision")
		if decision != "approve" && decision != "deny" {
			h.message(w, r, http.StatusBadRequest, "Bad request", "Choose approve or deny.", s)
			return
		}
		dc, ok, err := h.o.Devices.Decide(r.Context(), r.PostForm.Get("user_code"), decision == "approve", s.id)
		if err != nil {
			h.fail(w, r, err, s)
			return
		}
		if !ok {
			h.message(w, r, http.StatusNotFound, "Nothing to decide", "No request waits for that code: expired or already decided.", s)
			return
		}
		action, word := "device.approve", "approved"
		if decision == "deny" {
			action, word = "device.deny", "denied"
		}
		h.note(r, h.actor(r, s), action, fmt.Sprintf("device code %s of client %s (scope %s)", oidc.FormatUserCode(dc.UserCode),
			audit.Clip(dc.ClientID), audit.Clip(dc.Scope)), store.AuditDone)
		h.o.Logger.Info("device authorization "+word, "user", s.id.Name, "client_id", audit.Clip(dc.ClientID))
		v := view{Title: "Device " + word, User: s.id.Name, CSRF: s.web.CSRF,
			Notice: "Request " + word + ": " + map[string]string{"approved": "you can return to your terminal.", "denied": "the program gets no access."}[word],
			Next:   h.base + "/", NextText: "Your credentials"}
		h.render(w, http.StatusOK, "message", v)
	})(w, r)
}
