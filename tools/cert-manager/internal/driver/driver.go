// Package driver holds what the three cert-manager drivers share: start-up the way
// upstream's cmd/*/main.go does it, and configuration loading the way upstream's
// cmd/*/app does it (defaults, then the --config file, then flags over both).
package driver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	logsapi "k8s.io/component-base/logs/api/v1"

	"github.com/cert-manager/cert-manager/internal/cmd/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util/configfile"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
)

// Main runs component with a context cancelled on SIGINT/SIGTERM and exits non-zero
// when it fails, as upstream's main.go files do.
func Main(component string, run func(ctx context.Context, args []string) error) {
	ctx, exit := util.SetupExitHandler(context.Background(), util.GracefulShutdown)
	defer exit() // may call os.Exit, so deferred first
	logf.InitLogs()
	defer logf.FlushLogs()
	ctx = logf.NewContext(ctx, logf.Log, component)
	err := run(ctx, os.Args[1:])
	if errors.Is(err, pflag.ErrHelp) {
		return // pflag printed the usage
	}
	if err != nil {
		logf.Log.Error(err, "error executing command")
		util.SetExitCode(err)
	}
}

// Defaults fills internal with the defaults of its versioned form, as upstream's
// options.New*Configuration functions do.
func Defaults(scheme *runtime.Scheme, versioned, internal runtime.Object) error {
	scheme.Default(versioned)
	return scheme.Convert(versioned, internal, nil)
}

// Load is a component's configuration as upstream's cmd/*/app loads it.
type Load struct {
	Flags      *pflag.FlagSet
	ConfigPath *string               // the --config flag
	File       configfile.ConfigFile // upstream's config file type for the component
	FromFile   func()                // copies File's configuration over the component's
	// Read after parsing, since FromFile may replace them.
	FeatureGates func() map[string]bool
	Validate     func() field.ErrorList
	Logging      *logsapi.LoggingConfiguration
}

// Run parses args, and when --config names a file, loads it and parses args again so
// that flags win over the file; then sets the feature gates, validates, and applies the
// logging configuration.
func (l Load) Run(args []string) error {
	if err := l.Flags.Parse(args); err != nil {
		return err
	}
	if *l.ConfigPath != "" {
		if err := l.loadFile(); err != nil {
			return err
		}
		if err := l.Flags.Parse(args); err != nil {
			return err
		}
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(l.FeatureGates()); err != nil {
		return fmt.Errorf("feature gates: %w", err)
	}
	if errs := l.Validate(); len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %w", errs.ToAggregate())
	}
	return logf.ValidateAndApply(l.Logging)
}

func (l Load) loadFile() error {
	abs, err := filepath.Abs(*l.ConfigPath)
	if err != nil {
		return fmt.Errorf("config file %s: %w", *l.ConfigPath, err)
	}
	loader, err := configfile.NewConfigurationFSLoader(nil, abs)
	if err != nil {
		return fmt.Errorf("config file %s: %w", abs, err)
	}
	if err := loader.Load(l.File); err != nil {
		return fmt.Errorf("config file %s: %w", abs, err)
	}
	l.FromFile()
	return nil
}
