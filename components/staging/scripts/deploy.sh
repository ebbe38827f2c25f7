# deploy.sh: under the deploy lock, deploy commit $COMMIT (the agent passes it as $1).
# Before anything starts: the env file from the app's .env.example with the managed keys
# over it, every variable checked (config_check.sh) and the Traefik image checked against
# the engine. Then activate, `up --wait` (health checks), validate, and keep the release.
# On failure: back to the last good release without a rebuild (volumes untouched), or, on
# the first deploy this host sees, take the stack down with its volumes, as the plan says.
IFS= read -r dashboard_password || true
from_pulumi=$COMMIT
[ -n "$COMMIT" ] || COMMIT=${1:-}
[ -n "$COMMIT" ] || die "no commit to deploy (the checkout reported none)"
lock
if [ -n "$from_pulumi" ] && [ -n "$dashboard_password" ]; then
    # for the validation of the pull-agent's deploys and of a rollback
    (umask 077 && printf '%s\n' "$dashboard_password" >"$STATE/dashboard-password")
fi
cd "$APP_DIR"
for staged in env compose.override.yml; do
    [ -f "$STATE/staged/$staged" ] || die "$STATE/staged/$staged is missing (written by the env/override steps)"
done
mkdir -p "$STATE/env" "$STATE/live" "$STATE/releases"
chmod 700 "$STATE/env"
rm -f "$APP_DIR/.env" # secrets stay out of the build context (earlier versions wrote it here)

# --- the candidate, checked before anything starts or stops
previous=$(git rev-parse -q --verify HEAD 2>/dev/null || true)
git -c advice.detachedHead=false checkout --quiet --force --detach "$COMMIT"
build_env "$STATE/staged/env" "$STATE/env/next.env"
live_env=$ENV_FILE live_override=$OVERRIDE
ENV_FILE="$STATE/env/next.env" OVERRIDE="$STATE/staged/compose.override.yml"
if ! problems=$(check_config "$ENV_FILE") || ! problems=$(check_traefik); then
    rm -f "$STATE/env/next.env"
    [ -z "$previous" ] || git -c advice.detachedHead=false checkout --quiet --force --detach "$previous"
    die "commit $COMMIT not deployed (nothing started or stopped): ${problems:-see above}"
fi
# `pulumi up` takes over from the pull-agent (never mid-deploy: we hold the lock);
# staging-pull-agent starts it again after a validated deploy.
[ -z "$from_pulumi" ] || agent_stop
mv -f "$ENV_FILE" "$live_env"
cp "$OVERRIDE" "$live_override.next"
mv -f "$live_override.next" "$live_override"
ENV_FILE=$live_env OVERRIDE=$live_override

log "deploying commit $COMMIT"
if up && validate; then
    record_release
    log "commit $COMMIT is live and validated"
    printf 'release %s deployed %s\n' "$(cat "$STATE/releases/current")" "$COMMIT"
    exit 0
fi
show_state

failed=$COMMIT
good=$(cat "$STATE/releases/current" 2>/dev/null || true)
if [ -n "$good" ] && [ -d "$STATE/releases/$good" ]; then
    restore_release "$good"
    log "rolling back to release $good, commit $COMMIT (no rebuild, volumes kept)"
    # Validated again, so that staging serves the good release when this script returns.
    if ! { up --no-build && validate; }; then
        show_state
        die "commit $failed failed and the rollback to $COMMIT failed too: the stack needs a look"
    fi
    die "commit $failed failed health checks or validation; rolled back to $COMMIT (validated)"
elif [ -f "$STATE/released" ]; then
    # shellcheck disable=SC2046
    compose $(profile_flags '*') down --remove-orphans || true
    die "commit $failed failed, and no earlier release is on record to roll back to: stack stopped, volumes kept"
else
    log "first deploy failed: docker compose down -v (containers and volumes removed)"
    # shellcheck disable=SC2046
    compose $(profile_flags '*') down --volumes --remove-orphans || true
    die "first deploy of commit $failed failed health checks or validation; the stack was taken down"
fi
