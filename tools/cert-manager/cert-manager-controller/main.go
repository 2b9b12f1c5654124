// cert-manager-controller: cert-manager's controller manager at v1.21.1, for a host
// process against a test API server.
//
// Why not upstream's binary: its main package lives in its own Go module
// (cmd/controller, module github.com/cert-manager/cert-manager/controller-binary),
// which is never published, so the module proxy answers 404 for it. Every controller,
// issuer and the controller context are in the published module; this driver does what
// cmd/controller/app does with them (configuration defaults, the --config file, flags,
// validation, NewContextFactory, the enabled controllers, the informer factories) and
// leaves out what a single host process does not need: leader election, the metrics,
// profiling and healthz servers.
package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	cliflag "k8s.io/component-base/cli/flag"

	config "github.com/cert-manager/cert-manager/internal/apis/config/controller"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/controller/scheme"
	defaults "github.com/cert-manager/cert-manager/internal/apis/config/controller/v1alpha1"
	"github.com/cert-manager/cert-manager/internal/apis/config/controller/validation"
	"github.com/cert-manager/cert-manager/internal/controller/feature"
	"github.com/cert-manager/cert-manager/internal/pem"
	configv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/controller/v1alpha1"
	"github.com/cert-manager/cert-manager/pkg/controller"
	shimgateways "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/gateways"
	controllerconfigfile "github.com/cert-manager/cert-manager/pkg/controller/configfile"
	dnsutil "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"

	// The issuers register themselves here, as in upstream's cmd/controller/app/start.go
	// (the controllers do through the defaults package above), all but Venafi's: its
	// client library, github.com/Venafi/vcert/v5, is refused by the module proxy at every
	// version, so the build leaves the Venafi issuer and controllers out (see
	// build_cert_manager in scripts/bootstrap-tools.sh).
	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/vault"

	"github.com/cert-manager/cert-manager/platform-tools/internal/driver"
)

func main() { driver.Main("controller", run) }

func run(ctx context.Context, args []string) error {
	cfg, err := newConfiguration()
	if err != nil {
		return err
	}
	fs := pflag.NewFlagSet("cert-manager-controller", pflag.ContinueOnError)
	configPath := fs.String("config", "", "Path to a file containing a ControllerConfiguration object")
	fs.StringVar(&cfg.KubeConfig, "kubeconfig", cfg.KubeConfig, "Path to a kubeconfig")
	fs.StringVar(&cfg.ClusterResourceNamespace, "cluster-resource-namespace", cfg.ClusterResourceNamespace, "Namespace of the Secrets that ClusterIssuers refer to")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "Limit cert-manager to one namespace (disables ClusterIssuers)")
	fs.StringSliceVar(&cfg.Controllers, "controllers", cfg.Controllers, "Controllers to run: '*', names, '-name' to disable")
	fs.IntVar(&cfg.NumberOfConcurrentWorkers, "concurrent-workers", cfg.NumberOfConcurrentWorkers, "Workers per controller")
	fs.Var(cliflag.NewMapStringBool(&cfg.FeatureGates), "feature-gates", "Feature gates: "+fmt.Sprint(utilfeature.DefaultFeatureGate.KnownFeatures()))
	logf.AddFlags(&cfg.Logging, fs)
	file := controllerconfigfile.New()
	err = driver.Load{
		Flags: fs, ConfigPath: configPath, File: file, FromFile: func() { file.Config.DeepCopyInto(cfg) },
		FeatureGates: func() map[string]bool { return cfg.FeatureGates },
		Validate:     func() field.ErrorList { return validation.ValidateControllerConfiguration(cfg, nil) },
		Logging:      &cfg.Logging,
	}.Run(args)
	if err != nil {
		return err
	}
	limits := cfg.PEMSizeLimitsConfig
	pem.SetGlobalSizeLimits(pem.NewSizeLimitsFromConfig(limits.MaxCertificateSize, limits.MaxPrivateKeySize, limits.MaxChainLength, limits.MaxBundleSize))
	if cfg.LeaderElectionConfig.Enabled {
		logf.FromContext(ctx).Info("running without leader election: this driver is meant to be the only instance")
	}
	return runControllers(ctx, cfg)
}

// newConfiguration is upstream's options.NewControllerConfiguration.
func newConfiguration() (*config.ControllerConfiguration, error) {
	scheme, _, err := configscheme.NewSchemeAndCodecs()
	if err != nil {
		return nil, err
	}
	cfg := &config.ControllerConfiguration{}
	return cfg, driver.Defaults(scheme, &configv1alpha1.ControllerConfiguration{}, cfg)
}

func runControllers(rootCtx context.Context, cfg *config.ControllerConfiguration) error {
	log := logf.FromContext(rootCtx)
	v := util.VersionInfo()
	log.Info("starting cert-manager controller", "version", v.GitVersion, "go_version", v.GoVersion)
	factory, err := contextFactory(rootCtx, cfg)
	if err != nil {
		return err
	}
	cctx, err := factory.Build()
	if err != nil {
		return err
	}
	enabled := enabledControllers(cfg)
	log.Info("enabled controllers", "controllers", sets.List(enabled))
	g, gctx := errgroup.WithContext(rootCtx)
	for name, construct := range controller.Known() {
		if !enabled.Has(name) {
			continue
		}
		c, err := construct(factory)
		if err != nil {
			return fmt.Errorf("controller %s: %w", name, err)
		}
		g.Go(func() error { return c.Run(cfg.NumberOfConcurrentWorkers, gctx) })
	}
	cctx.SharedInformerFactory.Start(gctx.Done())
	cctx.KubeSharedInformerFactory.Start(gctx.Done())
	cctx.HTTP01ResourceMetadataInformersFactory.Start(gctx.Done())
	if utilfeature.DefaultFeatureGate.Enabled(feature.ExperimentalGatewayAPISupport) && cfg.GatewayAPIConfig.Enabled {
		cctx.GWShared.Start(gctx.Done())
	}
	return g.Wait()
}

// enabledControllers is upstream's options.EnabledControllers without the experimental
// CertificateSigningRequest and ListenerSet controllers.
func enabledControllers(cfg *config.ControllerConfiguration) sets.Set[string] {
	enabled, disabled := sets.New[string](), []string{}
	for _, name := range cfg.Controllers {
		switch {
		case name == "*":
			enabled.Insert(defaults.DefaultEnabledControllers...)
		case len(name) > 1 && name[0] == '-':
			disabled = append(disabled, name[1:])
		default:
			enabled.Insert(name)
		}
	}
	if len(disabled) > 0 && enabled.Len() == 0 {
		enabled.Insert(defaults.DefaultEnabledControllers...)
	}
	if utilfeature.DefaultFeatureGate.Enabled(feature.ExperimentalGatewayAPISupport) && cfg.GatewayAPIConfig.Enabled {
		enabled.Insert(shimgateways.ControllerName)
	}
	if cfg.Namespace != "" {
		enabled.Delete(defaults.ClusterScopedControllers...)
	}
	return enabled.Delete(disabled...)
}

// contextFactory is upstream's buildControllerContextFactory.
func contextFactory(ctx context.Context, cfg *config.ControllerConfiguration) (*controller.ContextFactory, error) {
	nameservers := cfg.ACMEDNS01Config.RecursiveNameservers
	if len(nameservers) == 0 {
		nameservers = dnsutil.RecursiveNameservers
	}
	quantities := map[string]resource.Quantity{}
	for name, s := range map[string]string{
		"requestCPU": cfg.ACMEHTTP01Config.SolverResourceRequestCPU, "requestMemory": cfg.ACMEHTTP01Config.SolverResourceRequestMemory,
		"limitsCPU": cfg.ACMEHTTP01Config.SolverResourceLimitsCPU, "limitsMemory": cfg.ACMEHTTP01Config.SolverResourceLimitsMemory,
	} {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return nil, fmt.Errorf("acmeHTTP01Config solver %s %q: %w", name, s, err)
		}
		quantities[name] = q
	}
	return controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         cfg.KubeConfig,
		KubernetesAPIQPS:   cfg.KubernetesAPIQPS,
		KubernetesAPIBurst: cfg.KubernetesAPIBurst,
		APIServerHost:      cfg.APIServerHost,
		Namespace:          cfg.Namespace,
		ACMEOptions: controller.ACMEOptions{
			HTTP01SolverResourceRequestCPU:    quantities["requestCPU"],
			HTTP01SolverResourceRequestMemory: quantities["requestMemory"],
			HTTP01SolverResourceLimitsCPU:     quantities["limitsCPU"],
			HTTP01SolverResourceLimitsMemory:  quantities["limitsMemory"],
			ACMEHTTP01SolverRunAsNonRoot:      cfg.ACMEHTTP01Config.SolverRunAsNonRoot,
			HTTP01SolverImage:                 cfg.ACMEHTTP01Config.SolverImage,
			HTTP01SolverNameservers:           cfg.ACMEHTTP01Config.SolverNameservers,
			HTTP01SolverExtraLabels:           cfg.ACMEHTTP01Config.SolverExtraLabels,
			HTTP01SolverRuntimeClassName:      cfg.ACMEHTTP01Config.SolverRuntimeClassName,
			DNS01Nameservers:                  nameservers,
			DNS01CheckRetryPeriod:             cfg.ACMEDNS01Config.CheckRetryPeriod,
			DNS01CheckAuthoritative:           !cfg.ACMEDNS01Config.RecursiveNameserversOnly,
		},
		SchedulerOptions: controller.SchedulerOptions{MaxConcurrentChallenges: cfg.MaxConcurrentChallenges},
		IssuerOptions: controller.IssuerOptions{
			ClusterIssuerAmbientCredentials: cfg.ClusterIssuerAmbientCredentials,
			IssuerAmbientCredentials:        cfg.IssuerAmbientCredentials,
			ClusterResourceNamespace:        cfg.ClusterResourceNamespace,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultIssuerName:                 cfg.IngressShimConfig.DefaultIssuerName,
			DefaultIssuerKind:                 cfg.IngressShimConfig.DefaultIssuerKind,
			DefaultIssuerGroup:                cfg.IngressShimConfig.DefaultIssuerGroup,
			DefaultAutoCertificateAnnotations: cfg.IngressShimConfig.DefaultAutoCertificateAnnotations,
			ExtraCertificateAnnotations:       cfg.IngressShimConfig.ExtraCertificateAnnotations,
			GatewayAPIExtraProtocols:          sets.New(cfg.GatewayAPIConfig.ExtraProtocols...),
		},
		CertificateOptions: controller.CertificateOptions{
			EnableOwnerRef:                           cfg.EnableCertificateOwnerRef,
			CopiedAnnotationPrefixes:                 cfg.CopiedAnnotationPrefixes,
			CertificateRequestMinimumBackoffDuration: cfg.CertificateRequestMinimumBackoffDuration,
			CertificateRequestMaximumBackoffDuration: cfg.CertificateRequestMaximumBackoffDuration,
		},
		ConfigOptions: controller.ConfigOptions{
			EnableGatewayAPI:            cfg.GatewayAPIConfig.Enabled,
			EnableGatewayAPIListenerSet: cfg.GatewayAPIConfig.EnableListenerSet,
		},
	})
}
