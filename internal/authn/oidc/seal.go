package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// The provider's refresh token (kept for oidc.recheck) is stored sealed
// with AES-256-GCM under a key derived from oidc.client_secret with
// HKDF-SHA256. Why that key: the refresh token can only be redeemed with
// the client secret anyway, so a copy of the database alone yields nothing
// usable, every replica derives the same key from the same configuration,
// and a new client secret (which invalidates the provider's refresh tokens
// at most providers) simply makes the old ones unreadable: the recheck then
// refuses those credentials, which is the safe outcome. No key file to keep
// beside the signing key, and nothing stored in clear.

// sealInfo binds the derived key to this use.
const sealInfo = "authserver oidc provider refresh token v1"

type sealer struct{ aead cipher.AEAD }

func newSealer(clientSecret string) (*sealer, error) {
	key, err := hkdf.Key(sha256.New, []byte(clientSecret), nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("oidc: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal encrypts plain; the nonce leads the result.
func (s *sealer) seal(plain string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("oidc: seal: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(plain), []byte(sealInfo)), nil
}

var errUnsealed = errors.New("sealed provider token does not open (client_secret changed?)")

// open decrypts what seal made.
func (s *sealer) open(sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return "", errUnsealed
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(sealInfo))
	if err != nil {
		return "", errUnsealed
	}
	return string(plain), nil
}
