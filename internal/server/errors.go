package server

import (
	"encoding/json"
	"net/http"

	"github.com/authserver/authserver/internal/server/errcode"
)

// writeError answers with status and an errcode JSON body. Messages are
// generic for clients; details belong in the log.
func writeError(w http.ResponseWriter, status int, code, message string) {
	errcode.Write(w, status, code, message)
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(v)
}
