"""Usage from the network: record files read with a columnar engine (`files`), and their bulk import (`importer`).

The import's statements (COPY, temporary tables, writes in bulk) are in `bascule.persistence.usage`, behind
`ports.UsageImports`.
"""
