"""Hyperparameter search (`asl tune`): the search space, Ray Tune with MLflow, the best params fragment."""
