// cert-manager-webhook: cert-manager's validating, mutating and conversion webhook at
// v1.21.1, for a host process that a test API server reaches by URL.
//
// Upstream's main package (cmd/webhook, module .../webhook-binary) is not published, so
// the module proxy answers 404 for it; its flags, configuration and server are in the
// published module, and this is what cmd/webhook/app does with them.
package main

import (
	"context"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/cert-manager/cert-manager/internal/apis/config/webhook/validation"
	cmwebhook "github.com/cert-manager/cert-manager/internal/webhook"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	webhookconfigfile "github.com/cert-manager/cert-manager/pkg/webhook/configfile"
	"github.com/cert-manager/cert-manager/pkg/webhook/options"

	"github.com/cert-manager/cert-manager/platform-tools/internal/driver"
)

func main() { driver.Main("webhook", run) }

func run(ctx context.Context, args []string) error {
	flags := options.NewWebhookFlags()
	cfg, err := options.NewWebhookConfiguration()
	if err != nil {
		return err
	}
	fs := pflag.NewFlagSet("cert-manager-webhook", pflag.ContinueOnError)
	flags.AddFlags(fs)
	options.AddConfigFlags(fs, cfg)
	file := webhookconfigfile.New()
	err = driver.Load{
		Flags: fs, ConfigPath: &flags.Config, File: file, FromFile: func() { file.Config.DeepCopyInto(cfg) },
		FeatureGates: func() map[string]bool { return cfg.FeatureGates },
		Validate:     func() field.ErrorList { return validation.ValidateWebhookConfiguration(cfg, nil) },
		Logging:      &cfg.Logging,
	}.Run(args)
	if err != nil {
		return err
	}
	log := logf.FromContext(ctx, "webhook")
	v := util.VersionInfo()
	log.Info("starting cert-manager webhook", "version", v.GitVersion, "go_version", v.GoVersion)
	srv, err := cmwebhook.NewCertManagerWebhookServer(log, *cfg)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
