"""P5 the sandbox is not the bottleneck: small JSON requests per second it serves on this machine,
measured with the lean client (:mod:`bench.lean_client`), per vendor API.

Run: ``python -m bench.p5_sandbox [--requests 20000]``.
"""

from __future__ import annotations

import argparse
import base64
import json
from typing import Any

import requests

from bench.baselines import ameyo_session_id, ecm_headers, sinch_headers
from bench.common import credentials, sandbox_process
from bench.lean_client import raw_request, send_all

TARGET = 1000.0
CONNECTIONS = 8


def _small_requests(base_url: str) -> dict[str, bytes]:
    """One small authenticated JSON read per vendor (a campaign or its list)."""
    session = requests.Session()
    mc = credentials("maxcontact")
    mc_token = session.get(f"{base_url}/webservices/services/apitoken/login/{mc['login']}", timeout=30,
                           headers={"Authorization": base64.b64encode(mc["password"].encode()).decode(),
                                    "Accept": "application/json"}).json()["TokenKey"]
    session_id = ameyo_session_id(base_url, session)
    return {
        "ExpertFlow ECM GET /umm/ecm/campaign": raw_request(
            "GET", "/umm/ecm/campaign", headers=ecm_headers(base_url, session)),
        "Sinch GET /RI/obi/campaigns/{id}": raw_request(
            "GET", "/RI/obi/campaigns/62718C7889CC44F7B944C1A6F6BE9B7F", headers=sinch_headers()),
        "MaxContact GET campaigns": raw_request(
            "GET", "/webservices/services/management/campaigns",
            headers={"Cookie": f"TokenKey={mc_token}", "Accept": "application/json"}),
        "Ameyo command=getLeadsForCampaign": raw_request(
            "POST", "/ameyowebaccess/command",
            form={"command": "getLeadsForCampaign", "data": json.dumps({"campaignId": 1, "sessionId": session_id})}),
    }


def run(count: int = 20_000) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with sandbox_process() as sandbox:
        for name, request in _small_requests(sandbox.url).items():
            lean = send_all(sandbox.url, [request] * count, connections=CONNECTIONS)
            results[name] = {"per_second": lean.per_second, "statuses": lean.statuses}
            if not lean.ok:
                raise RuntimeError(f"P5 {name}: answers {lean.statuses}")
    slowest = min(r["per_second"] for r in results.values())
    summary = {"endpoints": results, "slowest_per_second": slowest, "target": TARGET, "ratio": slowest / TARGET,
               "met": slowest >= TARGET, "requests_each": count}
    print(format_line(summary), flush=True)
    return summary


def format_line(s: dict[str, Any]) -> str:
    per = ", ".join(f"{name.split()[0]} {r['per_second']:.0f}/s" for name, r in s["endpoints"].items())
    return (f"P5 sandbox small JSON requests: slowest {s['slowest_per_second']:.0f}/s = {s['ratio']:.1f}x "
            f"the {s['target']:.0f}/s target | {per}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    run(parser.parse_args().requests)


if __name__ == "__main__":
    main()
