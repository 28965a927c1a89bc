"""Recurrent networks — seed 000 §6.1.7 (Elman network, LSTM, GRU), seed 001 §9.3 (recurrent networks,
bidirectional layers, encoder–decoder, attention), seed 004 §3.4 — built from ``fukaku.nn``'s
``RNN``/``LSTM``/``GRU`` with PyTorch's module names, so a state dict moves between a model here and the
same model written in PyTorch. The recurrent cell of every model is a constructor option,
``cell='lstm' | 'gru' | 'rnn'`` (``'rnn'``: the Elman network, tanh), and every model is **batch first**:
sequences are ``(N, T)`` token ids or ``(N, T, features)``.

- :class:`RNNEncoder` — a (bidirectional) recurrent encoder: outputs and the final state with the
  directions joined per layer (``encoder.py``);
- :class:`SequenceClassifier` — class scores from the last state (``classifier.py``);
- :class:`SequenceTagger` — scores at every step, bidirectional by default (``tagger.py``);
- :class:`CharLM` with :func:`sample_logits` — a character language model; ``generate`` with
  temperature, top-k, a prompt and a seed; an optional vocabulary that travels in ``config``
  (``char_lm.py``);
- :class:`Seq2Seq` — encoder–decoder without attention: teacher forcing in training, greedy decoding
  with ``max_length`` and an end token (``seq2seq.py``);
- :class:`BahdanauAttention` (additive), :class:`LuongAttention` (dot, general) — Modules returning
  ``(context, weights)``, with padded positions masked (``attention.py``);
- :class:`Seq2SeqAttention` — encoder–decoder with Bahdanau or Luong attention, optionally a
  bidirectional encoder; returns the attention weights for heat-maps (``seq2seq_attention.py``);
- :class:`ClockworkRNN` — Koutník et al. 2014: hidden modules updated at their own periods, named in
  seed 002 (``clockwork.py``).
"""
from .attention import BahdanauAttention, LuongAttention
from .char_lm import CharLM, sample_logits
from .classifier import SequenceClassifier
from .clockwork import ClockworkRNN
from .encoder import RNNEncoder
from .seq2seq import Seq2Seq
from .seq2seq_attention import Seq2SeqAttention
from .tagger import SequenceTagger

__all__ = ["RNNEncoder", "SequenceClassifier", "SequenceTagger", "CharLM", "sample_logits", "Seq2Seq",
           "BahdanauAttention", "LuongAttention", "Seq2SeqAttention", "ClockworkRNN"]
