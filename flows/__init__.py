"""Prefect flows of dossier-pipeline and the `dossier` command line."""

import os

# Prefect's embedded server writes a telemetry session row at start-up, racing the first
# flow-run writes on its SQLite database: the loser logs a "database is locked"
# traceback. The telemetry is of no use to a local pipeline run; turn it off unless the
# user set it (this must happen before prefect is imported).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
