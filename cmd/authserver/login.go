package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
)

func (a *app) loginCmd() *cobra.Command {
	var opts authapp.LoginOptions
	cmd := &cobra.Command{
		Use:   "login REGISTRY",
		Short: "Sign in to a registry through its authserver's SSO (device flow) and store the credential for docker",
		Long: `Finds the registry's authserver from its Bearer challenge (GET /v2/), asks it for a device
code, prints the address to open in a browser and the code it shows, and waits while you sign
in with your company's SSO and approve. The refresh token authserver then issues is stored as
the registry's identitytoken in docker's config ($DOCKER_CONFIG/config.json, default
~/.docker/config.json), exactly as docker login stores one, or through the credential helper
that config names for the registry. docker, crane, podman and buildah use it from there.
Needs no authserver config. See docs/SSO.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Registry = args[0]
			if err := authapp.Login(cmd.Context(), opts, a.stdout); err != nil {
				return fmt.Errorf("login: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Insecure, "insecure", false, "talk plain http to the registry (always so for localhost and loopback addresses)")
	cmd.Flags().StringVar(&opts.Authserver, "authserver", "", "authserver URL, instead of the one found from the registry's realm")
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "scopes to ask for, e.g. 'repository:team/app:pull,push' (default: what your roles allow)")
	return cmd
}

// credentialHelper runs the docker credential-helper protocol when the
// binary is called docker-credential-authserver (a link to authserver): it
// returns the exit status, or -1 when the binary has another name.
func credentialHelper(argv0 string, args []string, in io.Reader, out io.Writer) int {
	if filepath.Base(argv0) != authapp.CredentialHelperName {
		return -1
	}
	if err := authapp.CredentialHelper(args, in, out); err != nil {
		// docker reads the message from stdout (docker-credential-helpers).
		fmt.Fprintln(out, err)
		return 1
	}
	return 0
}
