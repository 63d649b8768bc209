"""Stock planning on plain data: ABC classes, demand forecasts, safety stock and reorder points.

Pure functions on series and figures; the selectors and tasks that read the ledger call them.
"""
