# agent.sh: the pull-agent, on the host: every $AGENT_INTERVAL seconds fetch $REF and, when
# it names a new commit, deploy it with the scripts `pulumi up` runs (checkout.sh and
# deploy.sh: the same override, env file, lock, checks, validation and rollback). A
# commit that failed, or that a rollback left, is not deployed again until $REF moves on.
AGENT="$STATE/agent"
while :; do
    if out=$(sh "$AGENT/checkout.sh" <"$AGENT/git-token"); then
        commit=$(printf '%s\n' "$out" | sed -n 's/^commit //p')
        live=$(cat "$STATE/releases/$(cat "$STATE/releases/current" 2>/dev/null)/commit" 2>/dev/null || true)
        if [ -n "$commit" ] && [ "$commit" != "$live" ] && [ "$commit" != "$(cat "$STATE/skip-commit" 2>/dev/null || true)" ]; then
            log "agent: $REF is now $commit; deploying"
            sh "$AGENT/deploy.sh" "$commit" <"$STATE/dashboard-password" ||
                printf '%s\n' "$commit" >"$STATE/skip-commit"
        fi
    fi
    sleep "$AGENT_INTERVAL"
done
