"""Content decisions: candidate actions scored with intervals (:mod:`.scoring`) and chosen per
audience by bounded Thompson sampling after consent, caps, fatigue and compliance rules
(:mod:`.bandit`). The public names are re-exported by :mod:`marketing_ops.decisioning`."""
