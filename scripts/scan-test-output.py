#!/usr/bin/env python3
"""Searches everything Gatekeeper produced during the test suite for the test databases' passwords.

The tests record Gatekeeper's output under $GATEKEEPER_TEST_CAPTURE_DIR (tests/Gatekeeper.Testing/OutputCapture.cs), one folder per
category: its HTTP responses, log lines, the requests it sent to the API server double (Events, Jobs, patches, status
writes), metric scrapes and CLI output. This scan fails when a category is missing or empty (so it cannot pass
vacuously) or when any secret shows up in any of it: the passwords in GATEKEEPER_TEST_POSTGRES_URL and
GATEKEEPER_TEST_MYSQL_URL and the secret values the tests plant in Kubernetes Secrets, each plain, URL-encoded and
base64-encoded (at every alignment, so a secret inside a longer base64 value is found too). A hit prints the file,
the line and its context with every secret redacted.

Usage: GATEKEEPER_TEST_CAPTURE_DIR=.tmp/capture scripts/scan-test-output.py   (exit 0 clean, 1 leak or no capture)
"""
import base64
import math
import os
import sys
import urllib.parse
from pathlib import Path

CATEGORIES = ["responses", "logs", "api-requests", "metrics", "cli-output"]

# Secret values the tests put into Kubernetes Secrets (tests/**/*.cs: PutSecret, new V1Secret) besides the real URLs.
PLANTED = {
    "planted Secret password s3cret": "s3cret",
    "planted Secret URL postgres://app:pw@db/shop": "postgres://app:pw@db/shop",
    "planted Secret URL postgresql://app:pw@db/shop": "postgresql://app:pw@db/shop",
    # tests/Gatekeeper.Testing/Databases/DocumentedCredentials.cs: the users of docs/database-permissions.md
    "documented credentials' password": "gk-documented-grant-pw",
}

URL_VARIABLES = ["GATEKEEPER_TEST_POSTGRES_URL", "GATEKEEPER_TEST_MYSQL_URL"]


def base64_fragments(secret: bytes) -> set[str]:
    """The base64 characters that depend only on the secret, for each of the three offsets it can start at."""
    fragments = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret).decode().rstrip("=")
        start = math.ceil(8 * offset / 6)
        end = (8 * (offset + len(secret))) // 6
        fragment = encoded[start:end]
        if len(fragment) >= 6:
            fragments.add(fragment)
            fragments.add(fragment.replace("+", "-").replace("/", "_"))
    return fragments


def forms(secret: str) -> dict[str, str]:
    found = {"plain": secret, "url-encoded": urllib.parse.quote(secret, safe=""), "form-encoded": urllib.parse.quote_plus(secret)}
    for i, fragment in enumerate(sorted(base64_fragments(secret.encode()))):
        found[f"base64 #{i}"] = fragment
    return found


def secrets() -> dict[str, str]:
    """Each secret value with the names it goes by (the two test servers may share one password)."""
    found: dict[str, list[str]] = {}
    for variable in URL_VARIABLES:
        url = os.environ.get(variable, "")
        password = urllib.parse.unquote(urllib.parse.urlsplit(url).password or "")
        if not password:
            sys.exit(f"secret scan: {variable} is unset or has no password, so there is nothing to scan for")
        found.setdefault(password, []).append(f"password of {variable}")
    for name, value in PLANTED.items():
        found.setdefault(value, []).append(name)
    return {value: " = ".join(names) for value, names in found.items()}


def redact(text: str, needles: list[str]) -> str:
    for needle in sorted(needles, key=len, reverse=True):
        text = text.replace(needle, "[REDACTED]")
    return text


def main() -> int:
    root = os.environ.get("GATEKEEPER_TEST_CAPTURE_DIR")
    if not root or not Path(root).is_dir():
        print(f"secret scan: FAILED, no capture directory (GATEKEEPER_TEST_CAPTURE_DIR={root!r})")
        return 1

    needles = {}
    for secret, name in secrets().items():
        for form, text in forms(secret).items():
            needles.setdefault(text, f"{name} ({form})")

    print(f"secret scan: {len(needles)} patterns from {len(secrets())} secrets in {root}")
    problems = 0
    for category in CATEGORIES:
        files = sorted(p for p in Path(root, category).glob("*") if p.is_file()) if Path(root, category).is_dir() else []
        size = sum(p.stat().st_size for p in files)
        print(f"  {category:<13} {len(files):>3} files {size:>12,} bytes")
        if size == 0:
            print(f"secret scan: FAILED, nothing was captured for {category}; the scan would pass vacuously")
            problems += 1
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            for needle, what in needles.items():
                at = text.find(needle)
                while at >= 0:
                    problems += 1
                    line = text.count("\n", 0, at) + 1
                    context = text[max(0, at - 120):at + len(needle) + 120]
                    print(f"  LEAK of {what} in {path}:{line}: ...{redact(context, list(needles))!r}...")
                    at = text.find(needle, at + 1)

    print("secret scan: " + ("passed, no secret found" if problems == 0 else f"FAILED, {problems} problems"))
    return 0 if problems == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
