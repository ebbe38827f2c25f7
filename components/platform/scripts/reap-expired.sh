#!/bin/sh
# The in-cluster draft reaper: delete every draft namespace whose expiry has passed, and say so.
#
# Run every few minutes by the draft-reaper CronJob (components/platform/reaper.py) with its
# service account; needs kubectl, sh, awk and date. Its environment names the labels:
#   KIND_LABEL     e.g. environments.dev/kind        (draft namespaces carry the value "draft")
#   EXPIRES_LABEL  e.g. environments.dev/expires-at  (UTC, ISO 8601 basic: 20261124T050000Z,
#                                                      which sorts as time does)
# Namespaces already terminating are left alone; one without a well-formed expiry is reported
# and kept. Exits 1 when a deletion failed, so the Job shows it.
set -eu
: "${KIND_LABEL:?KIND_LABEL must name the draft kind label}"
: "${EXPIRES_LABEL:?EXPIRES_LABEL must name the expiry label}"

now=$(date -u +%Y%m%dT%H%M%SZ)
expires_column=$(printf '%s' "$EXPIRES_LABEL" | sed 's/\./\\./g')
drafts=$(kubectl get namespaces --selector "$KIND_LABEL=draft" --no-headers \
  -o "custom-columns=NAME:.metadata.name,EXPIRES:.metadata.labels.$expires_column,PHASE:.status.phase")

expired=$(printf '%s\n' "$drafts" | awk -v now="$now" '
  NF < 3 || $3 == "Terminating" { next }
  length($2) != 16 || $2 !~ /^[0-9]+T[0-9]+Z$/ {
    print "reaper: kept " $1 ": no well-formed expiry label" > "/dev/stderr"; next
  }
  $2 < now { print $1, $2 }')

count=0
failed=0
while read -r name expires; do
  [ -n "$name" ] || continue
  if kubectl delete namespace "$name" --wait=false; then
    echo "reaper: deleted draft namespace $name (expired $expires, now $now)"
    count=$((count + 1))
  else
    echo "reaper: could not delete draft namespace $name (expired $expires)" >&2
    failed=$((failed + 1))
  fi
done <<DRAFTS
$expired
DRAFTS

echo "reaper: $count expired draft namespace(s) deleted, $failed failed, at $now"
[ "$failed" -eq 0 ]
