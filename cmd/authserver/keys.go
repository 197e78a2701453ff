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
	return &cobra.Command{
		Use:   "registry-config",
		Short: "Print the auth: block for the registry's config.yml",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			block, err := registryAuthBlock(cfg)
			if err != nil {
				return err
			}
			fmt.Fprint(a.stdout, block)
			return nil
		},
	}
}

// registryAuthBlock is the registry's auth: section for cfg.
func registryAuthBlock(cfg config.Config) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "auth:\n  token:\n")
	fmt.Fprintf(&b, "    realm: %s/service/token\n", cfg.RealmBase())
	fmt.Fprintf(&b, "    service: %s\n", cfg.Token.Service)
	fmt.Fprintf(&b, "    issuer: %s\n", cfg.Token.Issuer)
	if cfg.Token.Certificate != "" {
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
