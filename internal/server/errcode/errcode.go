package errcode

import (
	"encoding/json"
	"net/http"
)

// Body is the errcode shape.
type Body struct {
	Errors []Item `json:"errors"`
}

// Item is one error: a code such as UNAUTHORIZED and a message for people.
type Item struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Write answers with status and a body holding one error. The answer is
// never cached.
func Write(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Body{Errors: []Item{{Code: code, Message: message}}})
}
