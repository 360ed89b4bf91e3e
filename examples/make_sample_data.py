"""Write sample files for the README walkthrough: a reference and a batch of events.

python examples/make_sample_data.py   # reference.csv (100,000 rows), events.json (10,000)
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path


def main(rows: int = 100_000, events: int = 10_000, seed: int = 7) -> None:
    rng = random.Random(seed)
    countries = ["DE", "FR", "US", "GB"]
    with Path("reference.csv").open("w") as out:
        out.write("amount,country,is_new,prediction\n")
        for _ in range(rows):
            amount = round(rng.lognormvariate(4, 0.6), 2)
            out.write(f"{amount},{rng.choice(countries)},{rng.random() < 0.2},{int(amount > 90)}\n")
    batch = [
        {
            "event_id": str(uuid.uuid4()),
            "model": "fraud",
            "features": {
                "amount": round(rng.lognormvariate(4.2, 0.6), 2),
                "country": rng.choice(countries),
                "is_new": rng.random() < 0.3,
            },
            "prediction": str(rng.randint(0, 1)),
        }
        for _ in range(events)
    ]
    Path("events.json").write_text(json.dumps({"events": batch}))
    print(f"wrote reference.csv ({rows} rows) and events.json ({events} events)")


if __name__ == "__main__":
    main()
