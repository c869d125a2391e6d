"""Pure domain rules of the standards the dashboard applies (AQI, water class, traffic, scenic crowding, video)."""
