"""Record contracts, warehouse tables and expectation suites. Imports nothing from the project."""
