"""stwbench: A/B-test Go runtime scheduler patches on real Go toolchains."""

__version__ = "0.1.0"
