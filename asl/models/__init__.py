"""The model zoo per framework, behind one registry of names."""
