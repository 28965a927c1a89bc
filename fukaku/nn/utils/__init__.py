"""Utilities for training (``torch.nn.utils``): gradient clipping; ``rnn`` (padded and packed
sequences); truncated back-propagation through time (``bptt``, fukaku's own)."""
from . import rnn
from .bptt import detach_state, truncated_bptt
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .rnn import (PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence,
                  unpack_sequence, unpad_sequence)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "rnn", "PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence",
           "unpack_sequence", "unpad_sequence", "detach_state", "truncated_bptt"]
