"""Dialer hooks, one per vendor auth scheme. Import the vendor module you need, e.g.
``from airflow_provider_dialers.hooks.sinch import SinchObiHook``."""
