"""Standard components against over-fitting and for stable training (seed 000 §6.1.4, seed 004 §3.6):
inverted dropout, BatchNorm and LayerNorm, weight decay and early stopping — each property the textbook
states, measured on fukaku's layers, optimizers and training loop."""
