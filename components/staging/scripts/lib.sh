# lib.sh: helpers every staging script shares (rendered in front of each script).
# Host state lives in $STATE_DIR, outside the app's checkout (its build context):
#   lock/deploy.lock   the deploy lock: pulumi up, the pull-agent and rollback take it (flock)
#   staged/            env (the managed keys) and compose override as Pulumi last wrote them
#   env/.env           the live release's env file (0600, in a 0700 directory), --env-file
#   live/              the compose override in use
#   releases/N/        commit, env file, override and image ids of validated releases
#   releases/current   the number of the live release; `released` once any release passed
STATE="$STATE_DIR"
OVERRIDE="$STATE/live/compose.override.yml"
ENV_FILE="$STATE/env/.env"

log() { printf 'staging: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Take the host's deploy lock (fd 9) for the rest of the script.
lock() {
    mkdir -p "$STATE/lock"
    chmod 700 "$STATE"
    exec 9>>"$STATE/lock/deploy.lock"
    flock -w "$LOCK_TIMEOUT" 9 || die "deploy lock $STATE/lock/deploy.lock still held after ${LOCK_TIMEOUT}s"
}

# docker compose for this project: the app's files, then the staging override, with the
# env file of $ENV_FILE (never a .env in the checkout).
compose() {
    files=""
    for f in $COMPOSE_FILES; do files="$files -f $APP_DIR/$f"; done
    [ -f "$OVERRIDE" ] && files="$files -f $OVERRIDE"
    [ -f "$ENV_FILE" ] && files="--env-file $ENV_FILE $files"
    # shellcheck disable=SC2086 # paths are validated to hold no blanks or glob characters
    docker compose --project-name "$PROJECT" --project-directory "$APP_DIR" $files "$@"
}

# --profile flags for the configured profiles (plus any given as arguments).
profile_flags() {
    for p in $PROFILES "$@"; do printf ' --profile %s' "$p"; done
}

# version_at_least A B: A >= B, comparing dotted numbers.
version_at_least() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x, "."); m = split(b, y, "."); k = n > m ? n : m
        for (i = 1; i <= k; i++) { if (x[i] + 0 > y[i] + 0) exit 0; if (x[i] + 0 < y[i] + 0) exit 1 }
        exit 0 }'
}
