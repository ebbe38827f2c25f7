#!/usr/bin/env bash
# System packages the integration tests need (real sshd, Docker engine, busybox for test
# images, git, Prometheus). Installs only what is missing; a no-op when everything is present.
set -euo pipefail
need=()
command -v git >/dev/null || need+=(git)
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /bin/busybox ] || command -v busybox >/dev/null || need+=(busybox-static)
command -v htpasswd >/dev/null || need+=(apache2-utils)
# staging tests: an ACME test CA (Pebble) for Traefik to get real certificates from
command -v pebble >/dev/null || need+=(pebble)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
# the post-deploy watch's tests: a real Prometheus (and promtool) on loopback
command -v prometheus >/dev/null || need+=(prometheus)
# lint of the remote and smoke scripts
command -v shellcheck >/dev/null || need+=(shellcheck)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: missing ${need[*]}; run as root or install them yourself" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
