"""Landmark extraction from video and camera, and the predictor that turns landmarks into signs."""
