"""Times POST /v1/embeddings/NAME/vectors with BATCH random ids over one keep-alive connection.
usage: python http_batch.py PORT NAME COUNT [BATCH=1000] [CALLS=50]; prints JSON (milliseconds)."""
import http.client, json, sys, time
import numpy as np

port, name, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
calls = int(sys.argv[5]) if len(sys.argv) > 5 else 50
rng = np.random.default_rng(1)
conn = http.client.HTTPConnection("127.0.0.1", port)
times = []
for i in range(calls + 3):
    ids = [str(x) for x in rng.choice(count, batch, replace=False)]
    body = json.dumps({"ids": ids})
    t0 = time.perf_counter()
    conn.request("POST", f"/v1/embeddings/{name}/vectors", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    dt = (time.perf_counter() - t0) * 1000
    js = json.loads(data)
    assert resp.status == 200 and len(js["vectors"]) == batch and not js["missing"], data[:200]
    if i >= 3:
        times.append(dt)
a = np.asarray(times)
print(json.dumps({"ids_per_call": batch, "calls": calls, "p50_ms": float(np.percentile(a, 50)),
                  "p99_ms": float(np.percentile(a, 99)), "timing": "request + response read + json.loads, client in Python"}))
