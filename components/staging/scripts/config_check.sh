# config_check.sh: what a release needs before anything starts.
#   build_env STAGED OUT   the app's .env.example (of the checked-out commit) with the
#                          managed keys of STAGED set over it, written 0600 to OUT
#   check_config ENV_FILE  every variable the compose files interpolate without a default
#                          that has no value, and every value naming a production host,
#                          in one message; non-zero when there is any
build_env() {
    (
        umask 077
        {
            if [ -f "$APP_DIR/.env.example" ]; then
                awk 'FNR == NR { if (match($0, /^[A-Za-z_][A-Za-z0-9_]*=/)) managed[substr($0, 1, RLENGTH - 1)] = 1; next }
                    { key = $0; sub(/^[ \t]*(export[ \t]+)?/, "", key); sub(/[ \t]*=.*$/, "", key); if (!(key in managed)) print }' \
                    "$1" "$APP_DIR/.env.example"
            fi
            cat "$1"
        } >"$2.tmp"
    )
    chmod 600 "$2.tmp"
    mv -f "$2.tmp" "$2"
}

check_config() {
    _check=$(mktemp -d)
    # shellcheck disable=SC2046
    if ! compose $(profile_flags) config --variables --format json >"$_check/variables" ||
        ! compose $(profile_flags) config --no-interpolate >"$_check/raw"; then
        rm -rf "$_check"
        log "docker compose cannot read the compose files of this release (above)"
        return 1
    fi
    # Variables written with an explicit default (${X-}, ${X:-...}, ${X:+...}) may stay empty.
    # shellcheck disable=SC2016 # a literal '${'
    grep -o '\${[A-Za-z_][A-Za-z0-9_]*:\{0,1\}[-+]' "$_check/raw" | sed 's/^..//; s/:\{0,1\}[-+]$//' >"$_check/defaulted" || true
    _status=0
    awk -v hosts="$PRODUCTION_HOSTS" -v allowed="$ALLOW_PRODUCTION_VALUES" -v env_file="$1" '
        function names_host(value, host,    rest, at, before, after) {
            rest = tolower(value)
            while ((at = index(rest, host)) > 0) {
                before = substr(rest, at - 1, 1); after = substr(rest, at + length(host), 1)
                if ((at == 1 || before !~ /[a-z0-9.-]/) && after !~ /[a-z0-9-]/ && !(after == "." && substr(rest, at + length(host) + 1, 1) ~ /[a-z0-9]/)) return 1
                rest = substr(rest, at + length(host))
            }
            return 0
        }
        FILENAME != env_file && FILENAME ~ /defaulted$/ { defaulted[$0] = 1; next }
        FILENAME == env_file {
            line = $0; sub(/^[ \t]+/, "", line)
            if (line ~ /^#/ || index(line, "=") == 0) next
            sub(/^export[ \t]+/, "", line)
            key = substr(line, 1, index(line, "=") - 1); value = substr(line, index(line, "=") + 1)
            sub(/[ \t]+$/, "", key)
            if (value ~ /^\047/) { value = substr(value, 2); sub(/\047[ \t]*$/, "", value) }
            else if (value ~ /^"/) { value = substr(value, 2); sub(/"[ \t]*$/, "", value) }
            else { sub(/[ \t]+#.*$/, "", value); sub(/[ \t]+$/, "", value) }
            env[key] = value
            next
        }
        /"Name": "/ { name = $0; sub(/.*"Name": "/, "", name); sub(/",?[ \t]*$/, "", name); names[++count] = name; next }
        /"DefaultValue": "/ { value = $0; sub(/.*"DefaultValue": "/, "", value); sub(/",?[ \t]*$/, "", value); default_of[name] = value; next }
        END {
            split(hosts, host_list, " "); split(allowed, allow_list, " ")
            for (i in allow_list) ok[allow_list[i]] = 1
            for (i = 1; i <= count; i++) {
                key = names[i]
                value = (key in env && env[key] != "") ? env[key] : default_of[key]
                if (value == "") {
                    if (!(key in defaulted)) missing = missing " " key
                    continue
                }
                if (key in ok) continue
                for (j in host_list) if (host_list[j] != "" && names_host(value, tolower(host_list[j]))) production = production " " key " (" host_list[j] ")"
            }
            if (missing != "") printf "variables interpolated without a default have no value:%s; set them in staging:env (or in the app'"'"'s .env.example)\n", missing
            if (production != "") printf "values point at production:%s; set a staging value in staging:env, or list the variable in staging:allowProductionValues\n", production
            exit (missing != "" || production != "")
        }' "$_check/defaulted" "$1" "$_check/variables" || _status=$?
    rm -rf "$_check"
    return "$_status"
}

# check_traefik: Docker Engine 29 serves API 1.44 and later only; Traefik before 2.11.31 /
# 3.6.1 asks for an older one and routes nothing ("client version 1.24 is too old").
check_traefik() {
    engine=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo 0)
    # shellcheck disable=SC2046
    image=$(compose $(profile_flags) config --images "$TRAEFIK_SERVICE" 2>/dev/null | head -n 1)
    [ -n "$image" ] || return 0
    traefik_serves "$engine" "$(image_version "$image")" && return 0
    printf 'Traefik image %s cannot serve Docker Engine %s: Docker 29 and later need Traefik 2.11.31+ or 3.6.1+; set staging:images.%s to one, e.g. traefik:v3.6.1\n' \
        "$image" "$engine" "$TRAEFIK_SERVICE"
    return 1
}

# image_version IMAGE: the version its tag names (x.y.z), else its OCI version label,
# else the tag's x.y; '' when neither tells.
image_version() {
    tag=""
    case "${1##*/}" in *:*) tag=${1##*:} ;; esac
    tag=${tag#v}
    if printf '%s\n' "$tag" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$'; then
        printf '%s\n' "$tag"
        return 0
    fi
    label=$(docker image inspect --format '{{index .Config.Labels "org.opencontainers.image.version"}}' "$1" 2>/dev/null || true)
    label=${label#v}
    if printf '%s\n' "$label" | grep -Eq '^[0-9]+(\.[0-9]+)+$'; then
        printf '%s\n' "$label"
    elif printf '%s\n' "$tag" | grep -Eq '^[0-9]+(\.[0-9]+)*$'; then
        printf '%s\n' "$tag"
    fi
}

# traefik_serves ENGINE_VERSION TRAEFIK_VERSION: can that Traefik route on that engine?
traefik_serves() {
    [ "${1%%.*}" -ge 29 ] 2>/dev/null || return 0
    case "$2" in
    "") return 0 ;;
    1.* | 2.*) version_at_least "$2" 2.11.31 ;;
    *) version_at_least "$2" 3.6.1 ;;
    esac
}
