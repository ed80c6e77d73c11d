#!/usr/bin/env bash
# PostgreSQL archive_command: every finished WAL segment (and history/backup-label file) copied
# into the WAL archive compressed with zstd and, given age recipients, encrypted to all of them,
# like every other backup archive. Set on the database server:
#   archive_mode = on
#   archive_timeout = 60
#   archive_command = '/opt/overskill/deploy/scripts/wal-archive.sh %p %f /backups/wal age1online… age1recovery…'
# Usage: wal-archive.sh <path> <file name> <archive dir> [age recipient…] (recipients may also be one comma list)
# Writes <dir>/<name>.zst[.age] and <dir>/<name>.zst[.age].sha256 ("sha256  file" of the stored
# bytes, then "# wal-sha256 <sha>" of the segment itself). Exit 0 only once both are durable.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: wal-archive.sh <path> <file name> <archive dir> [age recipient…]" >&2
  exit 2
fi
# PostgreSQL runs with umask 077; the backup service may be another user (compose: uid 1000 vs
# postgres' 999) and must read the segments, which are ciphertext when recipients are given.
umask 022
src=$1 name=$2 dir=$3
shift 3
case "$name" in
  */* | .* | '') echo "wal-archive: refusing file name \"$name\"" >&2; exit 2 ;;
esac
ext=.zst
recipients=()
for arg in "$@"; do
  IFS=, read -ra keys <<< "$arg"
  for key in "${keys[@]}"; do if [ -n "$key" ]; then recipients+=(-r "$key"); fi; done
done
if [ ${#recipients[@]} -gt 0 ]; then ext=.zst.age; fi
out="$dir/$name$ext"
mkdir -p "$dir"
plain=$(sha256sum < "$src" | cut -c1-64)
if [ -e "$out" ] && [ -e "$out.sha256" ]; then
  # PostgreSQL retries a segment whose success it did not see: the same content is success,
  # different content under the same name (another cluster writing here) is refused.
  if grep -qx "# wal-sha256 $plain" "$out.sha256"; then exit 0; fi
  echo "wal-archive: $out already exists with different content; is a second cluster archiving into $dir?" >&2
  exit 1
fi
tmp="$out.partial"
trap 'rm -f "$tmp" "$tmp.sha256"' EXIT
if [ ${#recipients[@]} -gt 0 ]; then
  zstd -q -c -3 < "$src" | age "${recipients[@]}" > "$tmp"
else
  zstd -q -c -3 < "$src" > "$tmp"
fi
stored=$(sha256sum < "$tmp" | cut -c1-64)
printf '%s  %s\n# wal-sha256 %s\n' "$stored" "$name$ext" "$plain" > "$tmp.sha256"
sync "$tmp" "$tmp.sha256"
mv -f "$tmp" "$out"
mv -f "$tmp.sha256" "$out.sha256"
sync "$dir"
trap - EXIT
