#!/bin/sh
# Draft smoke test: log in, create a task, push offline changes, see them online.
#
#   BASE_URL=https://feature-x.drafts.example.com \
#   SMOKE_USERNAME=... SMOKE_PASSWORD=... scripts/smoke_draft.sh
#
# Environment (paths have defaults that match the sample app):
#   BASE_URL               the draft, e.g. https://feature-x.drafts.example.com (required)
#   SMOKE_USERNAME         the smoke user (required; from Vault in a draft)
#   SMOKE_PASSWORD         its password (required; from Vault, never printed)
#   SMOKE_HEALTH_PATH      default /healthz
#   SMOKE_LOGIN_PATH       default /api/auth/login     POST {username,password} -> {token}
#   SMOKE_TASKS_PATH       default /api/tasks          POST {title} -> 201 {id}; GET -> {tasks}
#   SMOKE_SYNC_PATH        default /api/sync           POST {clientId,changes} -> {applied}
#   SMOKE_TIMEOUT_SECONDS  per request, default 10
#   SMOKE_READY_ATTEMPTS   health checks before giving up, 2 s apart, default 30
#
# Exit status: 0 passed; 2 bad usage; 1 a step failed. Every failure names its step:
#   smoke: FAILED at step 'login': HTTP 401 from POST /api/auth/login
# Needs only sh and curl. Secrets go to curl through files, never its command line.
set -eu

fail() {
    printf "smoke: FAILED at step '%s': %s\n" "$1" "$2" >&2
    exit 1
}

usage() {
    printf 'smoke: %s\n' "$1" >&2
    exit 2
}

[ -n "${BASE_URL:-}" ] || usage "BASE_URL is required, e.g. https://feature-x.drafts.example.com"
[ -n "${SMOKE_USERNAME:-}" ] || usage "SMOKE_USERNAME is required (the smoke user, from Vault)"
[ -n "${SMOKE_PASSWORD:-}" ] || usage "SMOKE_PASSWORD is required (the smoke user's password, from Vault)"
command -v curl >/dev/null 2>&1 || usage "curl is required"

base=${BASE_URL%/}
health_path=${SMOKE_HEALTH_PATH:-/healthz}
login_path=${SMOKE_LOGIN_PATH:-/api/auth/login}
tasks_path=${SMOKE_TASKS_PATH:-/api/tasks}
sync_path=${SMOKE_SYNC_PATH:-/api/sync}
timeout=${SMOKE_TIMEOUT_SECONDS:-10}
attempts=${SMOKE_READY_ATTEMPTS:-30}

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
run_id="smoke-$(date +%s)-$$"

# json_escape TEXT: TEXT as the inside of a JSON string.
json_escape() {
    printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# json_field NAME FILE: the first string or number value of "NAME" in FILE.
json_field() {
    sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p" "$2" | head -n 1
}

# request STEP METHOD PATH [BODY_FILE]: sets $status; the response is in $work/response.
request() {
    step=$1 method=$2 path=$3 body=${4:-}
    set -- --silent --show-error --max-time "$timeout" --output "$work/response" \
        --write-out '%{http_code}' --request "$method" --header 'Accept: application/json'
    if [ -f "$work/auth" ]; then
        set -- "$@" --header "@$work/auth"
    fi
    if [ -n "$body" ]; then
        set -- "$@" --header 'Content-Type: application/json' --data-binary "@$body"
    fi
    if ! status=$(curl "$@" "$base$path" 2>"$work/curl-error"); then
        fail "$step" "$method $path did not answer ($(head -c 200 "$work/curl-error"))"
    fi
}

# expect STEP METHOD PATH CODE...: fail STEP unless $status is one of CODE...
expect() {
    step=$1 method=$2 path=$3
    shift 3
    for code in "$@"; do
        [ "$status" = "$code" ] && return 0
    done
    fail "$step" "HTTP $status from $method $path (expected $*)"
}

ok() {
    printf 'smoke: ok    %-14s %s\n' "$1" "$2"
}

# 1. reachability: the release may still be settling behind the ingress.
step=reachability
n=0
while :; do
    n=$((n + 1))
    if status=$(curl --silent --max-time "$timeout" --output /dev/null --write-out '%{http_code}' \
        "$base$health_path" 2>/dev/null) && [ "$status" = 200 ]; then
        break
    fi
    [ "$n" -lt "$attempts" ] || fail "$step" "GET $health_path never answered 200 (last: HTTP ${status:-none}, $n attempts)"
    sleep 2
done
ok "$step" "GET $health_path"

# 2. login: a token for the smoke user.
step=login
printf '{"username":"%s","password":"%s"}' \
    "$(json_escape "$SMOKE_USERNAME")" "$(json_escape "$SMOKE_PASSWORD")" >"$work/login.json"
request "$step" POST "$login_path" "$work/login.json"
rm -f "$work/login.json"
expect "$step" POST "$login_path" 200
token=$(json_field token "$work/response")
[ -n "$token" ] || fail "$step" "POST $login_path answered 200 without a token"
printf '%s: Bearer %s\n' Authorization "$token" >"$work/auth"
ok "$step" "POST $login_path"

# 3. create-task: the online path.
step=create-task
printf '{"title":"%s online"}' "$run_id" >"$work/task.json"
request "$step" POST "$tasks_path" "$work/task.json"
expect "$step" POST "$tasks_path" 200 201
task_id=$(json_field id "$work/response")
[ -n "$task_id" ] || fail "$step" "POST $tasks_path answered without a task id"
ok "$step" "POST $tasks_path (task $task_id)"

# 4. offline-sync: changes a client queued while offline, pushed when it is back online.
step=offline-sync
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '{"clientId":"%s","changes":[%s,%s]}' "$run_id" \
    "{\"op\":\"create\",\"clientRef\":\"$run_id-1\",\"updatedAt\":\"$now\",\"task\":{\"title\":\"$run_id offline\",\"done\":false}}" \
    "{\"op\":\"update\",\"id\":\"$task_id\",\"updatedAt\":\"$now\",\"task\":{\"done\":true}}" \
    >"$work/sync.json"
request "$step" POST "$sync_path" "$work/sync.json"
expect "$step" POST "$sync_path" 200 202
applied=$(json_field applied "$work/response")
[ "$applied" = 2 ] || fail "$step" "POST $sync_path applied ${applied:-no} change(s) of 2"
ok "$step" "POST $sync_path (2 changes)"

# 5. online-view: what was done offline is visible online.
step=online-view
request "$step" GET "$tasks_path"
expect "$step" GET "$tasks_path" 200
grep -q "\"$run_id offline\"" "$work/response" ||
    fail "$step" "GET $tasks_path does not list the task created offline"
# One task object per line, then the created task must now be done.
tr -d ' \n' <"$work/response" | tr '}' '\n' | grep "\"id\":\"*$task_id\"*," |
    grep -q '"done":true' ||
    fail "$step" "GET $tasks_path does not show the offline update of task $task_id"
ok "$step" "GET $tasks_path"

printf 'smoke: PASSED against %s\n' "$base"
