// Command genreplaces regenerates the `replace` directives that point
// k8s.io/kubernetes' staging modules at their published versions, reading the
// list from k8s.io/kubernetes' own go.mod.
//
// Why: k8s.io/kubernetes requires its staging modules (k8s.io/api,
// k8s.io/apiserver, ...) at v0.0.0 and replaces them with ./staging/src/...
// paths. A dependency's replace directives are ignored by its consumers, so a
// consumer must replace every required staging module itself. The published
// tag of each staging module for Kubernetes v1.X.Y is v0.X.Y.
//
// Usage (from sim/tools): go run ./internal/genreplaces
//
// Input: the k8s.io/kubernetes version required in ./go.mod (bump it with
// `go mod edit -require=k8s.io/kubernetes@v1.X.Y`, then run this).
// Output: ./go.mod edited in place (previous k8s.io staging replaces dropped,
// new ones written), followed by `go mod tidy`. Exits 1 naming the module when
// a required staging module has no published v0.X.Y.
// Upstream source: the replace and require blocks of
// https://github.com/kubernetes/kubernetes/blob/v1.X.Y/go.mod
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// goMod is the subset of `go mod edit -json` output used here.
type goMod struct {
	Require []struct{ Path, Version string }
	Replace []struct {
		Old struct{ Path, Version string }
		New struct{ Path, Version string }
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "genreplaces:", err)
		os.Exit(1)
	}
}

func run() error {
	own, err := readGoMod()
	if err != nil {
		return err
	}
	kubeVersion := ""
	for _, r := range own.Require {
		if r.Path == "k8s.io/kubernetes" {
			kubeVersion = r.Version
		}
	}
	m := regexp.MustCompile(`^v1\.(\d+)\.(\d+)$`).FindStringSubmatch(kubeVersion)
	if m == nil {
		return fmt.Errorf("go.mod requires k8s.io/kubernetes %q, want a v1.X.Y release", kubeVersion)
	}
	stagingVersion := fmt.Sprintf("v0.%s.%s", m[1], m[2])

	var dl struct{ GoMod, Error string }
	if err := goJSON(&dl, "mod", "download", "-json", "k8s.io/kubernetes@"+kubeVersion); err != nil {
		return err
	}
	if dl.Error != "" {
		return fmt.Errorf("downloading k8s.io/kubernetes@%s: %s", kubeVersion, dl.Error)
	}
	var kube goMod
	if err := goJSON(&kube, "mod", "edit", "-json", dl.GoMod); err != nil {
		return err
	}
	required := map[string]bool{}
	for _, r := range kube.Require {
		required[r.Path] = true
	}
	// Staging modules: local-path replace targets that the require block lists
	// (sample-* modules are replaced upstream but never required).
	var staging []string
	for _, r := range kube.Replace {
		if strings.HasPrefix(r.New.Path, "./staging/") && required[r.Old.Path] {
			staging = append(staging, r.Old.Path)
		}
	}
	if len(staging) == 0 {
		return fmt.Errorf("no staging modules found in %s", dl.GoMod)
	}
	sort.Strings(staging)

	edits := []string{"mod", "edit"}
	for _, r := range own.Replace {
		if strings.HasPrefix(r.Old.Path, "k8s.io/") {
			edits = append(edits, "-dropreplace="+r.Old.Path)
		}
	}
	for _, p := range staging {
		var info struct{ Error *struct{ Err string } }
		if err := goJSON(&info, "list", "-e", "-m", "-json", p+"@"+stagingVersion); err != nil || info.Error != nil {
			return fmt.Errorf("%s@%s (required by k8s.io/kubernetes@%s) is not published on the module proxy", p, stagingVersion, kubeVersion)
		}
		edits = append(edits, fmt.Sprintf("-replace=%s=%s@%s", p, p, stagingVersion))
	}
	if err := goRun(edits...); err != nil {
		return err
	}
	fmt.Printf("genreplaces: %d staging modules of k8s.io/kubernetes@%s replaced with %s\n", len(staging), kubeVersion, stagingVersion)
	return goRun("mod", "tidy")
}

func readGoMod() (goMod, error) {
	var g goMod
	err := goJSON(&g, "mod", "edit", "-json")
	return g, err
}

// goJSON runs `go args...` and decodes its stdout as JSON into v.
func goJSON(v any, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	if jerr := json.Unmarshal(out, v); jerr != nil {
		return fmt.Errorf("go %s: decoding output: %w", strings.Join(args, " "), jerr)
	}
	return nil
}

func goRun(args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}
