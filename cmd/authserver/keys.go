package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authserver/authserver/internal/config"
	"github.com/authserver/authserver/internal/token"
)

func (a *app) keygenCmd() *cobra.Command {
	var dir, alg string
	var bits int
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen --dir DIR [--alg RS256|ES256] [--bits 2048]",
		Short: "Generate a signing key, its certificate (for the registry's rootcertbundle) and a JWKS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if alg != token.RS256 && cmd.Flags().Changed("bits") {
				return fmt.Errorf("--bits applies to RS256 only; %s keys have a fixed size", alg)
			}
			key, cert, jwks, err := token.GenerateKeyPair(dir, alg, bits, force)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "key:         %s\ncertificate: %s\njwks:        %s\n", key, cert, jwks)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write token.key, token.crt and jwks.json to")
	cmd.Flags().StringVar(&alg, "alg", "RS256", "RS256 or ES256")
	cmd.Flags().IntVar(&bits, "bits", 2048, "RSA key size")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing key")
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

func (a *app) registryConfigCmd() *cobra.Command {
	var bundle bool
	cmd := &cobra.Command{
		Use:   "registry-config [--bundle]",
		Short: "Print the auth: block for the registry's config.yml (or, with --bundle, its rootcertbundle)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if bundle {
				return a.printBundle(cfg)
			}
			block, err := registryAuthBlock(cfg)
			if err != nil {
				return err
			}
			fmt.Fprint(a.stdout, block)
			return nil
		},
	}
	cmd.Flags().BoolVar(&bundle, "bundle", false, "print the PEM bundle of the current certificate and token.previous_certificates")
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
	prev, err := loadPrevious(cfg)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(token.CertBundlePEM(append(certs[:1:1], prev...)...))
	return err
}

// registryAuthBlock is the registry's auth: section for cfg.
func registryAuthBlock(cfg config.Config) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "auth:\n  token:\n")
	fmt.Fprintf(&b, "    realm: %s/service/token\n", cfg.RealmBase())
	fmt.Fprintf(&b, "    service: %s\n", cfg.Token.Service)
	fmt.Fprintf(&b, "    issuer: %s\n", cfg.Token.Issuer)
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

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintf(a.stdout, "%s database is up to date\n", cfg.Storage.Driver)
			return nil
		},
	}
}
