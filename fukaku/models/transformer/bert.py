"""BERT-mini (Devlin et al. 2019) — seed 000 §6.4, seed 001 §9.4: a Transformer encoder pre-trained by masked
language modelling (MLM) and next-sentence prediction (NSP), then fine-tuned with a small head.

- Embeddings: token + learned position + segment (token type) embeddings, summed, LayerNorm, dropout.
- Encoder: post-LN ``nn.TransformerEncoderLayer``\\ s with GELU, as BERT's.
- Pooler: tanh(W h_[CLS] + b), the first token's output, for sentence-level heads.
- MLM: 15 % of the tokens are chosen (never padding or special tokens); of those 80 % become ``[MASK]``, 10 % a
  random token and 10 % stay as they were (:func:`mask_tokens`); the loss is −Σ_{chosen} log P(x_i | x_\\i),
  the cross-entropy on the chosen positions only (labels −100 elsewhere, ``ignore_index``). The output layer is
  tied to the token embeddings (its own bias only), after a dense–GELU–LayerNorm transform.
- NSP: a binary head on the pooled output: does segment B follow segment A?
- Fine-tuning: :class:`BertForSequenceClassification` puts a linear head on the pooled output of a (pre-trained)
  :class:`BertModel`.

The submodule names follow Hugging Face's BERT where PyTorch has no layer of its own (``embeddings.
word_embeddings``, ``pooler.dense``, ``cls``); the encoder is ``torch.nn.TransformerEncoder``'s, so the same model
written with ``torch.nn`` loads the state dict.
"""
from __future__ import annotations

from ... import nn
from ...errors import ShapeError
from ...nn import functional as F
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from ...ops.elementwise import where
from ...tensor import Tensor, arange, full_like, rand, randint, zeros, zeros_like

__all__ = ["BertEmbeddings", "BertModel", "BertForPreTraining", "BertForSequenceClassification", "mask_tokens",
           "IGNORE_INDEX"]

IGNORE_INDEX = -100   # the label of a position the MLM loss skips (cross_entropy's default ignore_index)


class BertEmbeddings(Module):
    """Token + position + segment embeddings → LayerNorm → dropout. ``forward(input_ids (N, T),
    token_type_ids (N, T) or None) → (N, T, d_model)``."""

    def __init__(self, vocab_size: int, d_model: int, max_len: int, type_vocab_size: int, dropout: float,
                 pad_token_id: int) -> None:
        super().__init__()
        self.max_len = max_len
        self.word_embeddings = nn.Embedding(vocab_size, d_model, padding_idx=pad_token_id)
        self.position_embeddings = nn.Embedding(max_len, d_model)
        self.token_type_embeddings = nn.Embedding(type_vocab_size, d_model)
        self.LayerNorm = nn.LayerNorm(d_model, eps=1e-12)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None) -> Tensor:
        if input_ids.dim() != 2:
            raise ShapeError(f"BertModel: input_ids must be (N, T) token ids, got shape {tuple(input_ids.shape)}")
        length = input_ids.shape[1]
        if length > self.max_len:
            raise ShapeError(f"BertModel: a sequence of {length} tokens is longer than the position table "
                             f"(max_len={self.max_len}); build the model with max_len ≥ {length} or truncate")
        if token_type_ids is None:
            token_type_ids = zeros_like(input_ids)
        elif tuple(token_type_ids.shape) != tuple(input_ids.shape):
            raise ShapeError(f"BertModel: token_type_ids {tuple(token_type_ids.shape)} must have input_ids' shape "
                             f"{tuple(input_ids.shape)}")
        h = (self.word_embeddings(input_ids) + self.position_embeddings(arange(length))
             + self.token_type_embeddings(token_type_ids))
        return self.dropout(self.LayerNorm(h))


class _Pooler(Module):
    def __init__(self, d_model: int) -> None:
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)

    def forward(self, hidden: Tensor) -> Tensor:
        return self.dense(hidden[:, 0]).tanh()


class BertModel(Module):
    """``BertModel(vocab_size, d_model=64, nhead=4, num_layers=2, dim_feedforward=None, max_len=128,
    type_vocab_size=2, dropout=0.1, pad_token_id=0)``: embeddings, encoder, pooler.

    ``forward(input_ids, token_type_ids=None, attention_mask=None) → (sequence_output (N, T, d), pooled (N, d))``;
    ``attention_mask`` (N, T) is 1 (or True) at real tokens, 0 at padding (Hugging Face's convention); when it
    is None, positions holding ``pad_token_id`` are masked.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int | None = None, max_len: int = 128, type_vocab_size: int = 2,
                 dropout: float = 0.1, pad_token_id: int = 0) -> None:
        super().__init__()
        self.vocab_size, self.d_model, self.pad_token_id = int(vocab_size), int(d_model), int(pad_token_id)
        self.embeddings = BertEmbeddings(vocab_size, d_model, max_len, type_vocab_size, dropout, pad_token_id)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout, "gelu",
                                           layer_norm_eps=1e-12, batch_first=True, norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.pooler = _Pooler(d_model)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None,
                attention_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h = self.embeddings(input_ids, token_type_ids)
        if attention_mask is None:
            padding = input_ids == self.pad_token_id
        elif tuple(attention_mask.shape) != tuple(input_ids.shape):
            raise ShapeError(f"BertModel: attention_mask {tuple(attention_mask.shape)} must have input_ids' shape "
                             f"{tuple(input_ids.shape)} (1 at real tokens, 0 at padding)")
        else:
            padding = attention_mask == 0
        h = self.encoder(h, src_key_padding_mask=padding)
        return h, self.pooler(h)


class _MLMHead(Module):
    """dense → GELU → LayerNorm, then the tied output layer: logits = h Eᵀ + b."""

    def __init__(self, d_model: int, vocab_size: int) -> None:
        super().__init__()
        self.dense = nn.Linear(d_model, d_model)
        self.LayerNorm = nn.LayerNorm(d_model, eps=1e-12)
        self.bias = Parameter(zeros(vocab_size))

    def forward(self, hidden: Tensor, embedding: Tensor) -> Tensor:
        return F.linear(self.LayerNorm(F.gelu(self.dense(hidden))), embedding, self.bias)


class BertForPreTraining(Module):
    """A :class:`BertModel` with the MLM head (tied to the token embeddings) and the NSP head.

    ``BertForPreTraining(vocab_size, **bert_options)``, or ``BertForPreTraining(bert=model)`` around a given
    :class:`BertModel`. ``forward(input_ids, token_type_ids=None, attention_mask=None) → (mlm_logits (N, T, V),
    nsp_logits (N, 2))``. :meth:`loss` is the MLM cross-entropy on the labelled positions plus, with
    ``nsp_labels``, the NSP cross-entropy.
    """

    def __init__(self, vocab_size: int | None = None, *, bert: BertModel | None = None, **options) -> None:
        super().__init__()
        if (vocab_size is None) == (bert is None):
            raise ValueError("BertForPreTraining: give either vocab_size (and BertModel's options) or bert=BertModel")
        self.bert = bert if bert is not None else BertModel(vocab_size, **options)
        self.mlm = _MLMHead(self.bert.d_model, self.bert.vocab_size)
        self.nsp = nn.Linear(self.bert.d_model, 2)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None,
                attention_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h, pooled = self.bert(input_ids, token_type_ids, attention_mask)
        return self.mlm(h, self.bert.embeddings.word_embeddings.weight), self.nsp(pooled)

    @staticmethod
    def loss(mlm_logits: Tensor, mlm_labels: Tensor, nsp_logits: Tensor | None = None,
             nsp_labels: Tensor | None = None) -> Tensor:
        """−mean_{labelled i} log P(x_i | x_\\i) (positions labelled −100 skipped), plus the NSP cross-entropy
        when ``nsp_labels`` is given."""
        loss = F.cross_entropy(mlm_logits.flatten(0, 1), mlm_labels.flatten(), ignore_index=IGNORE_INDEX)
        if nsp_labels is not None:
            loss = loss + F.cross_entropy(nsp_logits, nsp_labels)
        return loss


class BertForSequenceClassification(Module):
    """Fine-tuning: dropout and a linear head on the pooled output of a :class:`BertModel` (pass a pre-trained
    one as ``bert=``, e.g. ``pretrained.bert``). ``forward(...) → logits (N, num_labels)``."""

    def __init__(self, num_labels: int, vocab_size: int | None = None, *, bert: BertModel | None = None,
                 dropout: float = 0.1, **options) -> None:
        super().__init__()
        if (vocab_size is None) == (bert is None):
            raise ValueError("BertForSequenceClassification: give either vocab_size (and BertModel's options) or "
                             "bert=BertModel")
        self.bert = bert if bert is not None else BertModel(vocab_size, **options)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.bert.d_model, num_labels)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor | None = None,
                attention_mask: Tensor | None = None) -> Tensor:
        return self.classifier(self.dropout(self.bert(input_ids, token_type_ids, attention_mask)[1]))


def mask_tokens(input_ids: Tensor, vocab_size: int, mask_token_id: int, special_ids=(), probability: float = 0.15,
                generator=None) -> tuple[Tensor, Tensor]:
    """BERT's masking: choose each token with ``probability`` (never one of ``special_ids``, e.g. [PAD], [CLS],
    [SEP]); a chosen token becomes ``mask_token_id`` with probability 0.8, a uniformly random token with 0.1,
    and stays with 0.1.

    Returns ``(inputs, labels)``: the corrupted ids, and the original id at the chosen positions, −100
    (:data:`IGNORE_INDEX`) elsewhere, so the loss is taken on the chosen positions only.
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"mask_tokens: probability must lie in [0, 1], got {probability}")
    special = zeros_like(input_ids, dtype=bool)
    for token in special_ids:
        special = special | (input_ids == token)
    draw = rand(*input_ids.shape, generator=generator)
    chosen = (draw < probability) & ~special
    action = rand(*input_ids.shape, generator=generator)
    random_tokens = randint(0, vocab_size, tuple(input_ids.shape), generator=generator)
    inputs = where(chosen & (action < 0.8), full_like(input_ids, mask_token_id), input_ids)
    inputs = where(chosen & (action >= 0.8) & (action < 0.9), random_tokens, inputs)
    labels = where(chosen, input_ids, full_like(input_ids, IGNORE_INDEX))
    return inputs, labels
