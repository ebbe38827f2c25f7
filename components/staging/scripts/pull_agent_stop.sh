# pull_agent_stop.sh: stop and remove the pull-agent (nothing to do when the app is gone).
[ -d "$APP_DIR/.git" ] || { log "$APP_DIR is gone: no pull-agent to stop"; exit 0; }
lock
cd "$APP_DIR"
# shellcheck disable=SC2046
compose $(profile_flags gitops) rm --stop --force "$PULL_AGENT_SERVICE"
