"""Errors fukaku raises on purpose, so that users can catch them by kind."""


class ShapeError(ValueError):
    """Shapes that an op cannot combine. The message names the op, the shapes and a fix."""


class StateDictError(RuntimeError):
    """A state dict that does not fit the module (missing or unexpected keys, wrong shapes or
    dtypes). A RuntimeError, as PyTorch raises; the message names each key and the shapes."""
