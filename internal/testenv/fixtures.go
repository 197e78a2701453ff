package testenv

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/authserver/authserver/internal/token"
)

// FreePort returns a TCP port that was free a moment ago on the loopback.
func FreePort(tb testing.TB) int {
	tb.Helper()
	p, err := freePort()
	if err != nil {
		tb.Fatalf("testenv: free port: %v", err)
	}
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// keyPair is one RSA-2048 key and self-signed certificate per test
// process, as PEM (made once: RSA key generation is slow).
var keyPair = sync.OnceValues(func() ([2][]byte, error) {
	var pems [2][]byte
	dir, err := os.MkdirTemp("", "authserver-testkey-")
	if err != nil {
		return pems, err
	}
	defer os.RemoveAll(dir)
	key, cert, _, err := token.GenerateKeyPair(dir, token.RS256, 2048, false)
	if err != nil {
		return pems, err
	}
	for i, p := range []string{key, cert} {
		if pems[i], err = os.ReadFile(p); err != nil {
			return pems, err
		}
	}
	return pems, nil
})

// KeyPair writes the process's RSA-2048 test key and its certificate into
// dir as token.key and token.crt and returns their paths.
func KeyPair(tb testing.TB, dir string) (keyPath, certPath string) {
	tb.Helper()
	pems, err := keyPair()
	if err != nil {
		tb.Fatalf("testenv: key pair: %v", err)
	}
	keyPath, certPath = filepath.Join(dir, "token.key"), filepath.Join(dir, "token.crt")
	if err := os.WriteFile(keyPath, pems[0], 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(certPath, pems[1], 0o644); err != nil {
		tb.Fatal(err)
	}
	return keyPath, certPath
}

// Signer is a signer with the process's test key (thumbprint kids, x5c).
func Signer(tb testing.TB) *token.Signer {
	tb.Helper()
	key, cert := KeyPair(tb, tb.TempDir())
	s, err := token.NewSigner(key, cert, token.KIDThumbprint)
	if err != nil {
		tb.Fatalf("testenv: signer: %v", err)
	}
	return s
}

// Buffer is a log sink safe for concurrent handlers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Take returns what was written since the last Take and forgets it.
func (s *Buffer) Take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// Migrator is a store that can bring its schema up to date.
type Migrator interface {
	Migrate(ctx context.Context) error
	Close() error
}

// Migrated opens a store with open (what names the database is the
// caller's), applies the migrations and closes it when the test ends; what
// stands for the store in the message is name (sqlitetest, pgtest).
func Migrated[S Migrator](tb testing.TB, name string, open func(ctx context.Context) (S, error)) S {
	tb.Helper()
	ctx := tb.Context()
	st, err := open(ctx)
	if err != nil {
		tb.Fatalf("%s: open: %v", name, err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("%s: migrate: %v", name, err)
	}
	return st
}
