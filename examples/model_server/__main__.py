"""``python -m examples.model_server --port 8001`` (settings from the environment)."""

from __future__ import annotations

import argparse
import os

import uvicorn

from examples.model_server.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8001")))
    args = parser.parse_args()
    app = create_app(
        model_name=os.environ.get("MODEL_NAME", "credit-scoring"),
        transport=os.environ.get("DRIFTLINE_TRANSPORT", "http://127.0.0.1:8000"),
        api_key=os.environ.get("DRIFTLINE_API_KEY"),
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
