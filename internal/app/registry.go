package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/token"
)

// RegistryAuthBlock is the registry's auth: section for cfg. With x5c (the
// default) the registry verifies the chain against rootcertbundle; with
// token.x5c: false and thumbprint kids it looks the kid up in a jwks file
// (registry 3.x; 2.x has no jwks and matches libtrust kids against
// rootcertbundle).
func RegistryAuthBlock(cfg config.Config) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "auth:\n  token:\n")
	fmt.Fprintf(&b, "    realm: %s/service/token\n", cfg.RealmBase())
	fmt.Fprintf(&b, "    service: %s\n", cfg.Token.Service)
	fmt.Fprintf(&b, "    issuer: %s\n", cfg.Token.Issuer)
	if !cfg.Token.X5C && cfg.Token.KID == "thumbprint" {
		ref, err := jwksReference(cfg)
		if err != nil {
			return "", err
		}
		b.WriteString("    # token.x5c is false: tokens carry only kid, which registry 3.x looks up here.\n")
		b.WriteString(ref)
		return b.String(), nil
	}
	if !cfg.Token.X5C {
		b.WriteString("    # token.x5c is false with libtrust kids: registry 2.x finds the key in rootcertbundle by kid.\n")
	}
	if len(cfg.Token.PreviousCertificates) > 0 {
		b.WriteString("    # token.previous_certificates is set: the registry must trust them too.\n")
		b.WriteString("    # Write the bundle with `authserver registry-config --bundle > authserver-bundle.crt`.\n")
		fmt.Fprintf(&b, "    rootcertbundle: %s\n", "authserver-bundle.crt")
	} else if cfg.Token.Certificate != "" {
		fmt.Fprintf(&b, "    rootcertbundle: %s\n", absPath(cfg.Token.Certificate))
	} else {
		b.WriteString("    # token.certificate is not set: give the registry the public key another way\n")
		b.WriteString("    # (registry 3.x: jwks: <file saved from /.well-known/jwks.json>)\n")
	}
	return b.String(), nil
}

// jwksReference is the jwks: line for cfg: the jwks.json `keygen` wrote
// beside the key when it lists exactly what the registry must trust (the
// current key, no previous certificates), else a file to write with
// `registry-config --jwks`.
func jwksReference(cfg config.Config) (string, error) {
	want, err := ConfigJWKS(cfg)
	if err != nil {
		return "", err
	}
	if len(cfg.Token.PreviousCertificates) == 0 {
		p := filepath.Join(filepath.Dir(cfg.Token.Key), token.JWKSFile)
		if have, err := os.ReadFile(p); err == nil && sameKIDs(have, want) {
			return fmt.Sprintf("    jwks: %s\n", absPath(p)), nil
		}
	}
	return "    # Write it with `authserver registry-config --jwks > authserver-jwks.json`.\n" +
		"    jwks: authserver-jwks.json\n", nil
}

// sameKIDs reports whether two JWKS documents list the same kids in order.
func sameKIDs(a, b []byte) bool {
	var sa, sb token.JWKSet
	if json.Unmarshal(a, &sa) != nil || json.Unmarshal(b, &sb) != nil || len(sa.Keys) != len(sb.Keys) {
		return false
	}
	for i := range sa.Keys {
		if sa.Keys[i].Kid != sb.Keys[i].Kid {
			return false
		}
	}
	return true
}

// absPath makes p absolute, so the printed registry config works from any
// working directory.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
