#!/usr/bin/env bash
# The seed's familiar entry point, calling the overskill CLI (which asks the backup service):
#   backup-restore.sh backup --type full --compress --encrypt
#   backup-restore.sh list | verify --file <archive> | restore --file <archive> [--target live --force]
#   backup-restore.sh drill | prune [--dry-run]
# OVERSKILL_CLI overrides how the CLI is started (default: npx overskill from the repository root).
set -euo pipefail

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
}

command="${1:-}"
if [ -z "$command" ]; then
  usage
  exit 2
fi
shift

cli=(npx --no-install overskill)
if [ -n "${OVERSKILL_CLI:-}" ]; then
  read -r -a cli <<<"$OVERSKILL_CLI"
else
  cd "$(dirname "$0")/../.."
fi

case "$command" in
  backup) exec "${cli[@]}" backup create "$@" ;;
  list | verify | restore | drill | prune) exec "${cli[@]}" backup "$command" "$@" ;;
  -h | --help | help) usage ;;
  *)
    echo "backup-restore.sh: unknown command \"$command\"" >&2
    usage
    exit 2
    ;;
esac
