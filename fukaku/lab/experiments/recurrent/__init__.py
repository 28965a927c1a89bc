"""Recurrent networks (seed 000 §6.1.7, seed 001 §9.3, seed 002 ch. 2–4, seed 004 §3.4): why an Elman network
forgets what an LSTM or a GRU remembers (the adding problem and the copy task as the lag grows, the gradient
‖∂L/∂h_{t−k}‖ as it travels k steps back), exploding gradients and clipping, the parameter counts of the gated
cells, the two ways the textbooks write the LSTM, and what recurrent models built on them learn (sequence to
sequence with and without attention, the Clockwork RNN, character language models)."""
