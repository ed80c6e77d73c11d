#!/bin/sh
# Container entrypoint for every overskill service image (runs under tini).
#   serve                  run dist/services/$SERVICE/src/main.js (default)
#   migrate up|down [svc…] run dist/services/<svc>/src/migrate.js for each schema owner
#   warm                   (image build) fill the compile cache with every service's modules
#   anything else          exec'd as given (e.g. `npx overskill status`, `sh`)
set -eu

fail() {
  echo "entrypoint: $*" >&2
  exit 64
}

cmd="${1:-serve}"
case "$cmd" in
  serve)
    [ -n "${SERVICE:-}" ] || fail "SERVICE is not set (gateway, orchestrator, ai-router, tool-runner, git-service, analytics, backup)"
    main="dist/services/${SERVICE}/src/main.js"
    [ -f "$main" ] || fail "no build output at $main: unknown SERVICE '${SERVICE}'?"
    # Word splitting of the flags is wanted: one flag per line of the file, comments dropped.
    # shellcheck disable=SC2046
    exec node $(grep -v '^#' "$(dirname "$0")/node-flags") "$main"
    ;;
  migrate)
    shift
    direction="${1:-up}"
    case "$direction" in up|down) ;; *) fail "migrate expects up or down, got '$direction'" ;; esac
    [ $# -gt 0 ] && shift
    # Schema owners per docs/conventions.md; each schema is independent of the others.
    services="${*:-${MIGRATE_SERVICES:-gateway orchestrator analytics backup}}"
    for svc in $services; do
      script="dist/services/${svc}/src/migrate.js"
      [ -f "$script" ] || fail "no migrations at $script"
      echo "entrypoint: migrate ${direction} ${svc}"
      node "$script" "$direction" || fail "migrate ${direction} ${svc} failed"
    done
    echo "entrypoint: migrations ${direction} done for: ${services}"
    ;;
  warm)
    # Each service loads its modules with the flags it runs with, writes their compile cache
    # (libs/runtime, OVERSKILL_COMPILE_CACHE_DIR) and exits before booting.
    for main in dist/services/*/src/main.js; do
      # shellcheck disable=SC2046
      OVERSKILL_COMPILE_CACHE_WARM=1 node $(grep -v '^#' "$(dirname "$0")/node-flags") "$main" || fail "compile cache warm-up of ${main} failed"
    done
    ;;
  *)
    exec "$@"
    ;;
esac
