"""``python -m airflow_provider_dialers.sandbox``: serve the four dialer APIs on localhost."""

from __future__ import annotations

import argparse
import sys

from airflow_provider_dialers.sandbox import DEFAULT_CREDENTIALS, connection_env
from airflow_provider_dialers.sandbox.core import SandboxConfig
from airflow_provider_dialers.sandbox.readings import PROFILES, parse_assignments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_dialers.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8899, help="port (default: 8899)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the seeded state and dialing outcomes")
    parser.add_argument("--dial-rate", type=float, default=0.0,
                        help="contacts per second each simulated dialer settles (0: only via POST /_sandbox/advance)")
    parser.add_argument("--ecm-token-ttl", type=float, default=36000.0, help="ECM token expires_in, seconds")
    parser.add_argument("--ameyo-session-timeout", type=float, default=180.0, help="Ameyo inactivity timeout, s")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="milliseconds added to every vendor request (a dialer across a network)")
    parser.add_argument("--max-in-flight", type=int, default=0,
                        help="vendor requests handled at once; one more is answered 503 with Retry-After: 1 "
                             "(default 0: no limit)")
    parser.add_argument("--readings", choices=PROFILES, default="first",
                        help="where the vendor references are silent: every switch's first or second reading "
                             "(docs/readings.md)")
    parser.add_argument("--reading", action="append", default=[], metavar="NAME=VALUE",
                        help="one switch's reading, on top of --readings (repeatable), e.g. ecm_page_base=1")
    parser.add_argument("--print-env", action="store_true",
                        help="print export lines for AIRFLOW_CONN_* pointing at this sandbox, and exit")
    args = parser.parse_args(argv)
    base_url = f"http://{args.host}:{args.port}"
    if args.print_env:
        for key, value in connection_env(base_url).items():
            print(f"export {key}='{value}'")
        return 0

    import uvicorn

    from airflow_provider_dialers.sandbox.app import create_app

    try:
        chosen = parse_assignments(args.reading)
    except ValueError as exc:
        parser.error(str(exc))
    config = SandboxConfig(seed=args.seed, dial_rate=args.dial_rate, ecm_token_ttl=args.ecm_token_ttl,
                           ameyo_session_timeout=args.ameyo_session_timeout, readings_profile=args.readings,
                           readings=chosen, latency_ms=args.latency_ms,
                           max_in_flight=args.max_in_flight)
    print(f"Dialer sandbox on {base_url}  (admin API and docs: {base_url}/_sandbox/docs)", file=sys.stderr)
    # Passwords are never printed (they would land in demo and CI output); docs/sandbox.md lists them.
    for vendor, creds in DEFAULT_CREDENTIALS.items():
        print(f"  {vendor:<11} login={creds['login']}", file=sys.stderr)
    try:
        app = create_app(config)
    except ValueError as exc:  # an unknown switch or choice
        parser.error(str(exc))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
