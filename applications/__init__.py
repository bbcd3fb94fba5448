"""The model zoo (InceptionV3 and friends), written with the public kerasish API only."""
