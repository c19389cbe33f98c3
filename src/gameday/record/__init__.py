"""The bottom layer every step writes to: the timeline, the fault ledger, the event log,
durable JSON files and redaction. Imports nothing of gameday but `model` and `errors`."""
