# teardown_arm.sh: nothing to do on `pulumi up`; records what `pulumi destroy` will do.
mkdir -p "$STATE"
chmod 700 "$STATE"
printf '%s\n' "$PURGE" >"$STATE/purge-on-destroy"
if [ "$PURGE" = true ]; then
    printf 'destroy will remove %s, its containers and volumes\n' "$PROJECT"
else
    printf 'destroy will stop %s and keep its volumes\n' "$PROJECT"
fi
