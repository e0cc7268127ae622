"""Public figures, the public log and oversight reports, computed from the register alone.

Modules: `periods` (what a period is), `records` (the only reader of the register: it loads
public-safe facts per request, never names, numbers, addresses or free text), `figures` (the
figures of a period), `public_log` (one row per request, and its CSV, JSON and Parquet
writers), `cfs` (monthly totals of calls for service), `reports` and `oversight` (the offline
report and the oversight bodies' formats).
"""
