"""A local replica of en.sass.cn's Commentary section, served over HTTP for tests and benchmarks.

The live site is unreachable; ``build_site()`` generates one in its exact page format, with
ground truth and the traps a crawler must survive (see ``site``), and ``ReplicaServer`` serves
it on 127.0.0.1 while logging every request. ``build_site(faults=...)`` adds the fault and attack
mode (see ``faults``). No Scrapy here: stdlib and Pillow only.
"""

from .content import Block
from .faults import FAULTS, HOSTILE_PAGES, NETWORK_FAULTS, Fault, FaultPlan, ForeignSite
from .server import ReplicaServer, RequestRecord
from .site import BAD_INPUTS, LINK_SPELLINGS, ArticleSpec, ReplicaSite, Response, SiteQuirks, build_site

__all__ = [
    "BAD_INPUTS", "FAULTS", "HOSTILE_PAGES", "LINK_SPELLINGS", "NETWORK_FAULTS", "ArticleSpec", "Block", "Fault",
    "FaultPlan", "ForeignSite", "ReplicaServer", "ReplicaSite", "RequestRecord", "Response", "SiteQuirks", "build_site",
]
