package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// The kubelet image credential provider exec protocol
// (credentialprovider.kubelet.k8s.io/v1), written out here so the binary
// needs no k8s.io modules. With tokenAttributes set in the kubelet's
// CredentialProviderConfig (KEP-4412), each request carries the pulling
// pod's service-account token.
const credentialProviderAPI = "credentialprovider.kubelet.k8s.io/v1"

// RobotAnnotation on a pod's service account names the federated robot it
// pulls as, instead of --robot (list it in the kubelet config's
// tokenAttributes.optionalServiceAccountAnnotationKeys).
const RobotAnnotation = "authserver.dev/robot"

type credentialProviderRequest struct {
	APIVersion                string            `json:"apiVersion"`
	Kind                      string            `json:"kind"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations"`
}

type credentialProviderAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type credentialProviderResponse struct {
	APIVersion    string                            `json:"apiVersion"`
	Kind          string                            `json:"kind"`
	CacheKeyType  string                            `json:"cacheKeyType"`
	CacheDuration string                            `json:"cacheDuration,omitempty"`
	Auth          map[string]credentialProviderAuth `json:"auth"`
}

func (a *app) credentialProviderCmd() *cobra.Command {
	var robot string
	cmd := &cobra.Command{
		Use:   "credential-provider --robot NAME",
		Short: "Kubelet image credential provider: pull as a federated robot with the pod's service-account token",
		Long: `Reads a CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1) on stdin and
answers a CredentialProviderResponse on stdout: username the robot (--robot, or the service
account's ` + RobotAnnotation + ` annotation), password the service-account token the kubelet
passed. The robot must be federated with a trust policy the token meets. Needs no config,
no network and no secret. See docs/FEDERATION.md for the kubelet configuration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := credentialProvider(cmd.InOrStdin(), robot, time.Now())
			if err != nil {
				return fmt.Errorf("credential-provider: %w", err)
			}
			return json.NewEncoder(a.stdout).Encode(resp)
		},
	}
	cmd.Flags().StringVar(&robot, "robot", "", "full login name of the federated robot (e.g. 'robot$builder')")
	return cmd
}

// credentialProvider answers one request.
func credentialProvider(in io.Reader, robot string, now time.Time) (credentialProviderResponse, error) {
	var req credentialProviderRequest
	dec := json.NewDecoder(io.LimitReader(in, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return credentialProviderResponse{}, fmt.Errorf("read request: %w", err)
	}
	if req.Kind != "CredentialProviderRequest" || req.APIVersion != credentialProviderAPI {
		return credentialProviderResponse{}, fmt.Errorf("want a %s CredentialProviderRequest, got %s %s", credentialProviderAPI, req.APIVersion, req.Kind)
	}
	if name := req.ServiceAccountAnnotations[RobotAnnotation]; name != "" {
		robot = name
	}
	switch {
	case robot == "":
		return credentialProviderResponse{}, errors.New("no robot: pass --robot or annotate the service account with " + RobotAnnotation)
	case req.ServiceAccountToken == "":
		return credentialProviderResponse{}, errors.New("the request has no serviceAccountToken: set tokenAttributes.serviceAccountTokenAudience in the kubelet's CredentialProviderConfig")
	}
	host := imageRegistry(req.Image)
	if host == "" {
		return credentialProviderResponse{}, fmt.Errorf("image %q: no registry host", req.Image)
	}
	resp := credentialProviderResponse{
		APIVersion: credentialProviderAPI, Kind: "CredentialProviderResponse",
		// The credential is the pod's token: it must not serve another pod.
		CacheKeyType: "Image",
		Auth:         map[string]credentialProviderAuth{host: {Username: robot, Password: req.ServiceAccountToken}},
	}
	// The kubelet may reuse the answer until the token expires, no longer.
	if exp, ok := jwtExpiry(req.ServiceAccountToken); ok {
		left := exp.Sub(now).Truncate(time.Second)
		resp.CacheDuration = max(left, 0).String()
	} else {
		resp.CacheDuration = "0s"
	}
	return resp, nil
}

// imageRegistry is the registry host of an image reference, as the
// kubelet matches auth keys: the part before the first '/' when it looks
// like a host (has '.' or ':', or is localhost), else Docker Hub.
func imageRegistry(image string) string {
	host, _, found := strings.Cut(image, "/")
	if !found || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return "docker.io"
	}
	return host
}

// jwtExpiry reads the exp of a JWT without verifying it (the server does).
func jwtExpiry(raw string) (time.Time, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(c.Exp, 0), true
}
