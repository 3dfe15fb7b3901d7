"""The steps of dossier-pipeline as plain, typed functions (Prefect wrappers in steps.py)."""

import os

# Arrow's C++ Parquet readers and writers allocate from the memory pool chosen when pyarrow
# is first imported, whatever pyarrow.set_memory_pool says later; its default (mimalloc)
# kept what they freed: compacting a 100,000-row dataset left the process 250 MB larger.
# The system allocator gives it back (tasks/memory.py). Set before any module imports
# pyarrow; a user's own choice of pool is kept.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
