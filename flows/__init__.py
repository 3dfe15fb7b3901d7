"""Prefect flows of dossier-pipeline and the `dossier` command line."""
