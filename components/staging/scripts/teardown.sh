# teardown.sh: `pulumi destroy`: stop every service of the project (profiled or not) and
# remove the secrets written to the host (env files, kept releases). Volumes stay unless
# $PURGE is true; then the volumes (the database!), $APP_DIR and $STATE_DIR go too.
if [ ! -d "$APP_DIR" ]; then
    log "$APP_DIR is gone: nothing to tear down"
    exit 0
fi
lock
cd "$APP_DIR"
volumes=""
[ "$PURGE" = true ] && volumes=--volumes
if [ -d .git ] && git rev-parse -q --verify HEAD >/dev/null; then
    # shellcheck disable=SC2046,SC2086
    compose $(profile_flags '*') down --remove-orphans $volumes
else
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker rm -f $ids >/dev/null
    if [ "$PURGE" = true ]; then
        ids=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
        # shellcheck disable=SC2086
        [ -z "$ids" ] || docker volume rm $ids >/dev/null
    fi
fi
rm -rf .env "$STATE/staged" "$STATE/live" "$STATE/env" "$STATE/releases" "$STATE/dashboard-password"
if [ "$PURGE" = true ]; then
    cd /
    rm -rf "$APP_DIR" "$STATE"
    printf 'purged %s, %s and its volumes\n' "$APP_DIR" "$STATE"
else
    printf 'stopped %s; volumes and checkout kept\n' "$PROJECT"
fi
