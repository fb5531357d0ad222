#!/usr/bin/env bash
# Copies a utmd data directory to a new directory, while utmd runs or not:
# the store's newest snapshot, then the log of the same generation, then the
# signing key and the audit log. The copy is what a crash at the moment the
# log copy ended would leave: a prefix of the acknowledged writes, every
# write acknowledged before the backup began included (a write is
# acknowledged only once it is in the log). The clean-stop marker is never
# copied, so a log still being written is read as after a crash and its last
# record, if cut by the copy, is dropped. If utmd starts a new generation
# during the copy, the copy starts again. docs/operations.md has the
# procedure around it.
#
# Usage: utmd-backup.sh DATA_DIR DEST_DIR   (DEST_DIR must not exist)
set -u
src=${1:?usage: utmd-backup.sh DATA_DIR DEST_DIR}
dest=${2:?usage: utmd-backup.sh DATA_DIR DEST_DIR}
die() { echo "utmd-backup: $*" >&2; exit 1; }

[[ -d "$src/store" ]] || die "$src/store: not a utmd data directory with an embedded store"
[[ -e "$dest" ]] && die "$dest exists; give a new directory"
mkdir -p "$dest/store" || die "cannot create $dest/store"
chmod 700 "$dest"

copied=""
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  rm -f "$dest"/store/*
  # The newest snapshot names the generation (none yet: generation 0).
  snapshot=$(cd "$src/store" && ls snapshot-* 2>/dev/null | grep -v '\.tmp$' | sort | tail -n 1)
  if [[ -n "$snapshot" ]]; then
    log="log-${snapshot#snapshot-}"
    cp -p "$src/store/$snapshot" "$dest/store/" 2>/dev/null || { sleep 0.2; continue; }
  else
    log=$(cd "$src/store" && ls log-* 2>/dev/null | sort | tail -n 1)
    [[ -n "$log" ]] || die "$src/store holds neither a snapshot nor a log"
  fi
  # Appended to while we read: the copy is a prefix of it.
  cp -p "$src/store/$log" "$dest/store/" 2>/dev/null || { sleep 0.2; continue; }
  copied="$snapshot $log"
  break
done
[[ -n "$copied" ]] || die "the store kept starting new generations; try again"
for f in dev-signing-key audit.log; do
  if [[ -e "$src/$f" ]]; then cp -p "$src/$f" "$dest/$f" || die "cannot copy $src/$f"; fi
done
sync -f "$dest/store" 2>/dev/null || sync
echo "utmd-backup: copied${copied} and the keys of $src to $dest"
