"""Errors fukaku raises on purpose, so that users can catch them by kind."""


class ShapeError(ValueError):
    """Shapes that an op cannot combine. The message names the op, the shapes and a fix."""
