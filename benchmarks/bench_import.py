"""Import cost and time to first call, each in a fresh interpreter (figures, not pass/fail).

Prints `import tiktokshop` wall time and what `-X importtime` attributes to it, then for three
domains the time from a cold start to the first answered call (import, client, the domain's
first use, argument checks, signing, parsing) over an in-process transport, median of 5 runs.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

RUNS = 5

FIRST_CALL = r"""
import json, time
t0 = time.perf_counter()
import httpx
from tiktokshop import TikTokShop
t1 = time.perf_counter()
def answer(request):
    return httpx.Response(200, json={"code": 0, "message": "Success", "request_id": "r", "data": {}})
client = TikTokShop(app_key="k", app_secret="s", access_token="t", shop_cipher="c",
                    http_client=httpx.Client(transport=httpx.MockTransport(answer)))
t2 = time.perf_counter()
CALL
t3 = time.perf_counter()
CALL
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_call": t3 - t2, "second_call": t4 - t3, "total": t3 - t0}))
"""

CALLS = {
    "order": 'client.order.get_order_list(page_size=20, order_status="UNPAID")',
    "product": 'client.product.get_product("1729")',
    "fulfillment": 'client.fulfillment.get_package_shipping_document("p1", document_type="SHIPPING_LABEL")',
}


def run(code: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    plain = [
        run(
            "import json,time\nt=time.perf_counter()\nimport tiktokshop\n"
            "print(json.dumps({'import': time.perf_counter()-t}))"
        )["import"]
        for _ in range(RUNS)
    ]
    print(f"import tiktokshop: {statistics.median(plain) * 1000:.0f} ms (median of {RUNS})")
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import tiktokshop"],
        check=True,
        capture_output=True,
        text=True,
    ).stderr.splitlines()
    own = [line for line in trace if line.rstrip().endswith("| tiktokshop")]
    print("  -X importtime:", own[-1].split(":", 1)[1].strip() if own else "?", "(self us | cumulative us)")
    modules = [line.split("|")[-1].strip() for line in trace]
    print(f"  modules of the package loaded: {sorted(m for m in modules if m.startswith('tiktokshop'))}")
    for domain, call in CALLS.items():
        results = [run(FIRST_CALL.replace("CALL", call)) for _ in range(RUNS)]
        med = {k: statistics.median(r[k] for r in results) * 1000 for k in results[0]}
        print(
            f"first call, {domain}: {med['first_call']:.0f} ms (then {med['second_call']:.1f} ms); "
            f"cold start to first answer {med['total']:.0f} ms"
        )


if __name__ == "__main__":
    main()
