#!/usr/bin/env bash
# Writes the locks of the project's own environments: requirements/<name>.txt from
# requirements/<name>.in, every transitive dependency with its exact version and hashes (uv pip
# compile --generate-hashes), resolved for every platform (--universal) on the Python the project
# runs. A pin already in a lock stays while its input allows it; LOCK_ARGS=--upgrade takes the
# newest versions instead.
#
#   tools/lock.sh           refresh the locks
#   tools/lock.sh --check   fail when a lock no longer matches its input (nothing is written)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../requirements"

uv="${UV:-uv}"
python_version="${LOCK_PYTHON_VERSION:-3.11}"
check=false
[ "${1:-}" = "--check" ] && check=true

# In dependency order: a lock is the constraint of the ones after it (dev.in reads runtime.txt).
locks=(runtime dev bench mlflow mlflow-previous minimum)

# Further options of uv pip compile, e.g. LOCK_ARGS=--upgrade.
read -r -a extra_args <<<"${LOCK_ARGS:-}"

compile() {  # compile <name> <output>
  local name="$1" output="$2" resolution=highest
  # The minimum set is the low end of each declared range.
  [ "$name" = minimum ] && resolution=lowest-direct
  "$uv" pip compile "$name.in" --output-file "$output" --generate-hashes --universal \
    --python-version "$python_version" --resolution "$resolution" \
    --custom-compile-command "make lock" --quiet --no-progress "${extra_args[@]}"
}

stale=()
for name in "${locks[@]}"; do
  if ! $check; then
    compile "$name" "$name.txt"
    continue
  fi
  scratch="$(mktemp)"
  cp "$name.txt" "$scratch" 2>/dev/null || : >"$scratch"
  compile "$name" "$scratch"
  cmp -s "$scratch" "$name.txt" || { diff -u "$name.txt" "$scratch" | head -40 >&2 || true; stale+=("$name"); }
  rm -f "$scratch"
done
if [ "${#stale[@]}" -gt 0 ]; then
  for name in "${stale[@]}"; do
    echo "requirements/$name.txt no longer matches requirements/$name.in: run \`make lock\` and commit the result" >&2
  done
  exit 1
fi
