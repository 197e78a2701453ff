package main

import (
	"fmt"

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
		block, err := authapp.RegistryAuthBlock(cfg)
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

func (a *app) migrateCmd() *cobra.Command {
	return a.configCmd("migrate", "Apply pending database migrations", func(cmd *cobra.Command, cfg config.Config) error {
		st, err := authapp.OpenStore(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		fmt.Fprintf(a.stdout, "%s database is up to date\n", cfg.Storage.Driver)
		return nil
	})
}
