#!/usr/bin/python3
"""Delays between connection events in wsflow's NDJSON (--connection-events), in ms, one a line:
  conn-times.py OUT TYPE MARKS  for each time in the file MARKS (unix ms, one a line), the delay from
                                it to the first client-made event of TYPE ("disconnected",
                                "reconnected") stamped at or after it; "-" when there is none
  conn-times.py OUT gaps        for each first `disconnected` of a series, the delay to the next
                                `reconnected` (loss noticed -> subscribed again)
Both clocks are this machine's: MARKS from `date +%s%3N`, the events from wsflow's timestamps (ms)."""
import calendar
import json
import sys
import time


def ms(ts):
    t = time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
    frac = ts[19:].rstrip("Z")
    return calendar.timegm(t) * 1000 + (int(round(float(frac) * 1000)) if frac.startswith(".") else 0)


out, kind = sys.argv[1], sys.argv[2]
events = []
with open(out, "rb") as f:
    for line in f:
        if b'"origin":"client"' in line:
            ev = json.loads(line)
            events.append((ev.get("event_type"), ms(ev["timestamp"])))
if kind == "gaps":
    lost = None
    for t, at in events:
        if t == "disconnected" and lost is None:
            lost = at
        elif t == "reconnected" and lost is not None:
            print(at - lost)
            lost = None
    sys.exit(0)
stamps = [at for t, at in events if t == kind]
for mark in (int(x) for x in open(sys.argv[3]).read().split()):
    after = [s for s in stamps if s >= mark]
    print(after[0] - mark if after else "-")
