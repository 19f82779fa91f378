"""Usage from the network: record files read with a columnar engine (`files`), and their bulk import (`importer`).

The importer writes with bulk SQL of its own (COPY, temporary tables), so it sits beside the features rather
than among their use cases; its statements are still to move under `bascule.persistence`.
"""
