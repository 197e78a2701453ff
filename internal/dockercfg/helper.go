package dockercfg

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/authserver/authserver/internal/atomicfile"
)

// Credential is the docker credential-helper protocol's record.
type Credential struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// ErrNotFound is printed by `get` for an unknown server; docker recognises
// exactly this message as "no credentials" (docker-credential-helpers).
var ErrNotFound = errors.New("credentials not found in native keychain")

// HelperPath is the helper's file: $XDG_CONFIG_HOME/authserver/
// docker-credentials.json, else ~/.config/authserver/docker-credentials.json.
// It holds refresh tokens (asr_…) or whatever docker stores, in clear, mode
// 0600: the helper must hand the secret back, so it cannot keep a hash.
func HelperPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("credential helper: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "authserver", "docker-credentials.json"), nil
}

// helperFile is the file's shape.
type helperFile struct {
	Credentials map[string]Credential `json:"credentials"`
}

var helperMu sync.Mutex // within one process; docker runs one helper at a time per command

// ServerKey is how a server URL is filed: without scheme, trailing slash
// or path for a plain host ("https://localhost:5000/" → "localhost:5000").
func ServerKey(serverURL string) string {
	s := strings.TrimSpace(serverURL)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	return strings.TrimRight(s, "/")
}

func loadHelper(path string) (helperFile, error) {
	f := helperFile{Credentials: map[string]Credential{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	if f.Credentials == nil {
		f.Credentials = map[string]Credential{}
	}
	return f, nil
}

func saveHelper(path string, f helperFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}

// Helper runs one credential-helper action (args[0]: get, store, erase,
// list, version) on the file at path, reading stdin and answering on
// stdout as docker expects. The error, when not nil, is the message to
// print on stdout with exit status 1 (docker reads it from there).
func Helper(path string, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: docker-credential-authserver get|store|erase|list|version")
	}
	helperMu.Lock()
	defer helperMu.Unlock()
	in, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
	if err != nil {
		return err
	}
	switch args[0] {
	case "get":
		key := ServerKey(string(in))
		if key == "" {
			return errors.New("no credentials server URL")
		}
		f, err := loadHelper(path)
		if err != nil {
			return err
		}
		c, ok := f.Credentials[key]
		if !ok {
			return ErrNotFound
		}
		c.ServerURL = strings.TrimSpace(string(in))
		return json.NewEncoder(stdout).Encode(c)
	case "store":
		var c Credential
		if err := json.Unmarshal(in, &c); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		key := ServerKey(c.ServerURL)
		if key == "" {
			return errors.New("no credentials server URL")
		}
		if c.Username == "" {
			return errors.New("no credentials username")
		}
		f, err := loadHelper(path)
		if err != nil {
			return err
		}
		f.Credentials[key] = c
		return saveHelper(path, f)
	case "erase":
		key := ServerKey(string(in))
		f, err := loadHelper(path)
		if err != nil {
			return err
		}
		if _, ok := f.Credentials[key]; !ok {
			return nil
		}
		delete(f.Credentials, key)
		return saveHelper(path, f)
	case "list":
		f, err := loadHelper(path)
		if err != nil {
			return err
		}
		list := map[string]string{}
		keys := make([]string, 0, len(f.Credentials))
		for k := range f.Credentials {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c := f.Credentials[k]
			url := c.ServerURL
			if url == "" {
				url = k
			}
			list[url] = c.Username
		}
		return json.NewEncoder(stdout).Encode(list)
	case "version":
		_, err := fmt.Fprintln(stdout, "docker-credential-authserver (authserver)")
		return err
	default:
		return fmt.Errorf("unknown credential helper action %q: want get, store, erase, list or version", args[0])
	}
}
