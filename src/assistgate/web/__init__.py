"""The web service: the dispatch-system API and the screens. Thin: it calls the services."""
