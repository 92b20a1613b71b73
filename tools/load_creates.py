#!/usr/bin/env python3
"""Durable ticket creates against a running deskd: one client, then 64
concurrent clients, in the same run. Prints throughput, how many commits the
writer made (from /metrics) and their ratio — what group commit buys.

Usage: tools/load_creates.py HOST:PORT   (the server needs the demo accounts
and DESK_LIMITS__API_PER_MINUTE=0). Standard library only.
"""
import http.client
import json
import re
import sys
import threading
import time
import urllib.request

host, port = sys.argv[1].split(":")


def connect():
    return http.client.HTTPConnection(host, int(port), timeout=30)


def login():
    c = connect()
    body = json.dumps({"email": "alice@example.com", "password": "alice123"})
    c.request("POST", "/api/v1/auth/login", body, {"content-type": "application/json"})
    return json.loads(c.getresponse().read())["access_token"]


def batches():
    text = urllib.request.urlopen(f"http://{host}:{port}/metrics").read().decode()
    total = float(re.search(r"^desk_store_write_batch_size_sum (\S+)", text, re.M).group(1))
    count = float(re.search(r"^desk_store_write_batch_size_count (\S+)", text, re.M).group(1))
    return total, count


def worker(token, n, errors):
    c = connect()
    headers = {"content-type": "application/json", "authorization": "Bearer " + token}
    for i in range(n):
        c.request("POST", "/api/v1/tickets", json.dumps({"subject": f"load {i}"}), headers)
        r = c.getresponse()
        r.read()
        if r.status != 201:
            errors.append(r.status)


def run(token, clients, each):
    s0, n0 = batches()
    errors = []
    threads = [threading.Thread(target=worker, args=(token, each, errors)) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    s1, n1 = batches()
    total = clients * each
    print(f"{clients:3d} clients: {total} creates in {elapsed:.2f}s = {total / elapsed:6.0f}/s; "
          f"{n1 - n0:.0f} commits, mean group {(s1 - s0) / (n1 - n0):.1f}; errors {len(errors)}")
    return total / elapsed


token = login()
sequential = run(token, 1, 400)
concurrent = run(token, 64, 25)
print(f"64 concurrent / 1 sequential: {concurrent / sequential:.1f}x")
