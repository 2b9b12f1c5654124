//go:build tools

// Package tools pins the Kubernetes provider plugin that scripts/bootstrap-tools.sh builds.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes"
)
