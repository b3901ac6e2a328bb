"""Run the sandbox providers: python -m api.sandbox [--host H] [--port P] [--latency-ms MS]."""

import argparse

from api.sandbox.app import serve_sandbox
from api.sandbox.state import SandboxState


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m api.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="artificial latency added to every provider request")
    parser.add_argument("--timeout-fault-seconds", type=float, default=30.0,
                        help="how long a 'timeout' fault stalls a request")
    parser.add_argument("--receipt-delay-seconds", type=float, default=0.0,
                        help="how long before an Expo receipt is available (Expo: ~900)")
    args = parser.parse_args()
    state = SandboxState(
        latency_ms=args.latency_ms,
        timeout_fault_seconds=args.timeout_fault_seconds,
        receipt_delay_seconds=args.receipt_delay_seconds,
    )
    serve_sandbox(args.host, args.port, state)


if __name__ == "__main__":
    main()
