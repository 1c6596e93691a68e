"""`pgscore demo`: the product end to end on the embedded database."""

from __future__ import annotations

import json


def run(args, say=print) -> int:
    from pgscore import migrate
    from pgscore.localdb import Cluster

    cluster = Cluster(data_dir=args.data_dir, port=args.port, log=say) if args.data_dir else \
        Cluster(port=args.port, log=say)
    say("== 1. embedded PostgreSQL")
    cluster.start()
    url = cluster.url()
    say(f"database: {url}")

    say("== 2. schema")
    before = migrate.current(url)
    report = migrate.upgrade(url)
    after = migrate.current(url)
    say(f"pgscore schema revision {before or 'none'} -> {after}")
    env = json.loads(report) if isinstance(report, str) else report
    say("inside the database: " + ", ".join(
        f"{k.replace('_', '-')} {env.get(k)}" for k in ("python", "pgscore", "scikit_learn", "numpy", "joblib")))

    say("== done")
    say(f"connect with: psql '{url}'")
    say("stop the database with: pgscore db stop")
    return 0
