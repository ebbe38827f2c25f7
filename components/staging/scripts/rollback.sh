# rollback.sh: under the deploy lock, make the release before the live one live again: its
# commit, env file, override and images (no rebuild, no pull), then validate it (with the
# dashboard password from stdin, else the one the last deploy kept in $STATE).
IFS= read -r dashboard_password || true
lock
[ -n "$dashboard_password" ] || dashboard_password=$(cat "$STATE/dashboard-password" 2>/dev/null || true)
cd "$APP_DIR"
current=$(cat "$STATE/releases/current" 2>/dev/null || echo 0)
target=$(releases | awk -v current="$current" '$1 < current + 0' | tail -n 1)
[ -n "$target" ] || die "no earlier release kept on this host to roll back to"
# the pull-agent leaves the commit rolled back from alone until its ref moves on
cp "$STATE/releases/$current/commit" "$STATE/skip-commit" 2>/dev/null || true
restore_release "$target"
log "rolling back to release $target, commit $COMMIT"
if ! { up --no-build && validate; }; then
    show_state
    die "the rollback to commit $COMMIT failed: the stack needs a look"
fi
printf 'rolled back %s\n' "$COMMIT"
