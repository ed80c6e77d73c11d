#!/usr/bin/env bash
# PostgreSQL archive_command: every finished WAL segment (and history/backup-label file) copied
# into the WAL archive compressed with zstd and, given age recipients, encrypted to all of them,
# like every other backup archive. Set on the database server:
#   archive_mode = on
#   archive_timeout = 60
#   archive_command = '/opt/overskill/deploy/scripts/wal-archive.sh %p %f /backups/wal,/backups-copy/wal age1online… age1recovery…'
# Usage: wal-archive.sh <path> <file name> <archive dir>[,<copy dir>] [age recipient…] (recipients may also be one comma list)
# The archive dir may be a comma list of directories (put the second on another disk): each gets
# <dir>/<name>.zst[.age] and <dir>/<name>.zst[.age].sha256 ("sha256  file" of the stored bytes,
# then "# wal-sha256 <sha>" of the segment itself). Exit 0 only once every copy is durable.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: wal-archive.sh <path> <file name> <archive dir>[,<copy dir>] [age recipient…]" >&2
  exit 2
fi
# PostgreSQL runs with umask 077; the backup service may be another user (compose: uid 1000 vs
# postgres' 999) and must read the segments, which are ciphertext when recipients are given.
umask 022
src=$1 name=$2
IFS=, read -ra dirs <<< "$3"
shift 3
case "$name" in
  */* | .* | '') echo "wal-archive: refusing file name \"$name\"" >&2; exit 2 ;;
esac
if [ ${#dirs[@]} -eq 0 ]; then echo "wal-archive: no archive directory given" >&2; exit 2; fi
for ((i = 0; i < ${#dirs[@]}; i++)); do
  if [ -z "${dirs[i]}" ]; then echo "wal-archive: empty archive directory in \"${dirs[*]}\"" >&2; exit 2; fi
  for ((j = 0; j < i; j++)); do
    if [ "${dirs[i]}" = "${dirs[j]}" ]; then echo "wal-archive: ${dirs[i]} is named twice: a second copy must be another directory" >&2; exit 2; fi
  done
done
ext=.zst
recipients=()
for arg in "$@"; do
  IFS=, read -ra keys <<< "$arg"
  for key in "${keys[@]}"; do if [ -n "$key" ]; then recipients+=(-r "$key"); fi; done
done
if [ ${#recipients[@]} -gt 0 ]; then ext=.zst.age; fi
plain=$(sha256sum < "$src" | cut -c1-64)
temps=()
trap 'rm -f "${temps[@]}"' EXIT
# The first copy written this run; the others are byte copies of it, checked against its sha256.
made='' made_sha=''
for dir in "${dirs[@]}"; do
  out="$dir/$name$ext"
  mkdir -p "$dir"
  if [ -e "$out" ] && [ -e "$out.sha256" ]; then
    # PostgreSQL retries a segment whose success it did not see: the same content is success
    # (in this directory; the others are still written), different content under the same name
    # (another cluster writing here) is refused.
    if grep -qx "# wal-sha256 $plain" "$out.sha256"; then continue; fi
    echo "wal-archive: $out already exists with different content; is a second cluster archiving into $dir?" >&2
    exit 1
  fi
  tmp="$out.partial"
  temps+=("$tmp" "$tmp.sha256")
  if [ -n "$made" ]; then
    cp "$made" "$tmp"
  elif [ ${#recipients[@]} -gt 0 ]; then
    zstd -q -c -3 < "$src" | age "${recipients[@]}" > "$tmp"
  else
    zstd -q -c -3 < "$src" > "$tmp"
  fi
  stored=$(sha256sum < "$tmp" | cut -c1-64)
  if [ -n "$made" ] && [ "$stored" != "$made_sha" ]; then
    echo "wal-archive: the copy of $name in $dir does not match the one in $(dirname "$made")" >&2
    exit 1
  fi
  printf '%s  %s\n# wal-sha256 %s\n' "$stored" "$name$ext" "$plain" > "$tmp.sha256"
  sync "$tmp" "$tmp.sha256"
  mv -f "$tmp" "$out"
  mv -f "$tmp.sha256" "$out.sha256"
  sync "$dir"
  made=$out made_sha=$stored
done
trap - EXIT
