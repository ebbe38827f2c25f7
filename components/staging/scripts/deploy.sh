# deploy.sh: under the deploy lock, activate commit $COMMIT with the staged .env and
# override, `up --wait` the stack (health checks), validate it, and record it as the last
# good release. On failure: roll back to the last good release (volumes untouched), or,
# on the first deploy this host sees, take the stack down with its volumes, as the plan says.
IFS= read -r dashboard_password || true
[ -n "$COMMIT" ] || die "no commit to deploy (the checkout reported none)"
lock
cd "$APP_DIR"

activate() { # activate COMMIT ENV_FILE OVERRIDE_FILE
    git -c advice.detachedHead=false checkout --quiet --force --detach "$1"
    (umask 077 && cp "$2" .env.next) && chmod 600 .env.next && mv -f .env.next .env
    mkdir -p "$STATE/live"
    cp "$3" "$OVERRIDE.next" && mv -f "$OVERRIDE.next" "$OVERRIDE"
}

# `up --wait` exits non-zero when a service turns unhealthy, or has exited by the time it
# looks (Compose 2.40.3, the real plugin; tests/staging proves it). A service without a
# health check counts as ready once it runs: validation below proves the release serves.
up() {
    build=""
    [ "$BUILD" = true ] && build=--build
    # shellcheck disable=SC2046,SC2086
    compose $(profile_flags) up --detach --wait --wait-timeout "$WAIT_TIMEOUT" $build
}

record_good() {
    rm -rf "$STATE/good.next"
    mkdir -p "$STATE/good.next"
    printf '%s\n' "$COMMIT" >"$STATE/good.next/commit"
    (umask 077 && cp .env "$STATE/good.next/env")
    cp "$OVERRIDE" "$STATE/good.next/compose.override.yml"
    rm -rf "$STATE/good"
    mv "$STATE/good.next" "$STATE/good"
    touch "$STATE/released"
}

show_state() {
    # shellcheck disable=SC2046
    compose $(profile_flags) ps --all --format 'table {{.Service}}\t{{.State}}\t{{.Status}}' >&2 || true
}

for staged in env compose.override.yml; do
    [ -f "$STATE/staged/$staged" ] || die "$STATE/staged/$staged is missing (written by the env/override steps)"
done
log "deploying commit $COMMIT"
activate "$COMMIT" "$STATE/staged/env" "$STATE/staged/compose.override.yml"
if up && validate; then
    record_good
    log "commit $COMMIT is live and validated"
    printf 'deployed %s\n' "$COMMIT"
    exit 0
fi
show_state

if [ -f "$STATE/good/commit" ]; then
    good=$(cat "$STATE/good/commit")
    log "rolling back to the last good release, commit $good (volumes kept)"
    activate "$good" "$STATE/good/env" "$STATE/good/compose.override.yml"
    # Validated again, so that staging serves the good release when this script returns.
    if ! { up && validate; }; then
        show_state
        die "commit $COMMIT failed and the rollback to $good failed too: the stack needs a look"
    fi
    die "commit $COMMIT failed health checks or validation; rolled back to $good (validated)"
elif [ -f "$STATE/released" ]; then
    # shellcheck disable=SC2046
    compose $(profile_flags '*') down --remove-orphans || true
    die "commit $COMMIT failed, and no earlier release is on record to roll back to: stack stopped, volumes kept"
else
    log "first deploy failed: docker compose down -v (containers and volumes removed)"
    # shellcheck disable=SC2046
    compose $(profile_flags '*') down --volumes --remove-orphans || true
    die "first deploy of commit $COMMIT failed health checks or validation; the stack was taken down"
fi
