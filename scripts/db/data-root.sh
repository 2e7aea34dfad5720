# Sourced by the start and stop scripts: where this machine's test database servers keep their data.
# In memory (/dev/shm) when it is writable with 2 GiB free: DDL is what the suites do most, and on disk every
# CREATE TABLE waits for file creation and syncs (200 MariaDB tables: 22 s on this machine's disk, 0.7 s in
# memory). Else the caller's directory on disk. GATEKEEPER_TEST_DATA_ROOT chooses another directory.
# The data of a server in memory is gone after a reboot; the start scripts then create it again.
test_data_root() {
  local on_disk="$1" free
  if [ -n "${GATEKEEPER_TEST_DATA_ROOT:-}" ]; then
    mkdir -p "$GATEKEEPER_TEST_DATA_ROOT" && echo "$GATEKEEPER_TEST_DATA_ROOT"
    return
  fi
  free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
  if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "${free:-0}" -ge 2097152 ]; then echo /dev/shm; else echo "$on_disk"; fi
}

# The stop scripts: the directory a server was started in, wherever the start script chose to put it.
started_data_dir() {
  local name="$1" on_disk="$2" candidate
  for candidate in "${GATEKEEPER_TEST_DATA_ROOT:-}" /dev/shm "$on_disk"; do
    [ -n "$candidate" ] && [ -e "$candidate/$name/$3" ] && { echo "$candidate/$name"; return; }
  done
  echo "$on_disk/$name"
}
