#!/bin/sh
# Renders alertmanager.yml with the webhook URLs from the environment, then starts
# Alertmanager. Used by docker-compose.prod.yml (entrypoint) and checked by
# deploy/local/check-deploy.mjs with ALERTMANAGER_BIN=true.
#   ALERTMANAGER_WEBHOOK_URL            receiver for warnings (required)
#   ALERTMANAGER_CRITICAL_WEBHOOK_URL   receiver for critical alerts (default: the above)
set -eu

in="${ALERTMANAGER_CONFIG_IN:-/etc/alertmanager/alertmanager.yml}"
out="${ALERTMANAGER_CONFIG_OUT:-/tmp/alertmanager.yml}"
warning_url="${ALERTMANAGER_WEBHOOK_URL:-}"
critical_url="${ALERTMANAGER_CRITICAL_WEBHOOK_URL:-$warning_url}"

case "$warning_url" in
  http://*|https://*) ;;
  *) echo "alertmanager entrypoint: ALERTMANAGER_WEBHOOK_URL must be an http(s) URL" >&2; exit 64 ;;
esac
case "$critical_url" in
  http://*|https://*) ;;
  *) echo "alertmanager entrypoint: ALERTMANAGER_CRITICAL_WEBHOOK_URL must be an http(s) URL" >&2; exit 64 ;;
esac

# Escape the sed replacement's special characters (& \ and the | delimiter).
escape() { printf '%s' "$1" | sed 's/[&|\\]/\\&/g'; }

sed -e "s|http://alertmanager-webhook.invalid/ALERTMANAGER_CRITICAL_WEBHOOK_URL|$(escape "$critical_url")|" \
    -e "s|http://alertmanager-webhook.invalid/ALERTMANAGER_WEBHOOK_URL|$(escape "$warning_url")|" \
    "$in" > "$out"

if grep -q 'alertmanager-webhook.invalid' "$out"; then
  echo "alertmanager entrypoint: a webhook placeholder was left in $out" >&2
  exit 65
fi

exec "${ALERTMANAGER_BIN:-/bin/alertmanager}" --config.file="$out" "$@"
