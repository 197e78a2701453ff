package server

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/authserver/authserver/internal/server/errcode"
	"github.com/authserver/authserver/internal/token"
)

// writeError answers with status and an errcode JSON body. Messages are
// generic for clients; details belong in the log.
func writeError(w http.ResponseWriter, status int, code, message string) {
	errcode.Write(w, status, code, message)
}

// Header values of every token answer, shared (net/http only reads them).
var (
	hdrJSON    = []string{"application/json"}
	hdrNoStore = []string{"no-store"}
	hdrNoCache = []string{"no-cache"}
)

// answerBufs holds the buffers token answers are put together in.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeToken answers 200 with resp: the bytes json.NewEncoder(w).Encode
// writes for a tokenResponse (TestWriteTokenMatchesEncodingJSON), put
// together without reflection in a pooled buffer and sent with a
// Content-Length, in one write.
func writeToken(w http.ResponseWriter, resp *tokenResponse) {
	bp := answerBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 { // an answer with a huge scope list is not kept
			answerBufs.Put(bp)
		}
	}()
	b := (*bp)[:0]
	b = append(b, `{"token":`...)
	b = token.AppendJSONString(b, resp.Token)
	b = append(b, `,"access_token":`...)
	b = token.AppendJSONString(b, resp.AccessToken)
	if resp.TokenType != "" {
		b = append(b, `,"token_type":`...)
		b = token.AppendJSONString(b, resp.TokenType)
	}
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, int64(resp.ExpiresIn), 10)
	b = append(b, `,"issued_at":`...)
	b = token.AppendJSONString(b, resp.IssuedAt)
	if resp.Scope != "" {
		b = append(b, `,"scope":`...)
		b = token.AppendJSONString(b, resp.Scope)
	}
	if resp.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		b = token.AppendJSONString(b, resp.RefreshToken)
	}
	b = append(b, "}\n"...)
	h := w.Header()
	h["Content-Type"], h["Cache-Control"], h["Pragma"] = hdrJSON, hdrNoStore, hdrNoCache
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	_, _ = w.Write(b)
	*bp = b
}
