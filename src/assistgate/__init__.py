"""assistgate: review, decide, record and publish every request for police help from a federal immigration agency."""

__version__ = "0.1.0"
