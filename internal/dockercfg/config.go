package dockercfg

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/authserver/authserver/internal/atomicfile"
)

// IdentityTokenUser is the Username a credential helper holds for an
// identity token (a refresh token) rather than a password: docker's own
// marker.
const IdentityTokenUser = "<token>"

// ConfigPath is docker's config file: $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json.
func ConfigPath() (string, error) {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("docker config: %w", err)
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}

// Stored says where StoreIdentityToken put the token.
type Stored struct {
	Path   string // the config file
	Helper string // the credential helper that holds it ("" = in Path itself)
}

// StoreIdentityToken records token as the identitytoken of registry (a
// host[:port]) for username, as `docker login` does: in the config file's
// auths entry ({"auth": base64("username:"), "identitytoken": token}), or,
// when the file names a credential helper for the registry (credHelpers)
// or for all (credsStore), through that helper's `store` with Username
// "<token>", leaving an empty auths entry as docker does. Every other key of
// the file, known to docker or not, is kept.
func StoreIdentityToken(path, registry, username, token string) (Stored, error) {
	out := Stored{Path: path}
	doc := map[string]json.RawMessage{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return out, fmt.Errorf("docker config: %w", err)
	case len(bytes.TrimSpace(b)) > 0:
		if err := json.Unmarshal(b, &doc); err != nil {
			return out, fmt.Errorf("docker config %s: %w", path, err)
		}
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := doc["auths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return out, fmt.Errorf("docker config %s: auths: %w", path, err)
		}
	}
	out.Helper, err = helperFor(doc, registry)
	if err != nil {
		return out, fmt.Errorf("docker config %s: %w", path, err)
	}
	var entry []byte
	if out.Helper != "" {
		if err := helperStore(out.Helper, registry, token); err != nil {
			return out, err
		}
		entry = []byte("{}")
	} else {
		e := map[string]string{"identitytoken": token}
		if username != "" {
			e["auth"] = base64.StdEncoding.EncodeToString([]byte(username + ":"))
		}
		entry, _ = json.Marshal(e)
	}
	auths[registry] = entry
	doc["auths"], _ = json.Marshal(auths)
	data, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return out, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return out, fmt.Errorf("docker config: %w", err)
	}
	if err := atomicfile.Write(path, append(data, '\n'), 0o600); err != nil {
		return out, fmt.Errorf("docker config: %w", err)
	}
	return out, nil
}

// helperFor is the credential helper docker uses for registry: its
// credHelpers entry, else credsStore.
func helperFor(doc map[string]json.RawMessage, registry string) (string, error) {
	var helpers map[string]string
	if raw, ok := doc["credHelpers"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &helpers); err != nil {
			return "", fmt.Errorf("credHelpers: %w", err)
		}
	}
	if h := helpers[registry]; h != "" {
		return h, nil
	}
	var store string
	if raw, ok := doc["credsStore"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &store); err != nil {
			return "", fmt.Errorf("credsStore: %w", err)
		}
	}
	return store, nil
}

// helperStore runs `docker-credential-NAME store` with the token.
func helperStore(name, registry, token string) error {
	in, _ := json.Marshal(Credential{ServerURL: registry, Username: IdentityTokenUser, Secret: token})
	cmd := exec.Command("docker-credential-"+name, "store")
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("credential helper docker-credential-%s (named by the docker config) failed to store the token: %v: %s",
			name, err, strings.TrimSpace(out.String()))
	}
	return nil
}
