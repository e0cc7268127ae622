"""One module per group of routes; each defines `router` (see `assistgate.web.routers`)."""
