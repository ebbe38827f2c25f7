# install_file.sh: write stdin to $TARGET atomically with mode $MODE (secrets never touch argv).
mkdir -p "$STATE"
chmod 700 "$STATE"
mkdir -p "$(dirname "$TARGET")"
tmp="$TARGET.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(umask 077 && cat >"$tmp")
chmod "$MODE" "$tmp"
mv -f "$tmp" "$TARGET"
trap - EXIT
log "wrote $TARGET (mode $MODE)"
