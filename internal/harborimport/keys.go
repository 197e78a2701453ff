package harborimport

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Harbor's token signing pair: the core's private key and the certificate
// the registry trusts (rootcertbundle).
const (
	HarborKeyFile  = "private_key.pem"
	HarborCertFile = "root.crt"
)

// CopyKeys copies Harbor's private_key.pem and root.crt from dir to the
// configured token.key and token.certificate paths, after checking that
// they are a matching pair. A destination that already holds the same
// bytes is left alone; one that holds something else is an error (never
// overwritten). With dry, it checks and says what it would do. It returns
// one line per file.
func CopyKeys(dir, keyPath, certPath string, dry bool) ([]string, error) {
	if keyPath == "" || certPath == "" {
		return nil, errors.New("--key-dir: set token.key and token.certificate in the config first")
	}
	key, err := os.ReadFile(filepath.Join(dir, HarborKeyFile))
	if err != nil {
		return nil, fmt.Errorf("--key-dir: %w", err)
	}
	cert, err := os.ReadFile(filepath.Join(dir, HarborCertFile))
	if err != nil {
		return nil, fmt.Errorf("--key-dir: %w", err)
	}
	if err := matchingPair(key, cert); err != nil {
		return nil, fmt.Errorf("--key-dir %s: %w", dir, err)
	}
	var out []string
	for _, f := range []struct {
		src, dst string
		data     []byte
		mode     os.FileMode
	}{{HarborKeyFile, keyPath, key, 0o600}, {HarborCertFile, certPath, cert, 0o644}} {
		old, err := os.ReadFile(f.dst)
		switch {
		case err == nil && bytes.Equal(old, f.data):
			out = append(out, fmt.Sprintf("%s: already %s", f.dst, f.src))
			continue
		case err == nil:
			return out, fmt.Errorf("--key-dir: %s exists and is not Harbor's %s: move it away first", f.dst, f.src)
		case !errors.Is(err, os.ErrNotExist):
			return out, fmt.Errorf("--key-dir: %w", err)
		}
		if !dry {
			if err := os.MkdirAll(filepath.Dir(f.dst), 0o700); err != nil {
				return out, fmt.Errorf("--key-dir: %w", err)
			}
			if err := os.WriteFile(f.dst, f.data, f.mode); err != nil {
				return out, fmt.Errorf("--key-dir: %w", err)
			}
		}
		out = append(out, fmt.Sprintf("%s: copied from %s", f.dst, filepath.Join(dir, f.src)))
	}
	return out, nil
}

// matchingPair checks that keyPEM is a private key whose public half is
// certPEM's.
func matchingPair(keyPEM, certPEM []byte) error {
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode(certPEM)
	if kb == nil || cb == nil {
		return errors.New("want a PEM private key and a PEM certificate")
	}
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(kb.Bytes); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(kb.Bytes); err != nil {
			return fmt.Errorf("%s: %w", HarborKeyFile, err)
		}
	}
	c, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return fmt.Errorf("%s: %w", HarborCertFile, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return fmt.Errorf("%s: not a signing key", HarborKeyFile)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(c.PublicKey) {
		return fmt.Errorf("%s is not the certificate of %s", HarborCertFile, HarborKeyFile)
	}
	return nil
}
