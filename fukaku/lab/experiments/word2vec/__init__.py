"""word2vec (seed 003: self-supervised learning, Mikolov et al. 2013): the pseudo-labelled data a window makes
(seed 003's CBOW table, window 2, NA padding), the analogies that vector offsets answer (b − a + c, on a corpus with
planted relations), and the nearest neighbours that words used alike get on real text (tiny-shakespeare, neko.txt),
all trained with :mod:`fukaku.text.word2vec`."""
