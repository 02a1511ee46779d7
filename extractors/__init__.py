"""One module per source: URLs, fetching, parsing and the record contract it yields."""
