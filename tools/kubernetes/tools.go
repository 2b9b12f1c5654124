//go:build tools

// Package tools pins kube-apiserver and kube-controller-manager, which
// scripts/bootstrap-tools.sh builds.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
