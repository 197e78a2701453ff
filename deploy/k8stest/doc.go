// Package k8stest decodes the Kubernetes manifests and the Helm chart's output strictly against the Kubernetes API types (a module of its own, so k8s.io/api stays out of authserver's).
package k8stest
