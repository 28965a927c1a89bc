"""The lab's experiments, one subpackage per chapter or family of the textbook and, within it, one
module per experiment (named after its id): ``activations/``, ``classical/``, ``cnn/``, ``deep_nets/``,
``optimization/``, ``playground/``, ``regularization/``. :func:`fukaku.lab.registry.discover` finds
every :class:`~fukaku.lab.registry.Experiment` subclass in any module below this package."""
