package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/authserver/authserver/internal/audit"
)

type ctxKey int

const requestIDKey ctxKey = iota

// requestID gives every request an id, taken from X-Request-Id when the
// caller sent a sane one, and echoes it in the response.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// logFor returns the logger with the request's id attached.
func (s *Server) logFor(r *http.Request) *slog.Logger {
	if id, ok := r.Context().Value(requestIDKey).(string); ok {
		return s.log.With("request_id", id)
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

// accessLog writes one line per request. The query string is left out: it
// carries no secret today, but account names and scopes are logged by the
// token handler where they are meaningful. The method and path are the
// client's text, written before anything checks them (a request line may
// be nearly as long as the 64 KiB header limit), so they are clipped like
// every other client field.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.logFor(r).Info("request", "method", audit.Clip(r.Method), "path", audit.Clip(r.URL.Path), "status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "remote", r.RemoteAddr)
	})
}

// recoverer turns a panic into a logged 500 with an errcode body.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})
}
