"""gameday's Chaos Toolkit extension: faults for the lab, alert/notification/SLO probes, load.

Usable from any Chaos Toolkit experiment, with `chaos run` or `gameday run`.
`chaos discover gameday` lists every activity.
"""
