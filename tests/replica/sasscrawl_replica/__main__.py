"""Serve a replica of en.sass.cn locally, to crawl or browse by hand: ``python -m sasscrawl_replica``."""

from __future__ import annotations

import argparse
import threading

from .faults import FAULTS, HOSTILE_PAGES, NETWORK_FAULTS
from .server import ReplicaServer
from .site import build_site

FAULT_GROUPS = {"all": NETWORK_FAULTS | HOSTILE_PAGES, "network": NETWORK_FAULTS, "hostile": HOSTILE_PAGES}


def fault_names(value: str) -> frozenset[str]:
    """``all``, ``network``, ``hostile`` or comma-separated fault names."""
    names = set()
    for name in filter(None, (part.strip() for part in value.split(","))):
        if name not in FAULT_GROUPS and name not in FAULTS:
            raise argparse.ArgumentTypeError(f"unknown fault {name!r}; known: {', '.join([*FAULT_GROUPS, *FAULTS])}")
        names |= FAULT_GROUPS.get(name, {name})
    return frozenset(names)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sasscrawl_replica", description=__doc__)
    parser.add_argument("--articles", type=int, default=30, help="ordinary articles in the section (default 30)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--no-quirks", action="store_true", help="a clean site: no traps or bad inputs")
    parser.add_argument("--faults", type=fault_names, default=frozenset(),
                        help="fault mode: all, network, hostile or comma-separated fault names (default none)")
    args = parser.parse_args(argv)

    site = build_site(articles=args.articles, seed=args.seed, quirks=not args.no_quirks, faults=args.faults)
    with ReplicaServer(site, host=args.host, port=args.port) as server:
        print(f"Replica of en.sass.cn Commentary: {server.start_url}", flush=True)
        print(f"Crawl it: scrapy crawl commentary -a start_url={server.start_url}  (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
