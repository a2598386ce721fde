"""TensorFlow (Keras 3) models. Importing a model module registers its models."""

from asl.extras import require

require("tensorflow", "tensorflow")
