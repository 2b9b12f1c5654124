//go:build tools

// Package tools pins the Go programs that scripts/bootstrap-tools.sh builds from this module.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
