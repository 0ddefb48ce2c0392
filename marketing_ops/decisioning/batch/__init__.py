"""The decision batch: its rows and statuses under the export contract (:mod:`.assemble`),
said in words (:mod:`.explain`), and recorded and replayed from the ledger (:mod:`.replay`).
The public names are re-exported by :mod:`marketing_ops.decisioning`."""
