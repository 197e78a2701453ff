package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/token"
)

func (a *app) keygenCmd() *cobra.Command {
	var dir, alg string
	var bits int
	var force bool
	cmd := leaf("keygen --dir DIR [--alg RS256|ES256] [--bits 2048]", "Generate a signing key, its certificate (for the registry's rootcertbundle) and a JWKS", func(cmd *cobra.Command) error {
		if alg != token.RS256 && cmd.Flags().Changed("bits") {
			return fmt.Errorf("--bits applies to RS256 only; %s keys have a fixed size", alg)
		}
		key, cert, jwks, err := token.GenerateKeyPair(dir, alg, bits, force)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "key:         %s\ncertificate: %s\njwks:        %s\n", key, cert, jwks)
		return nil
	})
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write token.key, token.crt and jwks.json to")
	cmd.Flags().StringVar(&alg, "alg", "RS256", "RS256 or ES256")
	cmd.Flags().IntVar(&bits, "bits", 2048, "RSA key size")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing key")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func (a *app) registryConfigCmd() *cobra.Command {
	var bundle, jwks bool
	cmd := a.configCmd("registry-config [--bundle | --jwks]", "Print the auth: block for the registry's config.yml (or, with --bundle, its rootcertbundle; with --jwks, its jwks file)", func(cmd *cobra.Command, cfg config.Config) error {
		if bundle && jwks {
			return fmt.Errorf("--bundle and --jwks print different files: choose one")
		}
		if bundle {
			return a.printBundle(cfg)
		}
		if jwks {
			return a.printJWKS(cfg)
		}
		block, err := registryAuthBlock(cfg)
		if err != nil {
			return err
		}
		fmt.Fprint(a.stdout, block)
		return nil
	})
	cmd.Flags().BoolVar(&bundle, "bundle", false, "print the PEM bundle of the current certificate and token.previous_certificates")
	cmd.Flags().BoolVar(&jwks, "jwks", false, "print the JWKS of the current key and token.previous_certificates (what /.well-known/jwks.json serves)")
	return cmd
}

// printBundle writes the certificates the registry must trust during a key
// rotation: the current one first, then the previous ones.
func (a *app) printBundle(cfg config.Config) error {
	if cfg.Token.Certificate == "" {
		return fmt.Errorf("token.certificate is not set: there is no certificate to bundle")
	}
	certs, err := token.LoadCertificates(cfg.Token.Certificate)
	if err != nil {
		return err
	}
	prev, err := authapp.PreviousCertificates(cfg)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(token.CertBundlePEM(append(certs[:1:1], prev...)...))
	return err
}

// printJWKS writes the JWKS the registry must trust in jwks mode: the
// current key first, then the previous certificates' keys.
func (a *app) printJWKS(cfg config.Config) error {
	doc, err := authapp.ConfigJWKS(cfg)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(append(doc, '\n'))
	return err
}

// registryAuthBlock is the registry's auth: section for cfg. With x5c (the
// default) the registry verifies the chain against rootcertbundle; with
// token.x5c: false and thumbprint kids it looks the kid up in a jwks file
// (registry 3.x; 2.x has no jwks and matches libtrust kids against
// rootcertbundle).
func registryAuthBlock(cfg config.Config) (string, error) {
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
	want, err := authapp.ConfigJWKS(cfg)
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

func (a *app) migrateCmd() *cobra.Command {
	return a.configCmd("migrate", "Apply pending database migrations", func(cmd *cobra.Command, cfg config.Config) error {
		st, err := openStore(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		fmt.Fprintf(a.stdout, "%s database is up to date\n", cfg.Storage.Driver)
		return nil
	})
}
