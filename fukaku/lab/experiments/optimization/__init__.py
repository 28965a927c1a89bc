"""Gradient descent and its learning rate (seed 003, seed 004 §3.6.1): the learning-rate schedules, run
through ``fukaku.optim.lr_scheduler`` and measured epoch by epoch."""
