"""The USSD channel (#121#): a menu tree as data, walked by an engine, on the Line B use cases."""
