# pull_agent_stop.sh: stop the pull-agent (after any deploy it runs: it takes the lock) and
# remove its secrets.
[ -d "$STATE" ] || { log "$STATE is gone: no pull-agent to stop"; exit 0; }
lock
agent_stop
rm -rf "$STATE/agent"
printf 'pull-agent stopped\n'
