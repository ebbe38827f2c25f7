# agent_ctl.sh: control of the host's pull-agent (agent.sh).
# Stop the host's pull-agent, if one runs (call with the lock held: it then never stops
# the agent in the middle of a deploy).
agent_stop() {
    unit="staging-agent-$PROJECT"
    if [ -f "/etc/systemd/system/$unit.service" ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "$unit" >/dev/null 2>&1 || true
        rm -f "/etc/systemd/system/$unit.service"
        systemctl daemon-reload || true
    fi
    pid=$(cat "$STATE/agent/pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/agent/pid"
}
