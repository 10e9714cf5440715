"""One module per bounded context: its service interface and DTOs, the only surface other contexts may use."""
