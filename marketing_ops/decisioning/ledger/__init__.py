"""What the agent decided and who allowed it, on record.

:mod:`.chain` is the one hash chain both ledgers are written in; :mod:`.decisions` holds the
decision batches and their payloads, :mod:`.approvals` the approvers' verdicts, and
:mod:`.autonomy` the run-time autonomy ceiling (kill switch, drift off-ramp). The public names
are re-exported by :mod:`marketing_ops.decisioning`.
"""
