"""Supervisor analytics: the desk's KPIs as SQL over the application database and Rasa's tracker store.

`queries` holds the SQL (one statement per KPI family, portable between SQLite and PostgreSQL),
`kpis` the definitions and the pure arithmetic that rolls daily rows into periods and rates,
`charts` the SVG rendering, and `service` the engine, the data version and the per-range cache.
Definitions, with numerator, denominator and period, are in docs/analytics.md.
"""
