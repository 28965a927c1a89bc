"""Attention and Transformers (seed 000 §6.3–6.5, seed 001 §9.4 — the Transformer lecture): what attention
computes (rows that sum to 1, the √d_k scaling, permutation equivariance without positions, the causal mask), pre-LN
against post-LN, and what the models built on it learn — GPT, BERT, the encoder–decoder and T5-style
text-to-text, ViT against a CNN, CLIP with linear CCA beside it — with tokenizers and parameter counts."""
