"""PyTorch models. Importing a model module registers its models."""
