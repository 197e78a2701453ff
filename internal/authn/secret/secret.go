package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/big"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Secrets that stand in for a password (refresh tokens, robot secrets,
// personal access tokens) are 256 random bits, shown once and stored only as
// HashSecret(secret).
//
// Why a fast hash and not bcrypt: bcrypt and friends exist to slow down
// guessing of LOW-entropy secrets (passwords people choose). These secrets
// are 256 uniformly random bits; nobody can enumerate 2^256 candidates at any
// hash speed, so a slow KDF would only add ~70 ms to every token request.
// A plain SHA-256 preimage is infeasible, so a leaked database does not
// reveal usable secrets. No server key (pepper) is mixed in: it would have to
// be shared by every process that creates or checks secrets (the CLI and
// each server), and with 256-bit secrets it would add nothing. Being
// deterministic, the hash of a refresh token or personal access token is
// also the index the store looks it up by: one indexed query, never a scan
// or a per-row compare.
//
// A robot is looked up by its name, and its secret checked against that one
// row (VerifySecret), in whichever form it is stored: the SHA-256 of a
// generated secret; a Harbor PBKDF2 hash (an imported robot); or, for a
// secret the caller chose instead of a generated one (Harbor's API allows
// it), bcrypt at passwords.bcrypt_cost, like a password, since a person
// picked it. The last two forms are slow checks (SlowSecretHash).

// SecretBytes is the entropy of every generated secret.
const Bytes = 32

// Secret prefixes. A recognisable prefix lets secret scanners find leaked
// personal access tokens, and lets the server tell a PAT from a password
// before any password backend sees it.
const (
	// PATPrefix starts every personal access token.
	PATPrefix = "asp_"
	// RefreshPrefix starts every refresh token.
	RefreshPrefix = "asr_"
)

// base62 alphabet: no punctuation, so a secret survives double-click
// selection, shells, URLs and YAML unquoted.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// secretBodyLen is the base62 length of SecretBytes bytes (ceil(256/log2 62)).
const secretBodyLen = 43

// checksumLen is the base62 length of a CRC-32 checksum.
const checksumLen = 6

// NewSecret returns prefix + 43 base62 characters of fresh randomness. With
// checksum, 6 base62 characters of CRC-32 over everything before them follow,
// so a scanner can tell a real token from a random string offline.
func New(prefix string, checksum bool) (string, error) {
	var b [Bytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new secret: %w", err)
	}
	s := prefix + encode62(new(big.Int).SetBytes(b[:]), secretBodyLen)
	if checksum {
		s += encode62(big.NewInt(int64(crc32.ChecksumIEEE([]byte(s)))), checksumLen)
	}
	return s, nil
}

// ValidChecksum reports whether s has the shape NewSecret(prefix, true)
// gives and a correct checksum. It is a cheap pre-filter: a PAT that fails it
// cannot exist, so the store need not be asked.
func ValidChecksum(s, prefix string) bool {
	if len(s) != len(prefix)+secretBodyLen+checksumLen || !strings.HasPrefix(s, prefix) {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	body, sum := s[:len(s)-checksumLen], s[len(s)-checksumLen:]
	want := encode62(big.NewInt(int64(crc32.ChecksumIEEE([]byte(body)))), checksumLen)
	return subtle.ConstantTimeCompare([]byte(sum), []byte(want)) == 1
}

// encode62 writes n in base62, left-padded with '0' to width.
func encode62(n *big.Int, width int) string {
	out := make([]byte, width)
	for i := range out {
		out[i] = '0'
	}
	base, mod := big.NewInt(62), new(big.Int)
	for i := width - 1; i >= 0 && n.Sign() > 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}

// HashSecret is how secrets are stored and looked up: hex SHA-256.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// hashEqual compares two stored hashes in constant time.
func hashEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// VerifySecret checks a robot secret against its stored form: the hex
// SHA-256 of HashSecret (a generated secret), a Harbor robot hash (an
// imported robot), or bcrypt (a secret the caller chose). The last two are
// slow checks (SlowSecretHash); a stored form it does not know never matches.
func Verify(stored, secret string) bool {
	switch {
	case strings.HasPrefix(stored, HarborPrefix):
		return verifyHarbor(stored, secret)
	case HashKind(stored) == "bcrypt":
		return bcrypt.CompareHashAndPassword([]byte(stored), []byte(secret)) == nil
	}
	return hashEqual(stored, Hash(secret))
}

// SlowSecretHash reports whether checking a secret against stored is a slow
// check (slowCheck): bcrypt (a robot secret the caller chose, which admin
// stores like a password) or a Harbor robot's PBKDF2, not the SHA-256 of a
// generated secret.
func SlowHash(stored string) bool {
	return strings.HasPrefix(stored, HarborPrefix) || HashKind(stored) == "bcrypt"
}
