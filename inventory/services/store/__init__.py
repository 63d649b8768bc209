"""How a change of stock is written (see inventory/services/store/base.py)."""
