"""``python -m examples.retraining_receiver --port 9000`` with ``WEBHOOK_SECRET`` set."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from examples.retraining_receiver.app import make_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "9000")))
    parser.add_argument("--log", type=Path, default=Path(os.environ.get("LOG", "webhooks.jsonl")))
    args = parser.parse_args()
    secret = os.environ["WEBHOOK_SECRET"]
    server = make_server(args.host, args.port, secret, args.log)
    print(f"retraining receiver on http://{args.host}:{args.port}, logging to {args.log}")
    server.serve_forever()


if __name__ == "__main__":
    main()
