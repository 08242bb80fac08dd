"""depthzoo: monocular depth estimation model zoo."""
__version__ = "0.1.0"
