"""kerasish: the Keras modeling API on kerasish's own tensor engine (``engine``)."""
__version__ = "0.1.0"
