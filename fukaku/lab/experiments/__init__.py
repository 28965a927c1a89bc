"""Experiment modules, one per claim family; each registers with ``fukaku.lab.registry.experiment``."""
