# preflight.sh: refuse a host below the staging plan, then install what is missing
# (Docker Engine, the Compose plugin, git, curl, flock) and open HTTP/HTTPS in an active
# firewall. Prints one line per finding; changes nothing when all is in place.
problems=""
refuse() {
    problems="$problems
  - $*"
}

# --- the host itself
os_id=$(. /etc/os-release 2>/dev/null && printf '%s' "${ID:-unknown}")
os_version=$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_ID:-0}")
supported=no
for entry in $SUPPORTED_OS; do
    if [ "$os_id" = "${entry%%:*}" ] && version_at_least "$os_version" "${entry#*:}"; then
        supported=yes
    fi
done
[ "$supported" = yes ] || refuse "operating system is $os_id $os_version; the plan supports $SUPPORTED_OS"

cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)
[ "$cpus" -ge "$MIN_CPUS" ] || refuse "$cpus CPUs; the plan needs at least $MIN_CPUS"

memory_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
[ "$memory_mb" -ge "$MIN_MEMORY_MB" ] ||
    refuse "memory is $memory_mb MB; the plan needs $MIN_MEMORY_GB GB (at least $MIN_MEMORY_MB MB)"

dir=$APP_DIR
while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
disk_mb=$(df -Pm "$dir" | awk 'NR == 2 { print $2 }')
[ "$disk_mb" -ge "$MIN_DISK_MB" ] ||
    refuse "the file system of $dir holds $disk_mb MB; the plan needs $MIN_DISK_GB GB (at least $MIN_DISK_MB MB)"
[ -w "$dir" ] || refuse "user $(id -un) cannot write $dir (to create $APP_DIR)"

# --- DNS: the A records must point at this host, asked of the configured resolver
if [ -n "$DNS_RESOLVER" ]; then
    server=${DNS_RESOLVER%%:*}
    port=53
    case "$DNS_RESOLVER" in *:*) port=${DNS_RESOLVER#*:} ;; esac
    for name in $DNS_NAMES; do
        if command -v dig >/dev/null 2>&1; then
            answer=$(dig +short +time=3 +tries=2 -p "$port" "@$server" "$name" A 2>/dev/null || true)
        elif command -v nslookup >/dev/null 2>&1; then
            answer=$(nslookup -port="$port" "$name" "$server" 2>/dev/null |
                awk '/^Name:/ { seen = 1 } seen && /^Address/ { print $NF }' || true)
        else
            refuse "cannot check DNS: neither dig nor nslookup is installed"
            break
        fi
        if printf '%s\n' "$answer" | grep -qxF "$PUBLIC_IP"; then
            printf 'dns %s A %s\n' "$name" "$PUBLIC_IP"
        else
            refuse "DNS: $name has no A record $PUBLIC_IP at $DNS_RESOLVER (found: $(printf '%s' "$answer" | tr '\n' ' '))"
        fi
    done
fi

[ -z "$problems" ] || die "host $(hostname) does not meet the staging plan:$problems"
printf 'host %s %s, %s CPUs, %s MB memory, %s MB disk\n' "$os_id" "$os_version" "$cpus" "$memory_mb" "$disk_mb"

# --- software: install only what is missing
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
apt_install() {
    [ "$INSTALL_MISSING" = true ] || die "missing $*, and staging:installMissing is false"
    command -v apt-get >/dev/null 2>&1 || die "missing $*, and this host has no apt-get"
    log "installing $*"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
docker_repository() {
    [ -f /etc/apt/sources.list.d/docker.list ] && return 0
    apt_install ca-certificates curl
    codename=$(. /etc/os-release && printf '%s' "$VERSION_CODENAME")
    $sudo install -m 0755 -d /etc/apt/keyrings
    curl -fsSL "https://download.docker.com/linux/$os_id/gpg" | $sudo tee /etc/apt/keyrings/docker.asc >/dev/null
    printf 'deb [arch=%s signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/%s %s stable\n' \
        "$(dpkg --print-architecture)" "$os_id" "$codename" | $sudo tee /etc/apt/sources.list.d/docker.list >/dev/null
}

missing=""
command -v git >/dev/null 2>&1 || missing="$missing git"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v flock >/dev/null 2>&1 || missing="$missing util-linux"
# shellcheck disable=SC2086
[ -z "$missing" ] || apt_install $missing
docker_package() { # docker_package NAME: NAME=<the repository's build of $DOCKER_VERSION>
    version=$(apt-cache madison "$1" | awk -v v="$DOCKER_VERSION" '$3 ~ "^([0-9]+:)?" v "-" { print $3; exit }')
    [ -n "$version" ] || die "Docker $DOCKER_VERSION ($1) is not in the Docker apt repository; set staging:dockerVersion to one it has"
    printf '%s=%s' "$1" "$version"
}
if ! command -v docker >/dev/null 2>&1; then
    docker_repository
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    engine=$(docker_package docker-ce)
    cli=$(docker_package docker-ce-cli)
    apt_install "$engine" "$cli" containerd.io docker-buildx-plugin docker-compose-plugin
    $sudo systemctl enable --now docker >/dev/null 2>&1 || true
elif ! docker compose version >/dev/null 2>&1; then
    docker_repository
    apt_install docker-compose-plugin
fi
docker info >/dev/null 2>&1 || die "the Docker engine does not answer user $(id -un) (is it running, is the user in group docker?)"
printf 'docker %s, %s, %s\n' "$(docker version --format '{{.Server.Version}}')" \
    "$(docker compose version --short 2>/dev/null || echo '?')" "$(git --version)"

# --- firewall: open HTTP and HTTPS where one is active
if [ "$OPEN_FIREWALL" = true ]; then
    if command -v ufw >/dev/null 2>&1 && $sudo ufw status 2>/dev/null | grep -q '^Status: active'; then
        for p in "$HTTP_PORT" "$HTTPS_PORT"; do $sudo ufw allow "$p/tcp" >/dev/null; done
        printf 'firewall ufw: %s/tcp and %s/tcp allowed\n' "$HTTP_PORT" "$HTTPS_PORT"
    elif command -v firewall-cmd >/dev/null 2>&1 && $sudo firewall-cmd --state >/dev/null 2>&1; then
        for p in "$HTTP_PORT" "$HTTPS_PORT"; do $sudo firewall-cmd --quiet --permanent --add-port="$p/tcp"; done
        $sudo firewall-cmd --quiet --reload
        printf 'firewall firewalld: %s/tcp and %s/tcp allowed\n' "$HTTP_PORT" "$HTTPS_PORT"
    else
        printf 'firewall: none active\n'
    fi
fi
