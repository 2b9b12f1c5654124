//go:build tools

// Package tools pins the Go programs that scripts/bootstrap-tools.sh builds from this module.
package tools

import (
	_ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
)
