# shellcheck shell=bash
# Sourced by the bench scripts: how a run's results reach bench/results/<name>-<date>.md.
# write_results FILE reads the run's document (a "# Title" line, then the body) from stdin. The first run of a day
# writes the file; a later run of the same day is appended as its own "## Title, run of HH:MM UTC" section, so the
# day's earlier runs (and the sections people added by hand between them) are never erased.
write_results() {
  local file="$1" document
  document="$(cat)"
  if [[ ! -s "$file" ]]; then
    printf '%s\n' "$document" >"$file"
    return
  fi
  local title="${document%%$'\n'*}" body=""
  [[ "$document" == *$'\n'* ]] && body="${document#*$'\n'}"
  printf '\n#%s, run of %s UTC\n%s\n' "$title" "$(date -u +%H:%M)" "$body" >>"$file"
}
