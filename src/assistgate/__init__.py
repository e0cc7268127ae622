"""assistgate: review, decide, record and publish police help requested by immigration agencies."""

__version__ = "0.1.0"
