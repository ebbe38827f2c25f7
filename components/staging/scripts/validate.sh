# validate.sh: is the release what the plan's validation stage asks for?
#   1. https://$APP_HOST and https://$DASHBOARD_HOST answer with certificates the host
#      trusts (waiting for ACME);
#   2. every smoke check (status, and text in the body) passes;
#   3. the Traefik dashboard refuses no and wrong credentials and accepts the right ones.
# The dashboard password is in $dashboard_password (read from stdin, never in argv).
probe() { # probe HOST PATH [curl options...]: print the HTTP status; non-zero on transport/TLS errors
    _host=$1 _path=$2
    shift 2
    # shellcheck disable=SC2086
    curl --silent --show-error --max-time 15 --output "$probe_body" --write-out '%{http_code}' \
        --resolve "$_host:$HTTPS_PORT:$PROBE_ADDRESS" ${CA_FILE:+--cacert "$CA_FILE"} \
        "$@" "https://$_host:$HTTPS_PORT$_path"
}

credentials() { # curl config on stdout: printf is a shell builtin, so no process sees the password
    printf 'user = "%s:%s"\n' "$1" "$2"
}

routed() {
    case "$1" in 404 | 502 | 503 | 504) return 1 ;; *) return 0 ;; esac
}

validate() {
    probe_body=$(mktemp)
    probe_error=$(mktemp)
    deadline=$(($(date +%s) + VALIDATE_TIMEOUT))
    for site in "$APP_HOST /" "$DASHBOARD_HOST /dashboard/"; do
        status=""
        # shellcheck disable=SC2086 # "host path"
        set -- $site
        # Traefik answers 404/502-504 until its docker provider has routed the site.
        until status=$(probe "$1" "$2" 2>"$probe_error") && routed "$status"; do
            if [ "$(date +%s)" -ge "$deadline" ]; then
                log "https://$1$2: no routed HTTPS answer with a valid certificate in ${VALIDATE_TIMEOUT}s: ${status:-} $(cat "$probe_error")"
                rm -f "$probe_body" "$probe_error"
                return 1
            fi
            sleep 2
        done
        log "https://$1 answers with a valid certificate (status $status)"
    done

    tab=$(printf '\t')
    failed=0
    while IFS=$tab read -r want path text; do
        [ -n "$path" ] || continue
        status=$(probe "$APP_HOST" "$path" 2>"$probe_error") || status="error: $(cat "$probe_error")"
        if [ "$status" != "$want" ]; then
            log "smoke check $path: expected status $want, got $status"
            failed=1
        elif [ -n "$text" ] && ! grep -qF -- "$text" "$probe_body"; then
            log "smoke check $path: status $status but the body lacks '$text'"
            failed=1
        else
            log "smoke check $path: ok ($status)"
        fi
    done <<SMOKE
$SMOKE_CHECKS
SMOKE
    if [ "$failed" != 0 ]; then
        rm -f "$probe_body" "$probe_error"
        return 1
    fi

    anonymous=$(probe "$DASHBOARD_HOST" /dashboard/ 2>"$probe_error") || anonymous="error: $(cat "$probe_error")"
    wrong=$(credentials "$DASHBOARD_USER" "wrong-$$-$(date +%s)" |
        probe "$DASHBOARD_HOST" /dashboard/ --config - 2>"$probe_error") || wrong="error: $(cat "$probe_error")"
    right=$(credentials "$DASHBOARD_USER" "$dashboard_password" |
        probe "$DASHBOARD_HOST" /dashboard/ --config - 2>"$probe_error") || right="error: $(cat "$probe_error")"
    rm -f "$probe_body" "$probe_error"
    if [ "$anonymous" != 401 ] || [ "$wrong" != 401 ] || [ "$right" != 200 ]; then
        log "dashboard https://$DASHBOARD_HOST/dashboard/: no credentials -> $anonymous, wrong -> $wrong, right -> $right (expected 401, 401, 200)"
        return 1
    fi
    log "dashboard https://$DASHBOARD_HOST: refuses anonymous and wrong credentials, accepts the right ones"
}
