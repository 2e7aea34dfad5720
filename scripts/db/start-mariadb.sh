#!/usr/bin/env bash
# Starts (or reuses) a throwaway MariaDB on 127.0.0.1 for tests. Prints one line to eval:
#   export GATEKEEPER_TEST_MYSQL_URL=mysql://root:…@127.0.0.1:53306/mysql
# Everything else goes to stderr. Usage: eval "$(scripts/db/start-mariadb.sh)"
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
chosen="${GATEKEEPER_TEST_MYSQL_PORT:-}"
password="${GATEKEEPER_TEST_MYSQL_PASSWORD:-gatekeeper-test-pw}"
. "$root/scripts/db/data-root.sh"
# In memory when there is room (see data-root.sh), else in the repository's .tmp.
data_root="$(test_data_root "$root/.tmp")"
use_port() {
  port="$1"
  data="$data_root/gatekeeper-mariadb-$port"
  socket="$data/mysqld.sock"
  url="mysql://root:$password@127.0.0.1:$port/mysql"
}
taken() { (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; }

answers() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -uroot -p"$password" -e 'select 1' >/dev/null 2>&1; }

# The configuration docs/database-permissions.md recommends for the lock pre-flight: MariaDB's metadata_lock_info
# plugin, so a session holding a table's metadata lock is seen (INNODB_TRX alone misses it when read often). INSTALL
# SONAME is recorded in mysql.plugin and loaded at every later start; a server reused from before gets it here too.
has_lock_info() {
  mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -uroot -p"$password" -N -e \
    "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO'" 2>/dev/null | grep -qx 1
}
recommended() {
  # Another start racing this one may install it first: then it is there all the same.
  has_lock_info \
  || mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -uroot -p"$password" -e "INSTALL SONAME 'metadata_lock_info'" 2>/dev/null \
  || has_lock_info \
  || { echo "mariadb: could not install the metadata_lock_info plugin on 127.0.0.1:$port" >&2; return 1; }
}

# The default port, or the next of 20 whose listener is ours or that is free: a machine whose own MySQL (or another
# program) holds 53306 still gets a test server. A port given in GATEKEEPER_TEST_MYSQL_PORT is that port or nothing.
for candidate in ${chosen:-$(seq 53306 53326)}; do
  use_port "$candidate"
  if answers; then
    recommended
    echo "mariadb: reusing the server on 127.0.0.1:$port" >&2
    echo "export GATEKEEPER_TEST_MYSQL_URL=$url"
    exit 0
  fi
  taken || break
  echo "mariadb: another server listens on 127.0.0.1:$port and does not accept the test credentials" >&2
  if [ -n "$chosen" ] || [ "$port" = 53326 ]; then
    echo "mariadb: no port for the test server; stop that server or choose a free port with GATEKEEPER_TEST_MYSQL_PORT" >&2
    exit 1
  fi
done

command -v mariadbd >/dev/null || { echo "mariadb: mariadbd is not installed (apt-get install -y mariadb-server)" >&2; exit 1; }

fresh=0
if [ ! -d "$data/mysql" ]; then
  mkdir -p "$data"
  mariadb-install-db --no-defaults --user=root --auth-root-authentication-method=normal \
    --datadir="$data" --skip-test-db >"$data/install.log" 2>&1 \
    || { echo "mariadb: mariadb-install-db failed; see $data/install.log" >&2; exit 1; }
  fresh=1
fi
# --no-defaults must come first: the machine's my.cnf must not leak into the test server. Its own --tmpdir (beside
# the data directory: inside it, it would show as a database) keeps its temporary tables out of the shared /tmp,
# where one of them once vanished under a running CI server ("Error on delete of '/tmp/#sql-temptable-…'").
mkdir -p "$data-tmp"
nohup mariadbd --no-defaults --user=root --datadir="$data" --port="$port" --bind-address=127.0.0.1 \
  --socket="$socket" --pid-file="$data/mariadbd.pid" --log-error="$data/server.log" --tmpdir="$data-tmp" \
  --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-binlog=0 --skip-name-resolve \
  --max-connections=300 >/dev/null 2>&1 &

for _ in $(seq 1 120); do
  if [ "$fresh" = 1 ] && mariadb --no-defaults -uroot --socket="$socket" -e 'select 1' >/dev/null 2>&1; then
    mariadb --no-defaults -uroot --socket="$socket" -e \
      "ALTER USER 'root'@'localhost' IDENTIFIED BY '$password'; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$password'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
    fresh=0
  fi
  if answers; then
    recommended
    echo "mariadb: running on 127.0.0.1:$port (data $data)" >&2
    echo "export GATEKEEPER_TEST_MYSQL_URL=$url"
    exit 0
  fi
  sleep 0.5
done
echo "mariadb: did not answer on 127.0.0.1:$port within 60 s; see $data/server.log" >&2
exit 1
