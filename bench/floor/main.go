// Command floor is the yardstick of bench/sidebyside.sh: a bare net/http
// server that answers every request with one fixed JSON body shaped like a
// token answer. No token server can answer faster on the same machine, so
// a token server's rate over the floor's says how much of the cost is its
// own work and how much is HTTP itself.
//
//	go run ./bench/floor --addr 127.0.0.1:5099
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/authserver/authserver/bench/internal/benchmain"
)

func main() { benchmain.Run(realMain) }

// body is a token answer of the usual size: an ES256 token of one access
// entry is about 480 bytes, and token and access_token both carry it.
var body = func() []byte {
	tok := strings.Repeat("x", 480)
	return []byte(`{"token":"` + tok + `","access_token":"` + tok + `","expires_in":1800,"issued_at":"2026-01-01T00:00:00Z"}` + "\n")
}()

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5099", "listen address")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "floor:", err)
		return 1
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})}
	fmt.Fprintln(stdout, "floor: listening on", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "floor:", err)
		return 1
	}
	return 0
}
