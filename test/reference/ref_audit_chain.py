#!/usr/bin/env python3
"""Independent check of the ThreatLens audit chain (test/audit-chain.test.ts runs it).

Reads the JSON-lines export (GET /v1/audit/export, `threatlens audit export`) on stdin and
recomputes every hash from the published definition, with nothing from ThreatLens's code:

    hash = sha256(prevHash + "\\n" + canonical_json(content)), hex
    content = {at, actor, agency, role, action, details, purpose, outcome}
    canonical_json: keys sorted, no spaces, non-ASCII as is, strings escaped as JSON.stringify
                    does, numbers written as ECMAScript writes them (as RFC 8785, JCS)
    the first entry's prevHash is 64 zeros; each later one's is the hash of the entry before

Prints one JSON object: entries, ok, and the ids whose hash or link does not check.
"""
import hashlib
import json
import sys
from decimal import Decimal

GENESIS = "0" * 64


def es_number(x):
    """A float as ECMAScript's Number::toString writes it (Python's repr switches to exponents sooner)."""
    if x == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(x)).as_tuple()
    s = "".join(map(str, digits)).rstrip("0") or "0"
    exponent += len(digits) - len(s)
    k = len(s)
    n = exponent + k  # the decimal point sits after n digits
    out = ""
    if k <= n <= 21:
        out = s + "0" * (n - k)
    elif 0 < n <= 21:
        out = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + s
    else:
        e = n - 1
        out = (s if k == 1 else s[0] + "." + s[1:]) + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return ("-" if sign else "") + out


def canonical(value):
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**21 else es_number(float(value))
    if isinstance(value, float):
        return es_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k]) for k in sorted(value)) + "}"


def main():
    previous = GENESIS
    bad_hash, bad_link, count = [], [], 0
    for line in sys.stdin:
        if not line.strip():
            continue
        e = json.loads(line)
        count += 1
        content = {k: e[k] for k in ("at", "actor", "agency", "role", "action", "details", "purpose", "outcome")}
        digest = hashlib.sha256((e["prevHash"] + "\n" + canonical(content)).encode("utf-8")).hexdigest()
        if digest != e["hash"]:
            bad_hash.append(e["id"])
        if e["prevHash"] != previous:
            bad_link.append(e["id"])
        previous = e["hash"]
    print(json.dumps({"entries": count, "ok": not bad_hash and not bad_link, "badHash": bad_hash, "badLink": bad_link, "head": previous if count else None}))


if __name__ == "__main__":
    main()
