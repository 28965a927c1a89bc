"""Tokenizers (seed 000 §6.4; seed 003: vocabularies, UNK and subwords against OOV).

Text → tokens → ids, and back. Every tokenizer has ``vocab_size``, ``encode(text) -> list[int]``,
``decode(ids) -> str``, ``id_to_token``/``token_to_id``, ``to_dict()`` and ``save(path)``; :func:`load` and
:func:`from_dict` rebuild one, refusing a corrupt file or another kind or format version with a
:class:`TokenizerFormatError` (JSON only: nothing in a file is executed).

- :class:`CharTokenizer`: one token per character (the sorted set of the text's characters);
- :class:`WordTokenizer`: whitespace words with a vocabulary and an UNK token (seed 003's "Alice likes Bob");
- :class:`BPETokenizer`: byte-level byte-pair encoding as GPT-2 (Sennrich et al. 2016; Radford et al. 2019):
  256 byte tokens at the base, so no text is ever unknown and every UTF-8 text round-trips exactly;
- :class:`WordPieceTokenizer`: BERT's ``##`` continuation pieces, greedy longest match first, ``[UNK]``;
- :class:`UnigramTokenizer`: SentencePiece's unigram language model with the ``▁`` space marker (Kudo 2018):
  EM training with pruning, Viterbi segmentation.

``train_tokenizer("bpe:4000", text)`` trains any of them from a spec; ``fukaku tokenizer train|encode|decode``
is the command line.

Example::

    >>> import fukaku.text as text
    >>> tok = text.train_tokenizer("bpe:300", "the cat sat on the mat")
    >>> tok.decode(tok.encode("the rat")) == "the rat"
    True
"""
from .base import MAX_VOCAB, Tokenizer, TokenizerFormatError
from .bpe import BPETokenizer
from .char import CharTokenizer
from .io import from_dict, load, train_tokenizer
from .unigram import UnigramTokenizer
from .wordpiece import WordPieceTokenizer
from .words import WordTokenizer
from .word2vec import Word2Vec  # word vectors (seed 003): fukaku.text.word2vec

__all__ = ["Tokenizer", "TokenizerFormatError", "CharTokenizer", "WordTokenizer", "BPETokenizer",
           "WordPieceTokenizer", "UnigramTokenizer", "train_tokenizer", "from_dict", "load", "MAX_VOCAB", "Word2Vec"]
