"""The decision batch: its rows under the export contract (:mod:`.assemble`), why each action
has its status and the total-budget guardrail (:mod:`.status`), every batch kept
(:mod:`.history`), said in words (:mod:`.explain`), and recorded and replayed from the ledger
(:mod:`.replay`). The public names are re-exported by :mod:`marketing_ops.decisioning`."""
