"""The stages of dossier-pipeline as plain, typed functions (Prefect wrappers in steps.py)."""
