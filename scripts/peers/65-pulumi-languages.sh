#!/usr/bin/env bash
# profiles: test
# The Pulumi language hosts for Python and YAML programs (the e2e tests of the vic provider in
# those languages), and the Python SDK `pulumi` in a project-local virtualenv:
#   .cache/bin/pulumi-language-python (+ pulumi-language-python-exec, the script it runs)
#   .cache/bin/pulumi-language-yaml
#   .cache/pulumi-python-venv       python3 -m venv, with pulumi==$PYTHON_SDK_VERSION from PyPI
#   .cache/bin/pulumi-python-sdkgen (pulumi-component/python-sdkgen): Pulumi's Python SDK generator
#
# The Python host the proxy serves predates GeneratePackage, so `pulumi package gen-sdk --language
# python` cannot run here; pulumi-python-sdkgen runs the same generator (pkg/v3 codegen/python at the
# CLI's version) on the vic schema. Pulumi YAML needs no SDK.
#
# Routes, as for the Node host in 60-pulumi.sh:
#  - Python: the host's own module (sdk/python/cmd/pulumi-language-python/v3, since v3.69.0) has no
#    tags and the Go module proxy refuses it (403); up to v3.68.0 the host was a package of sdk/v3,
#    which the proxy serves. The exec script it starts ships in the same module.
#  - YAML: github.com/pulumi/pulumi-yaml is a module of its own with tags and no replace directive.
# A refused module is logged with its exact path and version, then the next route is tried.
#
# A no-op when everything exists and a stamp names the versions below. VIC_PULUMI_REBUILD=1 rebuilds.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# The SDK matches the CLI of 60-pulumi.sh.
PYTHON_SDK_VERSION="3.259.0"
# Builds the generated pulumi_vic SDK in the virtualenv, so installing it needs no network
# (pip --no-build-isolation); the version ensurepip brings cannot build a wheel by itself.
SETUPTOOLS_VERSION="80.9.0"
# What the generated SDK requires beside pulumi (its setup.py), so installing it needs no network.
SDK_REQUIREMENTS="parver==1.0.1"
PYTHON_HOST_ROUTES=(
  "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@v3.259.0 ."
  "github.com/pulumi/pulumi/sdk/v3@v3.68.0 ./python/cmd/pulumi-language-python"
)
YAML_HOST_ROUTES=(
  "github.com/pulumi/pulumi-yaml@v1.25.0 ./cmd/pulumi-language-yaml"
)
VENV="$VIC_CACHE/pulumi-python-venv"
SDKGEN_VERSION="3.259.0"
SDKGEN_SOURCE="$VIC_ROOT/pulumi-component/python-sdkgen/main.go"

# True when $VIC_BIN/$1 exists and its stamp equals $2.
current() { [ -z "${VIC_PULUMI_REBUILD:-}" ] && [ -x "$VIC_BIN/$1" ] && [ "$(cat "$VIC_BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
venv_current() { [ -z "${VIC_PULUMI_REBUILD:-}" ] && [ "$(cat "$VENV/.pulumi.version" 2>/dev/null)" = "$PYTHON_SDK_VERSION setuptools $SETUPTOOLS_VERSION $SDK_REQUIREMENTS" ]; }

work="$VIC_CACHE/pulumi-languages-build"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

# Builds $1 (binary name) by the first route of the rest that the proxy serves and that compiles.
# Each route is "module@version package-dir"; on success the stamp records the module@version.
build_host() {
  local name="$1" route module pkg out dir failures=""
  shift
  for route in "$@"; do
    module="${route% *}"
    pkg="${route#* }"
    if ! out=$(go mod download -json "$module" 2>&1); then
      reason=$(printf '%s' "$out" | jq -r '.Error // empty' 2>/dev/null || true)
      failures="$failures
  $module: ${reason:-$out}"
      log "refused: $module (${reason:-$out}); trying the next route for $name"
      continue
    fi
    dir=$(printf '%s' "$out" | jq -r '.Dir')
    log "building $name from $module ($pkg)"
    rm -rf "$work" && mkdir -p "$work" && cp -r "$dir" "$work/src" && chmod -R u+w "$work/src"
    if (cd "$work/src" && go build -mod=mod -trimpath -ldflags "-s -w" -o "$VIC_BIN/$name.tmp" "$pkg"); then
      mv -f "$VIC_BIN/$name.tmp" "$VIC_BIN/$name"
      # The Python host starts the program through this script, found next to the host on PATH.
      if [ -f "$work/src/$pkg/../pulumi-language-python-exec" ]; then
        install -m 0755 "$work/src/$pkg/../pulumi-language-python-exec" "$VIC_BIN/pulumi-language-python-exec"
      fi
      echo "$module" >"$VIC_BIN/.$name.version"
      rm -rf "$work"
      log "$name ($module) is in $VIC_BIN"
      return 0
    fi
    failures="$failures
  $module: go build $pkg failed (see the go error above)"
  done
  die "$name could not be built from Go modules:$failures
Check access to the Go module proxy ($(go env GOPROXY))."
}

# A module of its own in the cache, so the repository holds no go.mod: it requires pkg/v3 and sdk/v3
# at the CLI's version (pkg/v3's replace of sdk/v3 is ignored for a dependency).
build_sdkgen() {
  local dir="$VIC_CACHE/pulumi-python-sdkgen-build"
  log "building pulumi-python-sdkgen with github.com/pulumi/pulumi/pkg/v3@v$SDKGEN_VERSION"
  rm -rf "$dir" && mkdir -p "$dir" && cp "$SDKGEN_SOURCE" "$dir/main.go"
  (
    cd "$dir"
    go mod init vic-iac/pulumi-python-sdkgen >/dev/null 2>&1
    go get "github.com/pulumi/pulumi/pkg/v3@v$SDKGEN_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$SDKGEN_VERSION"
    go build -mod=mod -trimpath -ldflags "-s -w" -o "$VIC_BIN/pulumi-python-sdkgen.tmp" .
  ) || die "building pulumi-python-sdkgen with github.com/pulumi/pulumi/pkg/v3@v$SDKGEN_VERSION failed (see the go error above)"
  mv -f "$VIC_BIN/pulumi-python-sdkgen.tmp" "$VIC_BIN/pulumi-python-sdkgen"
  echo "$SDKGEN_VERSION $(sha256sum "$SDKGEN_SOURCE" | cut -d' ' -f1)" >"$VIC_BIN/.pulumi-python-sdkgen.version"
  rm -rf "$dir"
}
sdkgen_current() { current pulumi-python-sdkgen "$SDKGEN_VERSION $(sha256sum "$SDKGEN_SOURCE" | cut -d' ' -f1)"; }

# True when $VIC_BIN/$1 was built by one of the routes that follow (a changed route list rebuilds).
stamped() {
  local name="$1" route
  shift
  for route in "$@"; do current "$name" "${route% *}" && return 0; done
  return 1
}
# The sdk/v3 route also installs the exec script its host runs: it must still be there.
python_current() {
  stamped pulumi-language-python "${PYTHON_HOST_ROUTES[@]}" &&
    { [ -x "$VIC_BIN/pulumi-language-python-exec" ] || [ "$(cat "$VIC_BIN/.pulumi-language-python.version")" = "${PYTHON_HOST_ROUTES[0]% *}" ]; }
}
yaml_current() { stamped pulumi-language-yaml "${YAML_HOST_ROUTES[@]}"; }
if ! { python_current && yaml_current && venv_current && sdkgen_current; }; then
  command -v go >/dev/null || die "go not found: install Go >= 1.25 (https://go.dev/dl); the Pulumi language hosts need it"
  command -v jq >/dev/null || die "jq not found: apt-get install -y jq"
  python_current || build_host pulumi-language-python "${PYTHON_HOST_ROUTES[@]}"
  yaml_current || build_host pulumi-language-yaml "${YAML_HOST_ROUTES[@]}"
  sdkgen_current || build_sdkgen
  if ! venv_current; then
    command -v python3 >/dev/null || die "python3 not found: apt-get install -y python3 python3-venv"
    log "creating $VENV with pulumi==$PYTHON_SDK_VERSION, setuptools==$SETUPTOOLS_VERSION and $SDK_REQUIREMENTS from PyPI"
    rm -rf "$VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed: apt-get install -y python3-venv"
    # shellcheck disable=SC2086 # SDK_REQUIREMENTS is a list
    "$VENV/bin/pip" install --quiet "pulumi==$PYTHON_SDK_VERSION" "setuptools==$SETUPTOOLS_VERSION" $SDK_REQUIREMENTS ||
      die "pip install pulumi==$PYTHON_SDK_VERSION setuptools==$SETUPTOOLS_VERSION $SDK_REQUIREMENTS failed (see pip's error above): check access to PyPI"
    echo "$PYTHON_SDK_VERSION setuptools $SETUPTOOLS_VERSION $SDK_REQUIREMENTS" >"$VENV/.pulumi.version"
  fi
fi
log "pulumi-language-python, pulumi-language-yaml, pulumi-python-sdkgen are in $VIC_BIN; the Python SDK in $VENV"
