// cert-manager-cainjector: cert-manager's CA injector at v1.21.1 (writes the CA bundle
// into the webhook configurations, CRDs and APIServices annotated for it), for a host
// process against a test API server.
//
// Upstream's main package (cmd/cainjector, module .../cainjector-binary) is not
// published, so the module proxy answers 404 for it. The injectors are in the published
// module (pkg/controller/cainjector); this is what cmd/cainjector/app does with them,
// without leader election, the metrics server and profiling.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/wait"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	config "github.com/cert-manager/cert-manager/internal/apis/config/cainjector"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/cainjector/scheme"
	"github.com/cert-manager/cert-manager/internal/apis/config/cainjector/validation"
	configv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/cainjector/v1alpha1"
	cainjectorconfigfile "github.com/cert-manager/cert-manager/pkg/cainjector/configfile"
	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"

	"github.com/cert-manager/cert-manager/platform-tools/internal/driver"
)

func main() { driver.Main("cainjector", run) }

func run(ctx context.Context, args []string) error {
	cfg, err := newConfiguration()
	if err != nil {
		return err
	}
	fs := pflag.NewFlagSet("cert-manager-cainjector", pflag.ContinueOnError)
	configPath := fs.String("config", "", "Path to a file containing a CAInjectorConfiguration object")
	fs.StringVar(&cfg.KubeConfig, "kubeconfig", cfg.KubeConfig, "Path to a kubeconfig")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "Limit the injector to one namespace")
	fs.StringSliceVar(&cfg.IgnoreNamespaces, "ignore-namespaces", cfg.IgnoreNamespaces, "Namespaces whose Secrets are ignored")
	fs.BoolVar(&cfg.EnableDataSourceConfig.Certificates, "enable-certificates-data-source", cfg.EnableDataSourceConfig.Certificates, "Inject from Certificates (needs the Certificate CRD)")
	logf.AddFlags(&cfg.Logging, fs)
	file := cainjectorconfigfile.New()
	err = driver.Load{
		Flags: fs, ConfigPath: configPath, File: file, FromFile: func() { file.Config.DeepCopyInto(cfg) },
		FeatureGates: func() map[string]bool { return cfg.FeatureGates },
		Validate:     func() field.ErrorList { return validation.ValidateCAInjectorConfiguration(cfg, nil) },
		Logging:      &cfg.Logging,
	}.Run(args)
	if err != nil {
		return err
	}
	return runInjectors(ctx, cfg)
}

// newConfiguration is upstream's options.NewCAInjectorConfiguration.
func newConfiguration() (*config.CAInjectorConfiguration, error) {
	scheme, _, err := configscheme.NewSchemeAndCodecs()
	if err != nil {
		return nil, err
	}
	cfg := &config.CAInjectorConfiguration{}
	return cfg, driver.Defaults(scheme, &configv1alpha1.CAInjectorConfiguration{}, cfg)
}

func runInjectors(ctx context.Context, cfg *config.CAInjectorConfiguration) error {
	log := logf.FromContext(ctx, "cainjector")
	v := util.VersionInfo()
	log.Info("starting cert-manager ca-injector", "version", v.GitVersion, "go_version", v.GoVersion)
	restConfig, err := clientcmd.BuildConfigFromFlags("", cfg.KubeConfig)
	if err != nil {
		return err
	}
	restConfig = util.RestConfigWithUserAgent(restConfig, "cainjector")
	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))
	var namespaces map[string]cache.Config
	if cfg.Namespace != "" {
		namespaces = map[string]cache.Config{cfg.Namespace: {}}
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:  scheme,
		Cache:   cache.Options{ReaderFailOnMissingInformer: true, DefaultNamespaces: namespaces},
		Client:  client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		return fmt.Errorf("error creating manager: %w", err)
	}
	if cfg.EnableDataSourceConfig.Certificates {
		if err := waitForCertificateCRD(ctx, mgr); err != nil {
			return err
		}
	}
	err = cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    cfg.Namespace,
		IgnoreNamespaces:             cfg.IgnoreNamespaces,
		EnableCertificatesDataSource: cfg.EnableDataSourceConfig.Certificates,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   cfg.EnableInjectableConfig.MutatingWebhookConfigurations,
			cainjector.ValidatingWebhookConfigurationName: cfg.EnableInjectableConfig.ValidatingWebhookConfigurations,
			cainjector.APIServiceName:                     cfg.EnableInjectableConfig.APIServices,
			cainjector.CustomResourceDefinitionName:       cfg.EnableInjectableConfig.CustomResourceDefinitions,
		},
	})
	if err != nil {
		return fmt.Errorf("failed to register injectors: %w", err)
	}
	return mgr.Start(ctx)
}

// waitForCertificateCRD waits, as upstream does, for the Certificate CRD that the
// certificates data source watches (up to five minutes).
func waitForCertificateCRD(ctx context.Context, mgr ctrl.Manager) error {
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		crd := apiext.CustomResourceDefinition{}
		err := direct.Get(ctx, types.NamespacedName{Name: "certificates.cert-manager.io"}, &crd)
		if client.IgnoreNotFound(err) != nil {
			return false, err
		}
		return err == nil, nil
	})
}
