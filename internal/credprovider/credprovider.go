package credprovider

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// APIVersion is the kubelet image credential provider exec protocol
// (credentialprovider.kubelet.k8s.io/v1), written out here so the binary
// needs no k8s.io modules. With tokenAttributes set in the kubelet's
// CredentialProviderConfig (KEP-4412), each request carries the pulling
// pod's service-account token.
const APIVersion = "credentialprovider.kubelet.k8s.io/v1"

// RobotAnnotation on a pod's service account names the federated robot it
// pulls as, instead of --robot (list it in the kubelet config's
// tokenAttributes.optionalServiceAccountAnnotationKeys).
const RobotAnnotation = "authserver.dev/robot"

// Request is a CredentialProviderRequest.
type Request struct {
	APIVersion                string            `json:"apiVersion"`
	Kind                      string            `json:"kind"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations"`
}

// Auth is the credential for one registry host.
type Auth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Response is a CredentialProviderResponse.
type Response struct {
	APIVersion    string          `json:"apiVersion"`
	Kind          string          `json:"kind"`
	CacheKeyType  string          `json:"cacheKeyType"`
	CacheDuration string          `json:"cacheDuration,omitempty"`
	Auth          map[string]Auth `json:"auth"`
}

// Answer reads one request from in and answers it: the robot of the
// service account's RobotAnnotation, else robot, with the request's
// service-account token as its password, cached for the token's life.
func Answer(in io.Reader, robot string, now time.Time) (Response, error) {
	var req Request
	dec := json.NewDecoder(io.LimitReader(in, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return Response{}, fmt.Errorf("read request: %w", err)
	}
	if req.Kind != "CredentialProviderRequest" || req.APIVersion != APIVersion {
		return Response{}, fmt.Errorf("want a %s CredentialProviderRequest, got %s %s", APIVersion, req.APIVersion, req.Kind)
	}
	if name := req.ServiceAccountAnnotations[RobotAnnotation]; name != "" {
		robot = name
	}
	switch {
	case robot == "":
		return Response{}, errors.New("no robot: pass --robot or annotate the service account with " + RobotAnnotation)
	case req.ServiceAccountToken == "":
		return Response{}, errors.New("the request has no serviceAccountToken: set tokenAttributes.serviceAccountTokenAudience in the kubelet's CredentialProviderConfig")
	}
	host := imageRegistry(req.Image)
	if host == "" {
		return Response{}, fmt.Errorf("image %q: no registry host", req.Image)
	}
	resp := Response{
		APIVersion: APIVersion, Kind: "CredentialProviderResponse",
		// The credential is the pod's token: it must not serve another pod.
		CacheKeyType: "Image",
		Auth:         map[string]Auth{host: {Username: robot, Password: req.ServiceAccountToken}},
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
