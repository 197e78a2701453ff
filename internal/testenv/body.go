package testenv

import (
	"encoding/json"
	"testing"
)

// DecodeJSON decodes data into v, failing the test when it cannot.
func DecodeJSON(tb testing.TB, data []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatalf("body %q: %v", data, err)
	}
}

// ErrorCode is the first code of an errcode body
// ({"errors":[{"code":"...","message":"..."}]}), "" when body is not one
// or holds no error.
func ErrorCode(body []byte) string {
	var b struct {
		Errors []struct{ Code, Message string }
	}
	if json.Unmarshal(body, &b) != nil || len(b.Errors) == 0 {
		return ""
	}
	return b.Errors[0].Code
}
