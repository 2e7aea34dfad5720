#!/usr/bin/env bash
# Starts (or reuses) a throwaway MariaDB on 127.0.0.1 for Gatekeeper's tests and prints the one line
#   export GATEKEEPER_TEST_MYSQL_URL=mysql://root:PASSWORD@127.0.0.1:PORT/mysql
# so a caller can `eval "$(scripts/db/start-mariadb.sh)"`. Everything else goes to stderr.
#
# Idempotent: when a server already answers on the port it is reused; the printed URL carries the test
# password, or no password when that server's root has none (a server someone else started).
# Data lives in <repo>/.tmp/mariadb-PORT (gitignored); durability is off because the data is disposable.
# Environment: GATEKEEPER_MYSQL_PORT (53306), GATEKEEPER_MYSQL_PASSWORD.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
port="${GATEKEEPER_MYSQL_PORT:-53306}"
password="${GATEKEEPER_MYSQL_PASSWORD:-gatekeeper-test-pw}"
root="$repo/.tmp/mariadb-$port"
data="$root/data"
socket="$root/mariadbd.sock"

say() { echo "start-mariadb: $*" >&2; }

for tool in mariadbd mariadb-install-db mariadb mariadb-admin; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { say "$tool is missing (apt-get install -y mariadb-server)"; exit 1; }
done
mariadbd_bin="$(command -v mariadbd || echo /usr/sbin/mariadbd)"


# Prints "yes" when root logs in over TCP with the given password ("" = none).
logs_in() {
  mariadb --no-defaults -h 127.0.0.1 -P "$port" --protocol=tcp --connect-timeout=3 -u root ${1:+-p"$1"} -N -e 'select 1' >/dev/null 2>&1
}

print_url() {
  if [ -n "$1" ]; then
    echo "export GATEKEEPER_TEST_MYSQL_URL=mysql://root:${1}@127.0.0.1:${port}/mysql"
  else
    echo "export GATEKEEPER_TEST_MYSQL_URL=mysql://root@127.0.0.1:${port}/mysql"
  fi
}

reuse_if_answering() {
  if logs_in "$password"; then
    say "reusing the MariaDB server already answering on 127.0.0.1:$port"
    print_url "$password"
    exit 0
  fi
  if logs_in ""; then
    say "reusing the MariaDB server already answering on 127.0.0.1:$port (its root has no password)"
    print_url ""
    exit 0
  fi
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

mkdir -p "$root"
exec 9>"$root.lock"
flock -w 60 9 || { say "timed out waiting for $root.lock"; exit 1; }

if listening; then
  reuse_if_answering
  say "a server answers on 127.0.0.1:$port but refuses root with and without the test password; stop it or set GATEKEEPER_MYSQL_PORT"
  exit 1
fi

fresh=0
if [ ! -d "$data/mysql" ]; then
  say "initialising $data"
  rm -rf "$data"
  mariadb-install-db --no-defaults --user="$(id -un)" --auth-root-authentication-method=normal \
    --datadir="$data" --skip-test-db >"$root/install.log" 2>&1 \
    || { say "mariadb-install-db failed; see $root/install.log"; exit 1; }
  fresh=1
fi

say "starting MariaDB on 127.0.0.1:$port (data $data)"
# setsid + nohup: the server must outlive this script and the shell that eval'd it; 9>&- keeps it from
# inheriting (and so holding forever) the start lock.
setsid nohup "$mariadbd_bin" --no-defaults --user="$(id -un)" --datadir="$data" --port="$port" \
  --bind-address=127.0.0.1 --socket="$socket" --pid-file="$root/mariadbd.pid" \
  --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-binlog=0 --skip-log-bin \
  --innodb-buffer-pool-size=128M --max-connections=400 --character-set-server=utf8mb4 \
  --collation-server=utf8mb4_general_ci \
  >"$root/server.log" 2>&1 </dev/null 9>&- &

for _ in $(seq 1 300); do
  if mariadb-admin --no-defaults --socket="$socket" -u root ${password:+-p"$password"} ping >/dev/null 2>&1 \
     || mariadb-admin --no-defaults --socket="$socket" -u root ping >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done

if [ "$fresh" -eq 1 ] || logs_in ""; then
  # Give root a password on both the socket and TCP accounts, so URLs carry credentials and a wrong one fails.
  mariadb --no-defaults --socket="$socket" -u root -e "
    ALTER USER 'root'@'localhost' IDENTIFIED BY '${password}';
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '${password}';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    FLUSH PRIVILEGES;" >&2 || { say "could not set the root password; see $root/server.log"; exit 1; }
fi

if logs_in "$password"; then
  print_url "$password"
  exit 0
fi
say "the server did not come up on 127.0.0.1:$port with the test credentials; see $root/server.log"
exit 1
