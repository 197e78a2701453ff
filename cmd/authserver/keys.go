package main

import (
	"fmt"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
)

func (a *app) keygenCmd() *cobra.Command {
	var dir, alg string
	var bits int
	var force bool
	cmd := leaf("keygen --dir DIR [--alg RS256|ES256] [--bits 2048]", "Generate a signing key, its certificate (for the registry's rootcertbundle) and a JWKS", func(cmd *cobra.Command) error {
		if alg != authapp.RS256 && cmd.Flags().Changed("bits") {
			return fmt.Errorf("--bits applies to RS256 only; %s keys have a fixed size", alg)
		}
		key, cert, jwks, err := authapp.GenerateKeyPair(dir, alg, bits, force)
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
	cmd := a.configCmd("registry-config [--bundle | --jwks]", "Print the auth: block for the registry's config.yml (or, with --bundle, its rootcertbundle; with --jwks, its jwks file)", func(cmd *cobra.Command, cfg authapp.Config) error {
		if bundle && jwks {
			return fmt.Errorf("--bundle and --jwks print different files: choose one")
		}
		if bundle {
			return a.write(authapp.ConfigBundle(cfg))
		}
		if jwks {
			doc, err := authapp.ConfigJWKS(cfg)
			return a.write(append(doc, '\n'), err)
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

// write writes b, or returns err (that of the call that made b): the
// bundle (authapp.ConfigBundle: current certificate first, then the
// previous ones) or the JWKS (authapp.ConfigJWKS, what jwks mode trusts).
func (a *app) write(b []byte, err error) error {
	if err == nil {
		_, err = a.stdout.Write(b)
	}
	return err
}

func (a *app) migrateCmd() *cobra.Command {
	return a.configCmd("migrate", "Apply pending database migrations", func(cmd *cobra.Command, cfg authapp.Config) error {
		adm, err := authapp.CreateAdmin(cmd.Context(), cfg)
		if err != nil {
			return err
		}
		defer adm.Close()
		fmt.Fprintf(a.stdout, "%s database %s is up to date\n", cfg.Storage.Driver, authapp.DatabaseName(cfg))
		return nil
	})
}
