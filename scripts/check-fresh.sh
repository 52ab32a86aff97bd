#!/usr/bin/env bash
# `make check-fresh [FROM=worktree]`: the README's two commands, `make run` then
# `make test`, in a clean copy of this checkout and a clean environment, each
# timed. Clean: no .venv, no build outputs (C, npm, Rust), a fresh reports/;
# the environment is PATH, HOME (cargo's, npm's and pip's download caches are
# reused, as they would be on a developer's machine) and CI when set.
# FROM=head (default) clones the committed HEAD; FROM=worktree copies what git
# would commit from the working tree (tracked and untracked, not ignored).
set -eu
from=${1:-head}
src=$(git rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/sframe-check-fresh.XXXXXX")
clone=$work/sframe-conformance
case $from in
    head) git clone --quiet --no-local "$src" "$clone" ;;
    worktree)
        mkdir -p "$clone"
        (cd "$src" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done \
            | tar --null --no-recursion -T - -cf -) | tar -xf - -C "$clone"
        # A repository of its own, as a clone would be (the tests list its files with git).
        (cd "$clone" && git init --quiet && git add --all)
        ;;
    *) echo "check-fresh: FROM must be head or worktree, not $from" >&2; exit 2 ;;
esac
echo "check-fresh: $from in $clone (logs: $work/*.log)"

status=0
for target in run test; do
    start=$(date +%s)
    rc=0
    (cd "$clone" && env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 ${CI:+CI=$CI} make "$target") \
        >"$work/$target.log" 2>&1 || rc=$?
    seconds=$(($(date +%s) - start))
    printf 'check-fresh: make %s: exit %s in %dm%02ds; last lines:\n' "$target" "$rc" $((seconds / 60)) $((seconds % 60))
    tail -n 4 "$work/$target.log" | sed 's/^/    /'
    [ "$rc" -eq 0 ] || status=1
done
if [ "$status" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "check-fresh: kept $work"; fi
exit "$status"
