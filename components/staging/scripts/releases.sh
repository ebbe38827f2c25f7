# releases.sh: validated releases kept on the host, so that going back needs no rebuild.
#   up [--no-build]     the stack, waiting for health checks
#   record_release      keep commit, env file, override and image ids of the live release
#   restore_release N   make release N live again: commit, env file, override, image tags
#   show_state          every service's state, on stderr

# `up --wait` exits non-zero when a service turns unhealthy, or has exited by the time it
# looks (Compose 2.40.3, the real plugin; tests/staging proves it). A service without a
# health check counts as ready once it runs: validation proves the release serves.
up() {
    build=""
    [ "$BUILD" = true ] && build=--build
    [ "${1:-}" != --no-build ] || build="--no-build --pull never"
    # shellcheck disable=SC2046,SC2086
    compose $(profile_flags) up --detach --wait --wait-timeout "$WAIT_TIMEOUT" $build
}

releases() { # kept release numbers, oldest first
    find "$STATE/releases" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' 2>/dev/null |
        sed 's#.*/##' | grep -E '^[0-9]+$' | sort -n
}

record_release() {
    number=$(($(releases | tail -n 1 | grep . || echo 0) + 1))
    dir="$STATE/releases/$number"
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    printf '%s\n' "$COMMIT" >"$dir.tmp/commit"
    (umask 077 && cp "$ENV_FILE" "$dir.tmp/env")
    cp "$OVERRIDE" "$dir.tmp/compose.override.yml"
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker inspect --format '{{.Config.Image}} {{.Image}}' $ids | sort -u >"$dir.tmp/images"
    mv "$dir.tmp" "$dir"
    printf '%s\n' "$number" >"$STATE/releases/current.tmp"
    mv -f "$STATE/releases/current.tmp" "$STATE/releases/current"
    touch "$STATE/released"
    releases | sort -rn | tail -n +"$((KEEP_RELEASES + 1))" | while read -r old; do
        rm -rf "${STATE:?}/releases/$old"
    done
}

restore_release() {
    dir="$STATE/releases/$1"
    git -c advice.detachedHead=false checkout --quiet --force --detach "$(cat "$dir/commit")"
    (umask 077 && cp "$dir/env" "$ENV_FILE.tmp")
    mv -f "$ENV_FILE.tmp" "$ENV_FILE"
    cp "$dir/compose.override.yml" "$OVERRIDE.tmp"
    mv -f "$OVERRIDE.tmp" "$OVERRIDE"
    # Point every image name the release ran back at the image it ran: no rebuild, no pull.
    while read -r name id; do
        case "$name" in sha256:*) ;; *) docker tag "$id" "$name" ;; esac
    done <"$dir/images"
    printf '%s\n' "$1" >"$STATE/releases/current"
    COMMIT=$(cat "$dir/commit")
}

show_state() {
    # shellcheck disable=SC2046
    compose $(profile_flags '*') ps --all --format 'table {{.Service}}\t{{.State}}\t{{.Status}}' >&2 || true
}
