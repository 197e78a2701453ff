package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	authapp "github.com/authserver/authserver/internal/app"
)

func (a *app) credentialProviderCmd() *cobra.Command {
	var robot string
	cmd := &cobra.Command{
		Use:   "credential-provider --robot NAME",
		Short: "Kubelet image credential provider: pull as a federated robot with the pod's service-account token",
		Long: `Reads a CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1) on stdin and
answers a CredentialProviderResponse on stdout: username the robot (--robot, or the service
account's ` + authapp.CredentialProviderAnnotation + ` annotation), password the service-account token the kubelet
passed. The robot must be federated with a trust policy the token meets. Needs no config,
no network and no secret. See docs/FEDERATION.md for the kubelet configuration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := authapp.CredentialProvider(cmd.InOrStdin(), robot, time.Now())
			if err != nil {
				return fmt.Errorf("credential-provider: %w", err)
			}
			return json.NewEncoder(a.stdout).Encode(resp)
		},
	}
	cmd.Flags().StringVar(&robot, "robot", "", "full login name of the federated robot (e.g. 'robot$builder')")
	return cmd
}
