# pull_agent.sh: start the GitOps pull-agent (compose profile "gitops") once the release is
# validated. It shares the deploy lock, so it never redeploys while Pulumi does.
lock
cd "$APP_DIR"
build=""
[ "$BUILD" = true ] && build=--build
# shellcheck disable=SC2046,SC2086
compose $(profile_flags gitops) up --detach --no-deps --wait --wait-timeout "$WAIT_TIMEOUT" $build "$PULL_AGENT_SERVICE"
printf 'pull-agent %s running\n' "$PULL_AGENT_SERVICE"
