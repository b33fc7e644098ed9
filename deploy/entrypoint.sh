#!/bin/sh
# The image's entrypoint: `stepscope` with the container's arguments (`collect --lake s3://...`,
# `export-audit ...`, `sla ...`); `serve` when there are none or they start with an option.
#
# serve  listens on 0.0.0.0:$STEPSCOPE_PORT (default 8501) inside the container: `stepscope serve` alone
#        binds 127.0.0.1. It reads the lake at $STEPSCOPE_LAKE; without one it serves the simulated
#        demo at $STEPSCOPE_DEMO_LAKE (default /data/demo-lake), built there on first start.
#        A lake of real data needs sign-in: the [auth] secrets at /app/.streamlit/secrets.toml (or
#        `serve --secrets FILE`) and the access rules (/app/access.yaml, or $STEPSCOPE_ACCESS); without
#        them it is refused unless STEPSCOPE_ALLOW_ANONYMOUS=1 lets anyone reaching the port see it all.
# health the image's HEALTHCHECK: the dashboard answers, in a container that serves it; a job
#        container (collect, export-audit) is healthy while it runs.
set -eu

serving="${STEPSCOPE_STATE_DIR:-/tmp}/stepscope-serve.port"

serve() {
    port="${STEPSCOPE_PORT:-8501}"
    if [ -z "${STEPSCOPE_LAKE:-}" ]; then
        STEPSCOPE_LAKE="${STEPSCOPE_DEMO_LAKE:-/data/demo-lake}"
        [ -f "$STEPSCOPE_LAKE/_stepscope.json" ] || stepscope demo --lake "$STEPSCOPE_LAKE"
    fi
    echo "$port" >"$serving"
    exec stepscope serve --lake "$STEPSCOPE_LAKE" --address 0.0.0.0 --port "$port" "$@"
}

health() {
    [ -f "$serving" ] || exit 0
    exec python -c '
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{int(sys.argv[1])}/_stcore/health", timeout=5) as r:
        sys.exit(0 if r.status == 200 else f"dashboard answered HTTP {r.status}")
except OSError as e:
    sys.exit(f"dashboard not answering on port {sys.argv[1]}: {e}")
' "$(cat "$serving")"
}

if [ "$#" -eq 0 ]; then
    set -- serve
fi
case "$1" in
-*) serve "$@" ;;
serve)
    shift
    serve "$@"
    ;;
health) health ;;
*) exec stepscope "$@" ;;
esac
