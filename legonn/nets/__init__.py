"""The paper's building blocks: encoder, OLC, ingestors, decoder and module interfaces."""
