# Stages of .ci/run: `stage "<name>" <command> [args…]` and, however the script ends, a table of
# each stage's duration naming the one that failed, after the caller's `cleanup` (if defined).
# The script exits with the failing command's status. Sourced by .ci/run (which sets -euo
# pipefail); test/ci-stages.test.ts checks the exit status and the table.

stage_names=()
stage_seconds=()
current_stage=""
current_started=""
run_started=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# stage "<name>" <command> [args…]: prints "== <name>", runs the command, records its duration.
# A failing command ends the run (set -e) and the table below names the stage it failed in.
# A stage is added with one line at the end of .ci/run.
stage() {
  current_stage=$1
  current_started=$(date +%s.%N)
  shift
  echo "== $current_stage"
  "$@"
  stage_names+=("$current_stage")
  stage_seconds+=("$(since "$current_started")")
  current_stage=""
}

# The table of stage durations, printed however the run ends.
durations() {
  local rc=$1 i
  echo "== stage durations (s)"
  for i in "${!stage_names[@]}"; do printf '   %-18s %7s\n' "${stage_names[$i]}" "${stage_seconds[$i]}"; done
  [ -n "$current_stage" ] && printf '   %-18s %7s  FAILED (exit %s)\n' "$current_stage" "$(since "$current_started")" "$rc"
  printf '   %-18s %7s\n' total "$(since "$run_started")"
  exit "$rc"
}
# The exit status is taken first: cleanup's own must not become the run's.
trap 'rc=$?; if declare -F cleanup >/dev/null; then cleanup || true; fi; durations "$rc"' EXIT
