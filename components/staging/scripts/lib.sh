# lib.sh: helpers every staging script shares (rendered in front of each script).
# State on the host lives in $APP_DIR/.deploy:
#   lock/deploy.lock   the deploy lock, shared with the pull-agent (flock)
#   staged/            .env and compose override as Pulumi last wrote them
#   live/              the compose override in use
#   good/              commit, .env and override of the last validated release
#   released           present once any release passed validation on this host
STATE="$APP_DIR/.deploy"
OVERRIDE="$STATE/live/compose.override.yml"

log() { printf 'staging: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Take the host's deploy lock (fd 9) for the rest of the script.
lock() {
    mkdir -p "$STATE/lock"
    exec 9>>"$STATE/lock/deploy.lock"
    flock -w "$LOCK_TIMEOUT" 9 || die "deploy lock $STATE/lock/deploy.lock still held after ${LOCK_TIMEOUT}s"
}

# docker compose for this project: the app's files, then the staging override.
compose() {
    files=""
    for f in $COMPOSE_FILES; do files="$files -f $APP_DIR/$f"; done
    [ -f "$OVERRIDE" ] && files="$files -f $OVERRIDE"
    # shellcheck disable=SC2086 # paths are validated to hold no blanks or glob characters
    docker compose --project-name "$PROJECT" --project-directory "$APP_DIR" $files "$@"
}

# --profile flags for the configured profiles (plus any given as arguments).
profile_flags() {
    for p in $PROFILES "$@"; do printf ' --profile %s' "$p"; done
}
