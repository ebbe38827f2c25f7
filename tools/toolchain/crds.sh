#!/usr/bin/env bash
# The CRDs the draft uses, from their projects' own manifests in their Go modules, into
# .toolchain/crds for the test cluster (External Secrets: SecretStore, ExternalSecret, the
# Password generator; Prometheus Operator: PrometheusRule, ServiceMonitor).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$(cd "$HERE/../.." && pwd)/.toolchain/crds"
# shellcheck source=versions.env
source "$HERE/versions.env"
mkdir -p "$OUT"

module_dir() { GOFLAGS=-mod=mod go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }

eso="$(module_dir "github.com/external-secrets/external-secrets@v$EXTERNAL_SECRETS_VERSION")"
for crd in external-secrets.io_secretstores external-secrets.io_externalsecrets \
  generators.external-secrets.io_passwords; do
  install -m 0644 "$eso/config/crds/bases/$crd.yaml" "$OUT/$crd.yaml"
done
prom="$(module_dir "github.com/prometheus-operator/prometheus-operator@v$PROMETHEUS_OPERATOR_VERSION")"
for crd in monitoring.coreos.com_prometheusrules monitoring.coreos.com_servicemonitors; do
  install -m 0644 "$prom/example/prometheus-operator-crd/$crd.yaml" "$OUT/$crd.yaml"
done
echo "[toolchain] CRDs: external-secrets $EXTERNAL_SECRETS_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION"
