"""Public figures, the public log and oversight reports, computed from the register alone.

Modules: `periods` (what a period is), `records` (the only reader of the register: it loads
public-safe facts per request, never names, numbers, addresses or free text), `figures` (the
figures of a period), `public_log` (one row per request, and its CSV, JSON and Parquet
writers), `downloads` (the public log and the figures as CSV, JSON and Parquet, with the data
dictionary), `cfs` (monthly totals of calls for service), `reports`, `report_data`,
`report_content`, `report_html`, `report_pdf` and `oversight` (the offline report and the
oversight bodies' formats), `labels` (plain words for the codes).
"""
