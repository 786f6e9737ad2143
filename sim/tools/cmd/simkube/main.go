// Command simkube is a multi-call binary holding the control plane of the
// simulated cluster: kube-apiserver, kube-controller-manager, kube-scheduler,
// kubectl (k8s.io/kubernetes), etcd (go.etcd.io/etcd/server/v3) and kwok, kwokctl
// (sigs.k8s.io/kwok).
//
// Why one binary: the three Kubernetes components, kwok and etcd share most of
// their packages; one binary means one link step and one file on disk instead
// of seven (the cold build runs on every CI job). Hyperkube did the same until
// Kubernetes 1.19.
//
// Dispatch: on the name it is called by (argv[0], so symlinks named
// kube-apiserver, etcd, ... work, which is what `kwokctl --runtime binary`
// needs), else on its first argument (`simkube etcd --version`). Each entry
// point is the body of the upstream main() of the same version, so flags,
// output and exit codes are upstream's.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	_ "time/tzdata" // CronJob time zones (kube-apiserver, kube-controller-manager upstream mains import it)

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // client auth plugins, as in upstream cmd/kubectl
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format, as in upstream mains
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as in upstream mains
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric, as in upstream mains
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	"sigs.k8s.io/kwok/pkg/config"
	kwokcmd "sigs.k8s.io/kwok/pkg/kwok/cmd"
	kwokctlcmd "sigs.k8s.io/kwok/pkg/kwokctl/cmd"
	_ "sigs.k8s.io/kwok/pkg/kwokctl/runtime/binary" // kwokctl runtimes, as in upstream cmd/kwokctl
	_ "sigs.k8s.io/kwok/pkg/kwokctl/runtime/compose"
	_ "sigs.k8s.io/kwok/pkg/kwokctl/runtime/kind"
	"sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/kwok/pkg/utils/signals"
)

// entries maps a program name to its upstream main body; each returns the
// process exit code.
var entries = map[string]func() int{
	"kube-apiserver":          func() int { return cli.Run(apiserver.NewAPIServerCommand()) },
	"kube-controller-manager": func() int { return cli.Run(controllermanager.NewControllerManagerCommand()) },
	"kube-scheduler":          func() int { return cli.Run(scheduler.NewSchedulerCommand()) },
	"kubectl":                 func() int { dropVersionFlag(); return runKubectl() },
	"etcd":                    func() int { etcdmain.Main(os.Args); return 0 },
	"kwok":                    func() int { dropVersionFlag(); return runKwok(false) },
	// kwokctl links the kwok binary as <workdir>/bin/kwok-controller and runs it by that name.
	"kwok-controller": func() int { dropVersionFlag(); return runKwok(false) },
	"kwokctl":         func() int { dropVersionFlag(); return runKwok(true) },
}

func main() {
	name := filepath.Base(os.Args[0])
	if _, ok := entries[name]; !ok {
		if len(os.Args) < 2 || entries[os.Args[1]] == nil {
			usage()
			os.Exit(2)
		}
		// Called as `simkube <name> args...`: make os.Args look like a direct
		// call, because cobra, etcdmain and klog read os.Args themselves.
		name = os.Args[1]
		os.Args = os.Args[1:]
	}
	os.Exit(entries[name]())
}

func usage() {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: simkube <program> [args...], or call through a link named after the program\nprograms: %v\n", names)
}

// dropVersionFlag removes the --version flag that k8s.io/component-base/version/verflag
// registers on pflag.CommandLine at init (for the kube-* components). cobra adds
// pflag.CommandLine to every root command, and a non-bool "version" flag breaks
// cobra's own --version in kwok and kwokctl ("version" flag declared as non-bool).
// The standalone kwok, kwokctl and kubectl binaries do not link verflag.
func dropVersionFlag() {
	clean := pflag.NewFlagSet(pflag.CommandLine.Name(), pflag.ExitOnError)
	pflag.CommandLine.VisitAll(func(f *pflag.Flag) {
		if f.Name != "version" {
			clean.AddFlag(f)
		}
	})
	pflag.CommandLine = clean
}

// runKubectl is upstream's cmd/kubectl main (k8s.io/kubernetes v1.36.3). kwokctl runs
// `kubectl get --raw /healthz` to decide that the cluster is up.
func runKubectl() int {
	// Verbosity before flag parsing, as upstream: kubectl logs while building its commands.
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	command := kubectlcmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		kubectlutil.CheckErr(err) // prints and exits 1, as upstream
	}
	return 0
}

// runKwok is upstream's cmd/kwok and cmd/kwokctl main (sigs.k8s.io/kwok v0.8.0).
func runKwok(ctl bool) int {
	flagset := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flagset.ParseErrorsAllowlist.UnknownFlags = true
	flagset.Usage = func() {}

	ctx := signals.SetupSignalContext()
	ctx, logger := log.InitFlags(ctx, flagset)

	ctx, err := config.InitFlags(ctx, flagset)
	if err != nil {
		_, _ = os.Stderr.Write([]byte(flagset.FlagUsages()))
		logger.Error("Init config flags", "err", err)
		return 1
	}

	command := kwokcmd.NewCommand(ctx)
	if ctl {
		command = kwokctlcmd.NewCommand(ctx)
	}
	command.PersistentFlags().AddFlagSet(flagset)
	if err := command.ExecuteContext(ctx); err != nil {
		logger.Error("Execute exit", "err", err)
		return 1
	}
	return 0
}
