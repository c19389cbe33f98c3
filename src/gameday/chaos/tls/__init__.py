"""Faults on the lab's TLS endpoint: swap its certificate for a short-lived, untrusted or
wrong-name one; restore or renew it."""
