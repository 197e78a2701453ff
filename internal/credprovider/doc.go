// Package credprovider is the kubelet image credential provider protocol (credentialprovider.kubelet.k8s.io/v1): it answers a pod's request with its service-account token as a federated robot's password.
package credprovider
