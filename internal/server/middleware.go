package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/authserver/authserver/internal/audit"
)

type ctxKey int

// infoKey holds a request's *reqInfo.
const infoKey ctxKey = iota

// reqInfo is what frame learns of a request before any handler runs: one
// context value for both, so a request costs one context and one copy of
// the *http.Request.
type reqInfo struct {
	id     string // X-Request-Id: the caller's, when sane, or made up
	client string // resolved client IP (resolveClient)
}

// info returns r's reqInfo; a request that did not pass through frame (a
// handler under test) gets a made-up id and its TCP peer.
func info(r *http.Request) *reqInfo {
	if in, ok := r.Context().Value(infoKey).(*reqInfo); ok {
		return in
	}
	return &reqInfo{client: peerIP(r.RemoteAddr).String()}
}

// frame is the one middleware in front of every handler: it gives every
// request an id (taken from X-Request-Id when the caller sent a sane one,
// and echoed in the response), resolves the client IP (resolveClient),
// turns a panic into a logged 500 with an errcode body, and, when the log
// level is info or lower, writes one access-log line per request. At warn
// and above a request costs no logging work at all. The access line leaves
// the query string out: it carries no secret today, but account names and
// scopes are logged by the token handler where they are meaningful. The
// method and path are the client's text, written before anything checks
// them (a request line may be nearly as long as the 64 KiB header limit),
// so they are clipped like every other client field.
func (s *Server) frame(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := &reqInfo{id: r.Header.Get("X-Request-Id")}
		if in.id == "" || len(in.id) > 64 {
			in.id = newRequestID()
		}
		in.client = s.resolveClient(r, in.id)
		w.Header()["X-Request-Id"] = []string{in.id}
		ctx := context.WithValue(r.Context(), infoKey, in)
		if s.opts.Begin != nil {
			ctx = s.opts.Begin(ctx)
		}
		r = r.WithContext(ctx)
		if !s.log.Enabled(r.Context(), slog.LevelInfo) {
			s.recovering(w, r, next)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		s.recovering(rec, r, next)
		s.logFor(r).Info("request", "method", audit.Clip(r.Method), "path", audit.Clip(r.URL.Path), "status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "remote", r.RemoteAddr)
	})
}

// recovering serves r with next, turning a panic into a logged 500.
func (s *Server) recovering(w http.ResponseWriter, r *http.Request, next http.Handler) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logFor(r).Error("panic", "value", v)
			writeError(w, http.StatusInternalServerError, "UNKNOWN", "internal error")
		}
	}()
	next.ServeHTTP(w, r)
}

// Request ids are made without a system call: a random 64-bit seed drawn
// at start, plus a counter, through splitmix64's finalizer (a bijection),
// so ids never repeat within a process and look random across replicas.
var (
	idSeed    = func() uint64 { var b [8]byte; _, _ = rand.Read(b[:]); return binary.LittleEndian.Uint64(b[:]) }()
	idCounter atomic.Uint64
)

// newRequestID is 16 hex digits.
func newRequestID() string {
	z := idSeed + idCounter.Add(1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], z)
	return hex.EncodeToString(b[:])
}

// logFor returns the logger with the request's id attached.
func (s *Server) logFor(r *http.Request) *slog.Logger {
	if in, ok := r.Context().Value(infoKey).(*reqInfo); ok {
		return s.log.With("request_id", in.id)
	}
	return s.log
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
