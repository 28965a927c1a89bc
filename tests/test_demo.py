"""`make demo`: the raw-tensor MLP separates the two spirals."""
from fukaku.demo import train


def test_demo_mlp_separates_the_spiral():
    train_acc, test_acc = train(epochs=300, quiet=True)
    assert train_acc >= 0.95 and test_acc >= 0.95
