"""Budget decisions: next period's paid budget per channel (:mod:`.optimiser`) or campaign
(:mod:`.campaigns`), on the response curves under the budget policy. The public names are
re-exported by :mod:`marketing_ops.decisioning`."""
