"""Live enrichment sensors (new customers, segment entrants) live here."""
