"""County-lines networks (issue 15): the link graph of the store (``links``,
``link_entities``) analysed with igraph and leidenalg.

``network_profile`` runs every analysis: components and communities matched to deal lines,
brokers and the people whose removal fragments a line, young people at risk with reasons,
cuckooing candidates, lines into the area by route and station, and change month to month;
with planted truth, accuracy beside a degree-ranking baseline. Person-level tables are for
the internal audience only (``privacy.networks``); each carries shortened pseudonyms.
"""

from harmscope.analysis.networks.profile import NetworkProfile, network_profile

__all__ = ["NetworkProfile", "network_profile"]
