"""Apache Airflow provider for outbound dialers: ExpertFlow ECM, MaxContact, Sinch OBI, Ameyo."""

from __future__ import annotations

__version__ = "0.1.0"
