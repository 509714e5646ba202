#!/usr/bin/python3
"""soak-check.py EXPECTED RESULT_FILE: reads wsflow's NDJSON on stdin (one run), keeps count of the
run's events by seq, and writes one line to RESULT_FILE at end of input:
    lines events unique lost duplicated out_of_order extra client_lines last_type
events = lines without "origin":"client"; lost = EXPECTED - unique; duplicated = events - unique;
out_of_order = events whose seq is not above the highest seen before them; extra = events with a seq
above EXPECTED or none at all; client_lines = the
connection events wsflow adds with --connection-events. Every 50,000 lines it writes the counts so
far to RESULT_FILE.progress ("lines events"): watch that, never the pipe, which has one reader.
Used by chaos.sh and soak.sh."""
import json
import sys

expected = int(sys.argv[1])
seen = bytearray(expected + 2)
lines = events = unique = dups = ooo = client = beyond = 0
high = 0
last_type = "-"
for raw in sys.stdin.buffer:
    lines += 1
    if lines % 50000 == 0:
        with open(sys.argv[2] + ".progress", "w") as p:
            p.write("%d %d\n" % (lines, events))
    try:
        ev = json.loads(raw)
    except ValueError:
        last_type = "not-json"
        continue
    if ev.get("origin") == "client":
        client += 1
        continue
    events += 1
    last_type = ev.get("event_type", "-")
    seq = ev.get("seq")
    if not isinstance(seq, int) or seq < 1:
        beyond += 1
        continue
    if seq <= high:
        ooo += 1
    high = max(high, seq)
    if seq > expected:
        beyond += 1
        continue
    if seen[seq]:
        dups += 1
    else:
        seen[seq] = 1
        unique += 1
with open(sys.argv[2], "w") as f:
    f.write("%d %d %d %d %d %d %d %d %s\n" % (lines, events, unique, expected - unique, dups, ooo,
                                             beyond, client, last_type))
