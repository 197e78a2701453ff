package secret

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Harbor's password and robot-secret hashes, kept as Harbor wrote them so
// that imported users keep their passwords and robots their secrets.
//
// Harbor stores hex(PBKDF2(secret, salt, iterations, 16 bytes)) with the
// salt in a column of its own and the algorithm in password_version.
// authserver keeps all of it in one self-describing string:
//
//	harbor-pbkdf2-sha1$4096$<salt>$<32 hex>     password_version sha1
//	harbor-pbkdf2-sha256$4096$<salt>$<32 hex>   sha256, and robot secrets
//	harbor-pbkdf2-sha256$600000$<salt>$<32 hex> pbkdf2_sha256
//
// The salt is used as its bytes, as Harbor does; it is the text between the
// second '$' and the last one (so a salt containing '$' still parses).
// Passwords in this form are replaced by bcrypt on the first successful
// login (Local.Login); robot secrets keep it (PBKDF2 at 4,096 rounds costs
// about a millisecond).

// HarborPrefix starts every stored Harbor hash.
const HarborPrefix = "harbor-"

// Harbor hash algorithms (the first field of the stored form).
const (
	harborSHA1   = "harbor-pbkdf2-sha1"
	harborSHA256 = "harbor-pbkdf2-sha256"
)

// harborKeyLen is Harbor's derived key length in bytes.
const harborKeyLen = 16

// maxHarborIterations bounds the iteration count read from a stored hash,
// so a corrupt or hostile row cannot make one login take minutes.
const maxHarborIterations = 10_000_000

// HarborPasswordHash is the stored form of a Harbor harbor_user row's
// password: version is its password_version ("sha1", "sha256",
// "pbkdf2_sha256"; "" is read as sha1, as Harbor's 1.9 migration did).
func HarborPasswordHash(version, salt, hexHash string) (string, error) {
	switch version {
	case "", "sha1":
		return harborForm(harborSHA1, 4096, salt, hexHash)
	case "sha256":
		return harborForm(harborSHA256, 4096, salt, hexHash)
	case "pbkdf2_sha256":
		return harborForm(harborSHA256, 600_000, salt, hexHash)
	}
	return "", fmt.Errorf("harbor password_version %q: want sha1, sha256 or pbkdf2_sha256", version)
}

// HarborSecretHash is the stored form of a Harbor robot's secret and salt
// (PBKDF2-HMAC-SHA256, 4,096 rounds).
func HarborSecretHash(salt, hexHash string) (string, error) {
	return harborForm(harborSHA256, 4096, salt, hexHash)
}

func harborForm(alg string, iter int, salt, hexHash string) (string, error) {
	h := strings.ToLower(hexHash)
	if b, err := hex.DecodeString(h); err != nil || len(b) != harborKeyLen {
		return "", errors.New("harbor hash: want 32 hex digits")
	}
	if salt == "" {
		return "", errors.New("harbor hash: empty salt")
	}
	return alg + "$" + strconv.Itoa(iter) + "$" + salt + "$" + h, nil
}

// harborHash is a parsed stored form.
type harborHash struct {
	newHash func() hash.Hash
	iter    int
	salt    string
	sum     []byte
}

func parseHarbor(stored string) (harborHash, bool) {
	alg, rest, ok := strings.Cut(stored, "$")
	if !ok {
		return harborHash{}, false
	}
	var h harborHash
	switch alg {
	case harborSHA1:
		h.newHash = sha1.New
	case harborSHA256:
		h.newHash = sha256.New
	default:
		return harborHash{}, false
	}
	iter, rest, ok := strings.Cut(rest, "$")
	if !ok {
		return harborHash{}, false
	}
	i := strings.LastIndexByte(rest, '$')
	if i < 0 {
		return harborHash{}, false
	}
	n, err := strconv.Atoi(iter)
	sum, herr := hex.DecodeString(rest[i+1:])
	if err != nil || n < 1 || n > maxHarborIterations || herr != nil || len(sum) != harborKeyLen || i == 0 {
		return harborHash{}, false
	}
	h.iter, h.salt, h.sum = n, rest[:i], sum
	return h, true
}

// IsHarborHash reports whether stored is a Harbor hash this package can verify.
func IsHarborHash(stored string) bool {
	_, ok := parseHarbor(stored)
	return ok
}

// verifyHarbor checks secret against a stored Harbor hash in constant time.
// A stored value that does not parse never matches.
func verifyHarbor(stored, secret string) bool {
	h, ok := parseHarbor(stored)
	if !ok {
		return false
	}
	key, err := pbkdf2.Key(h.newHash, secret, []byte(h.salt), h.iter, harborKeyLen)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(key, h.sum) == 1
}

// HashKind names the kind of a stored password hash, for `user list`:
// "bcrypt", "harbor-pbkdf2-sha1/4096" and the like, "none" when empty,
// "unknown" otherwise.
func HashKind(stored string) string {
	switch {
	case stored == "":
		return "none"
	case strings.HasPrefix(stored, "$2"):
		return "bcrypt"
	}
	if h, ok := parseHarbor(stored); ok {
		alg, _, _ := strings.Cut(stored, "$")
		return alg + "/" + strconv.Itoa(h.iter)
	}
	return "unknown"
}

// ValidStoredHash checks a password hash handed over as it is (an import):
// bcrypt, or a Harbor hash this package verifies.
func ValidStoredHash(stored string) error {
	switch HashKind(stored) {
	case "bcrypt":
		return nil
	case "none", "unknown":
		return errors.New("password hash: want bcrypt or a harbor-pbkdf2-* hash")
	}
	return nil
}

// VerifyPassword checks a password against a local user's stored hash:
// bcrypt, or an imported Harbor hash. A slow check (bcrypt at
// passwords.bcrypt_cost): never run it while a database write lock is held.
func VerifyPassword(stored, password string) bool {
	if IsHarborHash(stored) {
		return verifyHarbor(stored, password)
	}
	return HashKind(stored) == "bcrypt" && bcrypt.CompareHashAndPassword([]byte(stored), []byte(password)) == nil
}
