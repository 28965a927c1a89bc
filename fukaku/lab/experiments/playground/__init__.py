"""The TensorFlow Playground exercise of seed 003, replayed with fukaku."""
