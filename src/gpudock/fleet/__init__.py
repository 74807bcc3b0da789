"""gpudock over many hosts through Ansible: ``fleet doctor``, ``fleet install``, ``fleet bench`` (docs/fleet.md).

Ansible itself (the ``fleet`` extra) is imported only when a fleet command runs against hosts; the
replay of a recorded run (notebook 07) needs none of it.
"""
