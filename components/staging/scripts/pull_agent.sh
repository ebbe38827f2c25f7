# pull_agent.sh: after a validated deploy, (re)start the pull-agent on the host (agent.sh,
# a systemd service where systemd runs, else a background process) and keep the app's own
# agent service stopped (the override puts it in a profile nobody enables). The git token
# arrives on stdin and is kept 0600 in $STATE/agent (the dashboard password the deploy kept).
IFS= read -r git_token || true
lock
agent_stop
AGENT="$STATE/agent"
mkdir -p "$AGENT"
chmod 700 "$AGENT"
(umask 077 && printf '%s\n' "$git_token" >"$AGENT/git-token")
git_token=""
printf '%s\n' "$CHECKOUT_SCRIPT" >"$AGENT/checkout.sh"
printf '%s\n' "$DEPLOY_SCRIPT" >"$AGENT/deploy.sh"
printf '%s\n' "$AGENT_SCRIPT" >"$AGENT/agent.sh"
cd "$APP_DIR"
# shellcheck disable=SC2046
compose $(profile_flags "$DISABLED_PROFILE") rm --stop --force "$PULL_AGENT_SERVICE" >/dev/null 2>&1 || true
unit="staging-agent-$PROJECT"
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    printf '[Unit]\nDescription=staging pull-agent of %s\nAfter=docker.service\n[Service]\nExecStart=/bin/sh %s\nRestart=always\n[Install]\nWantedBy=multi-user.target\n' \
        "$PROJECT" "$AGENT/agent.sh" >"/etc/systemd/system/$unit.service"
    systemctl daemon-reload
    systemctl enable --now "$unit" >/dev/null
    printf 'pull-agent %s (systemd) every %ss on %s\n' "$unit" "$AGENT_INTERVAL" "$REF"
else
    setsid sh "$AGENT/agent.sh" >>"$AGENT/log" 2>&1 </dev/null 9>&- &
    printf '%s\n' "$!" >"$AGENT/pid"
    printf 'pull-agent pid %s every %ss on %s\n' "$!" "$AGENT_INTERVAL" "$REF"
fi
