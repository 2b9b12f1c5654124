//go:build tools

// Package tools pins the Go programs that scripts/bootstrap-tools.sh builds from this module.
package tools

import (
	_ "github.com/vmware-tanzu/velero/cmd/velero"
	_ "github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws"
)
