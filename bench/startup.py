#!/usr/bin/env python3
"""Start-up measurements for bench/startup.sh (standard library only).

  startup.py time RUNS NAME=COMMAND...   alternating runs of each command, prints "NAME best median" per line (ms)
  startup.py first-sql TRACE PORT         reads an `strace -f -ttt -xx` log of one `gatekeeper migrate` and prints
                                          "to_connect_ms connect_ms to_first_sql_ms first_sql_excluding_connection_ms first_statement"
"""
import re
import shlex
import statistics
import subprocess
import sys
import time


def time_commands(runs, named):
    samples = {name: [] for name, _ in named}
    for _ in range(runs + 1):  # the first round warms the page cache and is not counted
        for name, command in named:
            start = time.perf_counter_ns()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            samples[name].append((time.perf_counter_ns() - start) / 1e6)
    for name, _ in named:
        counted = samples[name][1:]
        print(f"{name} {min(counted):.1f} {statistics.median(counted):.1f}")


LINE = re.compile(r'^(?P<pid>\d+)\s+(?P<time>\d+\.\d+)\s+(?P<call>\w+)\((?P<args>.*?)(?:\) += (?P<ret>-?\d+)|<unfinished \.\.\.>)')
RESUMED = re.compile(r'^(?P<pid>\d+)\s+(?P<time>\d+\.\d+)\s+<\.\.\. (?P<call>\w+) resumed>(?P<args>.*?)\) += (?P<ret>-?\d+)')


def first_bytes(args):
    """The first bytes of the buffer argument strace printed as \\x.. escapes."""
    match = re.search(r'"((?:\\x[0-9a-f]{2})+)', args)
    return bytes.fromhex(match.group(1).replace('\\x', '')) if match else b''


def first_sql(trace, port):
    events = []
    with open(trace, encoding='utf-8', errors='replace') as lines:
        for line in lines:
            match = LINE.match(line) or RESUMED.match(line)
            if match:
                events.append((float(match['time']), match['call'], match['args'], match['ret']))
    start = next(t for t, call, args, _ in events if call == 'execve')
    fd = None
    connect_at = ready_at = sql_at = None
    statement = ''
    for t, call, args, ret in events:
        if call == 'connect' and f'sin_port=htons({port})' in args and fd is None:
            fd = args.split(',', 1)[0]
            connect_at = t
        elif fd is not None and args.startswith(fd + ',') and ret is not None and int(ret) > 0:
            data = first_bytes(args)
            if call in ('recvfrom', 'recvmsg', 'read') and b'Z\x00\x00\x00\x05' in data and ready_at is None:
                ready_at = t  # ReadyForQuery: authentication and session start-up are over
            elif call in ('sendto', 'sendmsg', 'write') and ready_at is not None and data[:1] in (b'Q', b'P'):
                sql_at = t
                text = data[5:] if data[:1] == b'Q' else data[5:].split(b'\x00', 1)[-1]
                statement = text.split(b'\x00', 1)[0].decode('utf-8', 'replace')
                break
    if connect_at is None or ready_at is None or sql_at is None:
        raise SystemExit(f'{trace}: no connection to port {port}, ReadyForQuery or first statement found')
    to_connect = (connect_at - start) * 1000
    connecting = (ready_at - connect_at) * 1000
    to_sql = (sql_at - start) * 1000
    print(f"{to_connect:.1f} {connecting:.1f} {to_sql:.1f} {to_sql - connecting:.1f} {' '.join(statement.split())[:80]}")


if __name__ == '__main__':
    if sys.argv[1] == 'time':
        time_commands(int(sys.argv[2]), [(a.split('=', 1)[0], shlex.split(a.split('=', 1)[1])) for a in sys.argv[3:]])
    elif sys.argv[1] == 'first-sql':
        first_sql(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
