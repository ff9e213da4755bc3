#!/usr/bin/env bash
# Validates the Kubernetes manifests in isolator/deploy/kubernetes/ (part of
# `make test`, as `make deploy-check`):
#  - every manifest against the Kubernetes 1.31 schemas, strict (an unknown
#    field is an error), with kubernetes-validate from PyPI, installed once
#    into a venv under ${ISOLATOR_TOOLS:-~/.cache/isolator-tools} (it ships
#    the schemas: no network after that);
#  - check_manifests.py: kustomization.yaml lists every manifest, the
#    ConfigMap's isolator.toml parses as TOML and agrees with the StatefulSet
#    (ports, probes, grace period, secret paths) and the HPA;
#  - where kubectl is installed, `kubectl kustomize` renders and the result
#    validates too.
# Needs python3 with venv (Debian: python3-venv) the first time.
set -euo pipefail

KV_VERSION=1.37.0      # kubernetes-validate
K8S_VERSION=1.31.0     # the Kubernetes version the manifests target
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifests="$here/kubernetes"
venv="${ISOLATOR_TOOLS:-$HOME/.cache/isolator-tools}/kubernetes-validate-$KV_VERSION"

if ! "$venv/bin/kubernetes-validate" --version >/dev/null 2>&1; then
  echo "deploy-check: installing kubernetes-validate==$KV_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KV_VERSION"
fi

# The manifests kustomize applies (optional/ holds CRD-based extras that the
# Kubernetes schemas do not describe).
files=()
for f in "$manifests"/*.yaml; do
  [ "$(basename "$f")" = kustomization.yaml ] && continue
  files+=("$f")
done

if ! out="$("$venv/bin/kubernetes-validate" --kubernetes-version "$K8S_VERSION" --strict --quiet "${files[@]}" 2>&1)"; then
  echo "$out" >&2
  echo "deploy-check: FAILED: a manifest in $manifests does not match the Kubernetes $K8S_VERSION schemas (above)" >&2
  exit 1
fi
if [ -n "$out" ]; then
  # --quiet prints only warnings and failures: a warning (e.g. no schema for
  # a kind) means a file was not checked, which is a failure here.
  echo "$out" >&2
  echo "deploy-check: FAILED: kubernetes-validate could not check everything (above)" >&2
  exit 1
fi

"$venv/bin/python" "$here/check_manifests.py" "$manifests"

# Where kubectl is installed, also render the kustomization (catches a broken
# kustomization.yaml) and validate what it renders.
rendered="not rendered (no kubectl)"
if command -v kubectl >/dev/null 2>&1; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if ! kubectl kustomize "$manifests" >"$tmp/all.yaml" 2>"$tmp/err"; then
    cat "$tmp/err" >&2
    echo "deploy-check: FAILED: kubectl kustomize $manifests (above)" >&2
    exit 1
  fi
  if ! out="$("$venv/bin/kubernetes-validate" --kubernetes-version "$K8S_VERSION" --strict --quiet "$tmp/all.yaml" 2>&1)" || [ -n "$out" ]; then
    echo "$out" >&2
    echo "deploy-check: FAILED: the kustomize output does not validate (above)" >&2
    exit 1
  fi
  rendered="kustomize output valid"
fi
echo "deploy-check: ${#files[@]} manifests valid for Kubernetes $K8S_VERSION (strict), configuration consistent, $rendered"
