#!/usr/bin/env python3
"""The floor of a migration apply: the least any client can do to run a corpus's SQL.

Used by bench/apply-vs-dbmate.sh as a third tool in the same runs. It reads dbmate's layout of the corpus (the same
files, order and transaction choice dbmate gets) and sends each file's up text as ONE simple-query message on ONE
session: on PostgreSQL wrapped in BEGIN/COMMIT when dbmate runs the file in a transaction; on MySQL/MariaDB as one
multi-statement query. No history table, no lock, no parsing, no check of what was applied. A runner that records
what it applied can only be slower than this; so if the floor itself is not under 0.9x dbmate on a corpus, no
runner can be.

It prints the milliseconds from just before connecting to the end (the interpreter's own start-up is left out, so
the floor is, if anything, too low), then the connection's share: "TOTAL_MS CONNECT_MS".
Usage: apply-floor.py postgres|mysql HOST PORT DATABASE DBMATE_DIR   (password in GATEKEEPER_FLOOR_PASSWORD)
Needs psycopg2 (Debian python3-psycopg2) or MySQLdb (python3-mysqldb).
"""
import os
import sys
import time


def up_texts(directory):
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            up = f.read().split("-- migrate:down", 1)[0]
        header, _, sql = up.partition("\n")
        yield "transaction:false" not in header, sql


def main():
    engine, host, port, database, directory = sys.argv[1:6]
    password = os.environ.get("GATEKEEPER_FLOOR_PASSWORD", "")
    files = list(up_texts(directory))
    started = time.perf_counter()
    if engine == "postgres":
        import psycopg2
        connection = psycopg2.connect(host=host, port=int(port), user="postgres", password=password, dbname=database, sslmode="disable")
        connection.autocommit = True
        connected = time.perf_counter()
        cursor = connection.cursor()
        for in_transaction, sql in files:
            # No parameters, so psycopg2 sends the text as it is: one Query message, one round trip.
            cursor.execute("BEGIN;\n" + sql + "\n;COMMIT;" if in_transaction else sql)
    else:
        import MySQLdb
        from MySQLdb.constants import CLIENT
        connection = MySQLdb.connect(host=host, port=int(port), user="root", passwd=password, db=database,
                                     client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
        connected = time.perf_counter()
        cursor = connection.cursor()
        for _, sql in files:
            cursor.execute(sql)
            while cursor.nextset():
                pass
    connection.close()
    finished = time.perf_counter()
    print(f"{(finished - started) * 1000:.0f} {(connected - started) * 1000:.0f}")


if __name__ == "__main__":
    main()
