# checkout.sh: fetch $REPO_URL into $APP_DIR and resolve $REF to a commit (printed).
# The git token arrives on stdin and only ever sits in a 0600 credential file.
IFS= read -r git_token || true
mkdir -p "$APP_DIR"
lock
cd "$APP_DIR"
[ -d .git ] || git init -q
if git remote get-url origin >/dev/null 2>&1; then
    git remote set-url origin "$REPO_URL"
else
    git remote add origin "$REPO_URL"
fi
grep -qxF /.env .git/info/exclude 2>/dev/null || printf '/.env\n' >>.git/info/exclude

set -- -c credential.helper=
case "$REPO_URL" in
http://* | https://*)
    if [ -n "$git_token" ]; then
        creds=$(umask 077 && mktemp -d)
        trap 'rm -rf "$creds"' EXIT
        origin=$(printf '%s\n' "$REPO_URL" | sed -E 's#^(https?)://([^/@]*@)?([^/]+).*#\1://\3#')
        scheme=${origin%%://*}
        (umask 077 && printf '%s://x-access-token:%s@%s\n' "$scheme" "$git_token" "${origin#*://}" >"$creds/store")
        set -- "$@" -c "credential.helper=store --file=$creds/store"
    fi
    ;;
esac
git_token=""

git "$@" fetch --quiet --force --prune --tags origin \
    '+refs/heads/*:refs/remotes/origin/*' || die "cannot fetch $REPO_URL"
commit=""
for candidate in "refs/remotes/origin/$REF" "refs/tags/$REF"; do
    commit=$(git rev-parse -q --verify "$candidate^{commit}" 2>/dev/null) && break
    commit=""
done
if [ -z "$commit" ]; then
    git "$@" fetch --quiet origin "$REF" 2>/dev/null || true
    commit=$(git rev-parse -q --verify "$REF^{commit}" 2>/dev/null) || die "ref $REF not found in $REPO_URL"
fi
log "ref $REF is commit $commit"
printf 'commit %s\n' "$commit"
