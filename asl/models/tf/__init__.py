"""TensorFlow (Keras 3) models. Importing a model module registers its models."""
