"""Contact -> vendor record mappings, one module per vendor."""
